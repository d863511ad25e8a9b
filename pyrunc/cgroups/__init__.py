"""Cgroup placement of a container: where its cgroup is, joining it, removing it.

Both cgroup versions stand behind one ``Manager``. A v1 (or hybrid) host gets
one directory per mounted hierarchy; a pure v2 host gets one directory in the
unified tree. Resource limits are written by the version's own module.
"""

from __future__ import annotations

import errno
import os
import time

from pyrunc.errors import CgroupError
from pyrunc.log import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc._sys import Step

log = get_logger(__name__)

CGROUP_ROOT = "/sys/fs/cgroup"


class Hierarchy:
    """One mounted cgroup hierarchy: its mount point and our own cgroup in it.

    name is "memory", "cpu,cpuacct", "name=systemd"..., or "" for v2.
    """

    def __init__(self, name: str, mountpoint: str, own_path: str) -> None:
        self.name = name
        self.mountpoint = mountpoint
        self.own_path = own_path


def _own_cgroups() -> dict[str, str]:
    own: dict[str, str] = {}
    with open("/proc/self/cgroup", encoding="utf-8") as f:
        for line in f:
            _, names, path = line.rstrip("\n").split(":", 2)
            own[names] = path
    return own


def _mounted_hierarchies() -> list[tuple[str, str, str]]:
    """Return (fstype, mountpoint, super options) of each cgroup mount."""
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            fstype, super_opts = fields[sep + 1], fields[sep + 3]
            if fstype in ("cgroup", "cgroup2"):
                found.append((fstype, fields[4], super_opts))
    return found


def is_unified() -> bool:
    """Tell whether the host runs cgroup v2 alone."""
    return os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers"))


def hierarchies() -> list[Hierarchy]:
    """Return the hierarchies a container joins on this host."""
    own = _own_cgroups()
    if is_unified():
        return [Hierarchy("", CGROUP_ROOT, own.get("", "/"))]
    mounts = [
        (mp, set(opts.split(",")))
        for t, mp, opts in _mounted_hierarchies()
        if t == "cgroup"
    ]
    result = []
    for names, own_path in own.items():
        # a hybrid host's v2 tree (names "") is left alone, as runc does
        wanted = set(names.split(","))
        mountpoint = next((mp for mp, opts in mounts if names and wanted <= opts), None)
        if mountpoint:
            result.append(Hierarchy(names, mountpoint, own_path))
    return result


class Manager:
    """The cgroup directories of one container."""

    def __init__(self, cgroups_path: str, paths: dict[str, str] | None = None) -> None:
        self.cgroups_path = cgroups_path
        self.paths = paths if paths is not None else self._resolve(cgroups_path)

    @staticmethod
    def _resolve(cgroups_path: str) -> dict[str, str]:
        if ".." in cgroups_path.split("/"):
            raise CgroupError(
                f"linux.cgroupsPath: {cgroups_path}: must not contain '..'"
            )
        paths = {}
        for h in hierarchies():
            if cgroups_path.startswith("/"):
                inner = cgroups_path
            else:
                inner = os.path.join(h.own_path, cgroups_path)
            paths[h.name] = os.path.normpath(h.mountpoint + "/" + inner)
        return paths

    def create(self) -> None:
        """Create the container's directories.

        Raises:
            CgroupError: a directory cannot be made.
        """
        for name, path in self.paths.items():
            try:
                os.makedirs(path, exist_ok=True)
                if "cpuset" in name.split(","):
                    _inherit_cpuset(path)
            except OSError as err:
                raise CgroupError(f"create cgroup {path}: {_reason(err)}") from err
            log.debug("created cgroup %s", path)

    def add(self, pid: int) -> None:
        """Move pid into the container's cgroup in every hierarchy.

        Raises:
            CgroupError: a write to cgroup.procs failed.
        """
        for path in self.paths.values():
            try:
                with open(
                    os.path.join(path, "cgroup.procs"), "w", encoding="utf-8"
                ) as f:
                    f.write(str(pid))
            except OSError as err:
                raise CgroupError(f"join cgroup {path}: {_reason(err)}") from err

    def pids(self) -> list[int]:
        """Return the pids in the container's cgroup."""
        path = next(iter(self.paths.values()), None)
        if path is None:
            return []
        try:
            with open(os.path.join(path, "cgroup.procs"), encoding="utf-8") as f:
                return [int(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def destroy(self) -> None:
        """Remove the container's directories, waiting briefly for exiting tasks.

        Raises:
            CgroupError: a directory is still busy after the wait.
        """
        for path in self.paths.values():
            _rmdir_tree(path)

    def mount_steps(self) -> list[Step]:
        """Return a bind mount of each hierarchy's cgroup, for /sys/fs/cgroup."""
        from pyrunc._sys import OP, Step  # the executor only when creating
        from pyrunc.process import mountopts as mo

        steps = []
        for name, path in self.paths.items():
            sub = name.replace("name=", "") if name else "."
            steps.append(
                Step(
                    OP.PYRUNC_OP_MOUNT_IN_ROOT,
                    f"bind mount cgroup {path}",
                    target=sub,
                    source=path,
                    flags=mo.MS_BIND | mo.MS_REC,
                )
            )
        return steps


def _reason(err: OSError) -> str:
    return (err.strerror or str(err)).lower()


def _inherit_cpuset(path: str) -> None:
    """Fill empty v1 cpuset.cpus and cpuset.mems from the parent, top down.

    A v1 cpuset cgroup starts empty and refuses tasks until both are set.
    """
    parent = os.path.dirname(path)
    if not os.path.exists(os.path.join(parent, "cpuset.cpus")):
        return
    _inherit_cpuset(parent)
    for name in ("cpuset.cpus", "cpuset.mems"):
        with open(os.path.join(path, name), "r+", encoding="utf-8") as f:
            if f.read().strip():
                continue
            with open(os.path.join(parent, name), encoding="utf-8") as p:
                f.write(p.read().strip())


def _rmdir_tree(path: str) -> None:
    if not os.path.isdir(path):
        return
    for entry in os.scandir(path):
        if entry.is_dir(follow_symlinks=False):
            _rmdir_tree(entry.path)
    for _ in range(100):
        try:
            os.rmdir(path)
            log.debug("removed cgroup %s", path)
            return
        except FileNotFoundError:
            return
        except OSError as err:
            if err.errno != errno.EBUSY:
                raise CgroupError(f"remove cgroup {path}: {_reason(err)}") from err
            time.sleep(0.01)
    raise CgroupError(f"remove cgroup {path}: device or resource busy")
