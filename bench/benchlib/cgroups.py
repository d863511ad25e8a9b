"""Find, measure and remove the cgroups of the containers a harness starts.

The benchmark and the conformance suite both give containers a relative
cgroupsPath, `<parent>/<id>`. runc and pyrunc resolve it under the caller's
own cgroup in each hierarchy; crun 1.8 on cgroup v1 puts it under the
hierarchy's top. The look-ups and the removal search both places, in every
hierarchy.
"""

from __future__ import annotations

import errno
import os
import time
from dataclasses import dataclass
from pathlib import Path

from benchlib.mounts import Mount, mounts


@dataclass(frozen=True)
class Hierarchy:
    """One mounted cgroup hierarchy and this process's cgroup in it."""

    mount: Mount
    own_path: str

    def directory(self, cgroup_path: str) -> Path:
        """Return the directory of an absolute cgroup path in this hierarchy."""
        inside = os.path.relpath(cgroup_path, self.mount.root)
        return Path(os.path.normpath(os.path.join(self.mount.mountpoint, inside)))

    def controllers(self) -> frozenset[str]:
        """Return the controllers (v1) bound to this hierarchy."""
        return self.mount.super_options


def cgroup_lines(pid: int | str) -> list[tuple[frozenset[str], str]]:
    """Return (controllers, path) for each line of /proc/PID/cgroup."""
    lines = []
    with open(f"/proc/{pid}/cgroup", encoding="utf-8") as table:
        for line in table:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            lines.append((frozenset(filter(None, controllers.split(","))), path))
    return lines


def _matches(mount: Mount, controllers: frozenset[str]) -> bool:
    if mount.fstype == "cgroup2":
        return not controllers
    return (
        mount.fstype == "cgroup"
        and bool(controllers)
        and (controllers <= mount.super_options)
    )


def _path_in(mount: Mount, lines: list[tuple[frozenset[str], str]]) -> str | None:
    for controllers, path in lines:
        if _matches(mount, controllers):
            return path
    return None


def hierarchies() -> list[Hierarchy]:
    """Return the cgroup hierarchies mounted in this mount namespace."""
    own = cgroup_lines("self")
    found = []
    for mount in mounts():
        path = _path_in(mount, own)
        if path is not None:
            found.append(Hierarchy(mount, path))
    return found


def controller_hierarchy(controller: str) -> Hierarchy | None:
    """Return the v1 hierarchy a controller is mounted in, if any."""
    for hierarchy in hierarchies():
        if hierarchy.mount.fstype == "cgroup" and controller in hierarchy.controllers():
            return hierarchy
    return None


def process_cgroup(pid: int, controller: str) -> tuple[str, Path] | None:
    """Return the cgroup path of pid in a controller and its host directory."""
    hierarchy = controller_hierarchy(controller)
    if hierarchy is None:
        return None
    path = _path_in(hierarchy.mount, cgroup_lines(pid))
    if path is None:
        return None
    return path, hierarchy.directory(path)


def dirs_named(parent: str) -> list[Path]:
    """Return every existing cgroup directory named parent that we may own."""
    found: list[Path] = []
    for hierarchy in hierarchies():
        for base in (hierarchy.own_path, hierarchy.mount.root):
            directory = hierarchy.directory(os.path.join(base, parent))
            if directory.is_dir() and directory not in found:
                found.append(directory)
    return found


def procs_in(directories: list[Path]) -> set[int]:
    """Return the pids of every process in these cgroups or below them."""
    pids: set[int] = set()
    for directory in directories:
        for current, _, files in os.walk(directory):
            if "cgroup.procs" in files:
                text = Path(current, "cgroup.procs").read_text()
                pids.update(int(word) for word in text.split())
    return pids


def _rmdir(directory: str, attempts: int = 50) -> None:
    for _ in range(attempts - 1):
        try:
            os.rmdir(directory)
            return
        except OSError as err:
            if err.errno != errno.EBUSY:
                raise
        time.sleep(0.02)
    os.rmdir(directory)


def remove(directories: list[Path]) -> None:
    """Remove these cgroups and every cgroup below them, deepest first.

    Raises:
        OSError: a cgroup still holds a process after about a second.
    """
    for directory in directories:
        for current, _, _ in os.walk(directory, topdown=False):
            _rmdir(current)


def memory_usage_bytes(pid: int) -> int | None:
    """Return memory.usage_in_bytes (or v2 memory.current) of pid's cgroup."""
    lines = cgroup_lines(str(pid))
    for hierarchy in hierarchies():
        path = _path_in(hierarchy.mount, lines)
        if path is None:
            continue
        directory = hierarchy.directory(path)
        for name in ("memory.usage_in_bytes", "memory.current"):
            if (directory / name).exists():
                return int((directory / name).read_text())
    return None
