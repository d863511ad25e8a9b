"""Cgroup placement of a container: where its cgroup is, joining it, removing it.

Both cgroup versions stand behind one ``Manager``. A v1 (or hybrid) host gets
one directory per mounted hierarchy; a pure v2 host gets one directory in the
unified tree. Resource limits, the freezer, statistics and OOM notices are
the version's own module's (``v1``, ``v2``), imported only by the commands
that use them.
"""

from __future__ import annotations

import errno
import os
import time
from _signal import SIGKILL  # signal's C half; no enum import

from pyrunc.errors import CgroupError, PyruncError, StateError
from pyrunc.log import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pyrunc._sys import Step
    from pyrunc.cgroups import v1, v2
    from pyrunc.state import Store

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
    mounted = _mounted_hierarchies()
    mounts = [(mp, set(opts.split(","))) for t, mp, opts in mounted if t == "cgroup"]
    # a hybrid host's v2 tree (names "") is joined too, as runc joins it
    mounts += [(mp, {""}) for t, mp, _ in mounted if t == "cgroup2"]
    result = []
    for names, own_path in own.items():
        wanted = set(names.split(","))
        mountpoint = next((mp for mp, opts in mounts if wanted <= opts), None)
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
                if self.unified:
                    from pyrunc.cgroups import v2

                    v2.enable_controllers(path)
            except OSError as err:
                raise CgroupError(f"create cgroup {path}: {reason(err)}") from err
            log.debug("created cgroup %s", path)

    def add(self, pid: int, below: dict[str, str] | None = None) -> None:
        """Move pid into the container's cgroup in every hierarchy.

        below maps controller names to an existing cgroup under the
        container's to join instead; "" stands for every controller not
        named.

        Raises:
            CgroupError: a controller in below is not mounted, a path in it
                leaves the container's cgroup, or a write to cgroup.procs
                failed.
        """
        below = below or {}
        if below:  # only exec --cgroup names cgroups below; create never does
            self._check_below(below)
        for name, path in self.paths.items():
            sub = next((below[c] for c in name.split(",") if c in below), None)
            sub = below.get("", "") if sub is None else sub
            target = os.path.join(path, sub.lstrip("/")) if sub else path
            try:
                with open(
                    os.path.join(target, "cgroup.procs"), "w", encoding="utf-8"
                ) as f:
                    f.write(str(pid))
            except OSError as err:
                raise CgroupError(f"join cgroup {target}: {reason(err)}") from err

    def _check_below(self, below: dict[str, str]) -> None:
        mounted = {c for name in self.paths for c in name.split(",")}
        for controller, sub in below.items():
            if controller and self.unified:
                raise CgroupError(
                    f"{controller}:{sub}: cgroup v2 has one path for every"
                    " controller; give the path alone"
                )
            if controller not in mounted | {""}:
                raise CgroupError(f"{controller}:{sub}: no cgroup hierarchy has it")
            if ".." in sub.split("/"):
                raise CgroupError(f"{sub}: must not contain '..'")

    def pids(self) -> list[int]:
        """Return the pids in the container's cgroup and the cgroups below it."""
        path = self.paths.get("freezer") or next(iter(self.paths.values()), None)
        return _pids_below(path) if path else []

    def destroy(self) -> None:
        """Remove the container's directories, waiting briefly for exiting tasks.

        Raises:
            CgroupError: a directory is still busy after the wait.
        """
        for path in self.paths.values():
            _rmdir_tree(path)

    @property
    def unified(self) -> bool:
        """Tell whether the container's cgroup is in a v2 tree alone."""
        return list(self.paths) == [""]

    def _version(self) -> Any:
        if self.unified:
            from pyrunc.cgroups import v2

            return v2
        from pyrunc.cgroups import v1

        return v1

    def _where(self) -> Any:
        return self.paths[""] if self.unified else self.paths

    def apply(self, resources: dict[str, Any], devices: bool = True) -> None:
        """Write linux.resources into the container's cgroup.

        devices=False leaves device rules alone, as `update` does.

        Raises:
            SpecError: a value is out of range.
            NotSupportedError: the host cannot enforce a field.
            CgroupError: the kernel refused a value.
        """
        from pyrunc.cgroups.resources import ignored

        for field in ignored(resources, self.unified):
            log.warning("linux.resources.%s is ignored, as runc ignores it", field)
        self._version().apply(self._where(), resources, devices)
        log.debug("applied resources to %s", self.cgroups_path)

    def update(self, resources: dict[str, Any], check_usage: bool = False) -> None:
        """Change a live container's limits, as `runc update` does.

        Device rules are left alone. With check_usage a memory limit below
        what the container uses now is refused (memory.checkBeforeUpdate).

        Raises:
            CgroupError: the new memory limit is below the usage, or the
                kernel refused a value.
            NotSupportedError: the host cannot enforce a field.
        """
        memory = resources.get("memory") or {}
        limit = memory.get("limit") or 0
        if check_usage and limit > 0:
            usage = self._memory_usage()
            if limit < usage:
                raise CgroupError(
                    f"linux.resources.memory.limit: {limit} is below the current"
                    f" usage of {usage} bytes (checkBeforeUpdate)"
                )
        if self.unified:
            from pyrunc.cgroups import v2

            resources = v2.with_quota(self.paths[""], resources)
        self.apply(resources, devices=False)

    def _memory_usage(self) -> int:
        if self.unified:
            path = f"{self.paths['']}/memory.current"
        else:
            from pyrunc.cgroups import v1

            path = f"{v1.directory(self.paths, 'memory')}/memory.usage_in_bytes"
        try:
            return int(read_file(path))
        except (OSError, ValueError):
            return 0

    def freeze(self) -> None:
        """Freeze every process of the container.

        Raises:
            CgroupError: the processes did not freeze.
            NotSupportedError: the host has no freezer.
        """
        self._version().freeze(self._where())

    def thaw(self) -> None:
        """Let the container's processes run again.

        Raises:
            CgroupError: the processes did not thaw.
            NotSupportedError: the host has no freezer.
        """
        self._version().thaw(self._where())

    def frozen(self) -> bool:
        """Tell whether the container's processes are frozen."""
        module: Any = self._version()
        result: bool = module.is_frozen(self._where())
        return result

    def kill_all(self, sig: int) -> None:
        """Send sig to every process in the container's cgroup.

        The cgroup is frozen while the signals go out, so no process forks
        past them; a paused container stays paused, except for SIGKILL,
        which on v1 lands only once the processes are thawed.
        """
        if not self.pids():
            return
        if sig == SIGKILL and self.unified:
            from pyrunc.cgroups import v2

            if v2.kill(self.paths[""]):
                return
        was_frozen = self.frozen()
        frozen = self._try(self.freeze)
        for pid in self.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if frozen and (sig == SIGKILL or not was_frozen):
            self._try(self.thaw)

    @staticmethod
    def _try(operation: Any) -> bool:
        try:
            operation()
        except PyruncError as err:
            log.warning("%s", err)
            return False
        return True

    def stats(self) -> dict[str, Any]:
        """Return the container's statistics in runc's `events` shape."""
        stats: dict[str, Any] = self._version().stats(self._where())
        return stats

    def oom_notifier(self) -> v1.OomNotifier | v2.OomNotifier:
        """Return a notifier the kernel signals at each OOM of the container.

        Raises:
            CgroupError: the memory cgroup cannot be watched.
            NotSupportedError: there is no memory controller.
        """
        notifier: v1.OomNotifier | v2.OomNotifier = self._version().OomNotifier(
            self._where()
        )
        return notifier

    def mount_steps(self) -> list[Step]:
        """Return a bind mount of each hierarchy's cgroup, for /sys/fs/cgroup.

        A hybrid host's v2 tree is not among them, as runc leaves it out.
        """
        from pyrunc._sys import OP, Step  # the executor only when creating
        from pyrunc.process import mountopts as mo

        steps = []
        for name, path in self.paths.items():
            if not name and not self.unified:
                continue
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


