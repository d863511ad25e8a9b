"""Run the suite in a private mount namespace of its own.

crun 1.8 refuses a cgroup v1 host whose unified hierarchy is mounted, so the
suite re-executes itself under `unshare --mount --propagation private` and
unmounts /sys/fs/cgroup/unified there. The host's mounts stay as they are,
and every mount a test makes dies with the namespace at the latest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from benchlib.mounts import mounted_under

UNIFIED = "/sys/fs/cgroup/unified"
_OUTER = "PYRUNC_CONFORMANCE_OUTER_MNTNS"


def _mount_namespace() -> str:
    return os.readlink("/proc/self/ns/mnt")


def _reexec(script: str) -> None:
    unshare = shutil.which("unshare")
    if unshare is None:
        raise SystemExit("conformance: unshare (util-linux) is not installed")
    argv = [unshare, "--mount", "--propagation", "private"]
    argv += [sys.executable, script, *sys.argv[1:]]
    os.execve(unshare, argv, dict(os.environ, **{_OUTER: _mount_namespace()}))


def enter(script: str) -> None:
    """Re-execute script in a private mount namespace, or finish entering one.

    The first call replaces the process and does not return; in the
    re-executed script it checks that the namespace is new and unmounts the
    unified cgroup hierarchy there.

    Raises:
        SystemExit: not root, unshare missing, or the namespace is not new.
    """
    if os.geteuid() != 0:
        raise SystemExit("conformance: must run as root")
    outer = os.environ.pop(_OUTER, None)
    if outer is None:
        _reexec(os.path.abspath(script))
    if outer == _mount_namespace():
        raise SystemExit("conformance: unshare did not make a new mount namespace")

    if mounted_under(UNIFIED):
        subprocess.run(["umount", UNIFIED], check=True)
