"""Run the benchmark (or the conformance suite) in a private mount namespace.

crun 1.8 refuses a cgroup v1 host whose unified hierarchy is mounted. The
tool unmounts /sys/fs/cgroup/unified, but only in a mount namespace it made
for itself, so the host's mounts stay as they are, every mount a run makes
dies with the namespace at the latest, and every runtime is called
directly, with no wrapper process in the timings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from benchlib.mounts import mounted_under

UNIFIED = "/sys/fs/cgroup/unified"
_OUTER = "PYRUNC_TOOL_OUTER_MNTNS"


def _mount_namespace() -> str:
    return os.readlink("/proc/self/ns/mnt")


def _reexec(script: str, tool: str) -> None:
    unshare = shutil.which("unshare")
    if unshare is None:
        raise SystemExit(f"{tool}: unshare (util-linux) is not installed")
    argv = [unshare, "--mount", "--propagation", "private"]
    argv += [sys.executable, script, *sys.argv[1:]]
    os.execve(unshare, argv, dict(os.environ, **{_OUTER: _mount_namespace()}))


def enter(script: str, tool: str = "bench") -> None:
    """Re-execute script in a private mount namespace, or finish entering one.

    The first call replaces the process with `unshare ... python script` and
    does not return; in the re-executed script it checks that the namespace
    is new and unmounts the unified cgroup hierarchy there.

    Raises:
        SystemExit: not root, unshare missing, or the namespace is not new;
            the message starts with tool.
    """
    if os.geteuid() != 0:
        raise SystemExit(f"{tool}: must run as root")
    outer = os.environ.pop(_OUTER, None)
    if outer is None:
        _reexec(os.path.abspath(script), tool)
    if outer == _mount_namespace():
        raise SystemExit(f"{tool}: unshare did not make a new mount namespace")

    if mounted_under(UNIFIED):
        subprocess.run(["umount", UNIFIED], check=True)
