"""The suite's temporary directory: root filesystem, cases, state roots."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BUSYBOX = "/bin/busybox"
# mount points exist beforehand because the shared root is read-only
MOUNT_POINTS = ("proc", "dev", "sys", "tmp", "out", "mnt", "data")
MARKER = "/conformance/rootfs-marker"
PATH_PROBE = "/conformance/bin/probe-in-path"
INSIDE_HOOK = "/conformance/hook-in-container"
_PATH_PROBE_TEXT = "#!/bin/sh\necho found-through-path\n"
# a startContainer hook that exists only in the container's root filesystem
_INSIDE_HOOK_TEXT = "#!/bin/sh\ncat > /out/inside-hook.stdin\n"


class Workspace:
    """One temporary directory that holds everything a run writes to disk."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="pyrunc-conformance-"))
        os.chmod(self.dir, 0o755)
        self.rootfs = self.dir / "rootfs"
        self.cgroup_parent = f"pyrunc-conformance-{os.getpid()}"
        self._ids = itertools.count(1)

    def make_rootfs(self) -> None:
        """Fill the shared root filesystem: busybox, its applets, probes.

        Raises:
            OSError, subprocess.CalledProcessError: busybox is missing.
        """
        fill_rootfs(self.rootfs)

    def new_id(self, prefix: str) -> str:
        """Return a container id not used before in this run."""
        return f"{prefix}-{next(self._ids)}"

    def case_dir(self, runtime: str, number: int) -> Path:
        """Make and return the directory of one requirement run."""
        directory = self.dir / "cases" / runtime / str(number)
        directory.mkdir(parents=True)
        return directory

    def state_dir(self) -> Path:
        """Return the directory that holds each runtime's state root."""
        return self.dir / "state"


def fill_rootfs(rootfs: Path) -> None:
    """Make a busybox root filesystem at rootfs.

    Raises:
        OSError, subprocess.CalledProcessError: busybox is missing.
    """
    bin_dir = rootfs / "bin"
    bin_dir.mkdir(parents=True)
    shutil.copy2(BUSYBOX, bin_dir / "busybox")
    for applet in _applets():
        if applet != "busybox":
            (bin_dir / applet).symlink_to("busybox")

    etc = rootfs / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\n")
    for name in MOUNT_POINTS:
        (rootfs / name).mkdir(mode=0o755)
    _write(rootfs, MARKER, "rootfs\n", 0o644)
    _write(rootfs, PATH_PROBE, _PATH_PROBE_TEXT, 0o755)
    _write(rootfs, INSIDE_HOOK, _INSIDE_HOOK_TEXT, 0o755)


def _write(rootfs: Path, inside: str, text: str, mode: int) -> None:
    path = rootfs / inside.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _applets() -> list[str]:
    listing = subprocess.run(
        [BUSYBOX, "--list"], check=True, capture_output=True, text=True
    )
    return listing.stdout.split()