def reason(err: OSError) -> str:
    """Return an OSError's message in lower case, without its errno and path."""
    return (err.strerror or str(err)).lower()


def read_file(path: str) -> str:
    """Return a cgroup file's content without the trailing newline."""
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def write_file(path: str, value: str) -> None:
    """Write value to an existing cgroup file in one write(2)."""
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _pids_below(path: str) -> list[int]:
    pids = []
    try:
        with open(os.path.join(path, "cgroup.procs"), encoding="utf-8") as f:
            pids = [int(line) for line in f if line.strip()]
        entries = list(os.scandir(path))
    except FileNotFoundError:
        return pids
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            pids += _pids_below(entry.path)
    return pids


def check_free(manager: Manager, store: Store, container_id: str) -> None:
    """Refuse a cgroup another container of the store has, or one in use.

    A cgroup goes with its container until delete, which kills what is in
    it and removes it, so a second container must not share it, stopped or
    not. A cgroup with processes already in it would be killed with the
    container, so it is refused too; a frozen one could never start.

    Raises:
        CgroupError: the cgroup is taken, in use or frozen.
    """
    mine = set(manager.paths.values())
    for other in store.ids():
        if other == container_id:
            continue
        try:
            record = store.load(other)
        except StateError:
            continue  # deleted while we looked
        if mine & set(record.cgroup_paths.values()):
            raise CgroupError(
                f"linux.cgroupsPath: {manager.cgroups_path}: the cgroup of container"
                f" {other} ({store.status(record)})"
            )
    count = len(manager.pids())
    if count:
        raise CgroupError(
            f"linux.cgroupsPath: {manager.cgroups_path}: cgroup is not empty:"
            f" {count} process(es) found"
        )
    if manager.frozen():
        raise CgroupError(
            f"linux.cgroupsPath: {manager.cgroups_path}: cgroup is frozen"
        )


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
                raise CgroupError(f"remove cgroup {path}: {reason(err)}") from err
            time.sleep(0.01)
    raise CgroupError(f"remove cgroup {path}: device or resource busy")
