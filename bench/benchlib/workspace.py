"""The benchmark's temporary directory: root filesystem, bundles, state roots."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from benchlib.config import container_config

BUSYBOX = "/bin/busybox"
_MOUNT_POINTS = ("proc", "dev", "sys", "tmp")


class Workspace:
    """One temporary directory that holds everything a run writes to disk."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="pyrunc-bench-"))
        self.rootfs = self.dir / "rootfs"
        self.cgroup_parent = f"pyrunc-bench-{os.getpid()}"
        self._ids = itertools.count(1)

    def make_rootfs(self) -> None:
        """Fill the shared root filesystem with busybox and its applet links.

        Mount points exist beforehand because the root is read-only and many
        containers start at once.

        Raises:
            OSError, subprocess.CalledProcessError: busybox is missing.
        """
        bin_dir = self.rootfs / "bin"
        bin_dir.mkdir(parents=True)
        shutil.copy2(BUSYBOX, bin_dir / "busybox")
        for applet in _applets():
            if applet != "busybox":
                (bin_dir / applet).symlink_to("busybox")

        etc = self.rootfs / "etc"
        etc.mkdir()
        (etc / "passwd").write_text("root:x:0:0:root:/:/bin/sh\n")
        (etc / "group").write_text("root:x:0:\n")
        for name in _MOUNT_POINTS:
            (self.rootfs / name).mkdir()

    def new_id(self, prefix: str) -> str:
        """Return a container id not used before in this run."""
        return f"{prefix}-{next(self._ids)}"

    def bundle(self, container_id: str, args: list[str]) -> Path:
        """Write the bundle for container_id, whose process runs args."""
        bundle = self.dir / "bundles" / container_id
        bundle.mkdir(parents=True)
        cgroups_path = f"{self.cgroup_parent}/{container_id}"
        config = container_config(str(self.rootfs), args, cgroups_path)
        (bundle / "config.json").write_text(json.dumps(config, indent=2))
        return bundle

    def state_root(self, runtime: str) -> Path:
        """Return the state directory (--root) for one runtime."""
        root = self.dir / "state" / runtime
        root.mkdir(parents=True, exist_ok=True)
        return root


def _applets() -> list[str]:
    listing = subprocess.run(
        [BUSYBOX, "--list"], check=True, capture_output=True, text=True
    )
    return listing.stdout.split()
