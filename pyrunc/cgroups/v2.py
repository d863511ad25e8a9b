"""cgroup v2: limits, freezer, statistics and OOM notices in the container's dir."""

from __future__ import annotations

import errno
import os
import time

from pyrunc.cgroups import CGROUP_ROOT, read_file, reason, write_file
from pyrunc.cgroups.resources import v2_writes
from pyrunc.cgroups.v1 import CPUSET_FLAGS as _CPUSET_FLAGS
from pyrunc.cgroups.v1 import omit_empty
from pyrunc.errors import CgroupError, NotSupportedError
from pyrunc.log import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

log = get_logger(__name__)

_FREEZE_TIMEOUT = 5.0
_UNLIMITED = 2**64 - 1  # what runc reports for "max"


def enable_controllers(path: str) -> None:
    """Let path have every controller its ancestors have, enabling them top down.

    A controller must be in a parent's cgroup.subtree_control for a child
    to get its files (cgroup-v2.rst, "Enabling and Disabling"). A parent
    that holds processes refuses; what cannot be enabled is left out.
    """
    relative = os.path.relpath(path, CGROUP_ROOT)
    current = CGROUP_ROOT
    for part in relative.split("/")[:-1] if relative != "." else []:
        _enable_in(current)
        current = f"{current}/{part}"
    _enable_in(current)


def _enable_in(parent: str) -> None:
    try:
        available = read_file(f"{parent}/cgroup.controllers").split()
        enabled = read_file(f"{parent}/cgroup.subtree_control").split()
    except OSError:
        return
    missing = [c for c in available if c not in enabled]
    if not missing:
        return
    control = f"{parent}/cgroup.subtree_control"
    try:
        write_file(control, " ".join(f"+{c}" for c in missing))
    except OSError:
        for controller in missing:
            try:
                write_file(control, f"+{controller}")
            except OSError as err:
                log.debug("enable %s in %s: %s", controller, parent, reason(err))


def apply(path: str, resources: dict[str, Any], devices: bool) -> None:
    """Write resources into the container's cgroup; devices=True adds device rules.

    Raises:
        SpecError: a value is out of range.
        NotSupportedError: a controller is not available.
        CgroupError: the kernel refused a value or the device program.
    """
    if devices:
        from pyrunc.cgroups import devices_bpf  # ctypes only when creating

        devices_bpf.attach(path, resources.get("devices") or [])
    bfq = os.path.exists(f"{path}/io.bfq.weight")
    for file, value, field in v2_writes(resources, bfq=bfq):
        _write(path, file, value, field)


def with_quota(path: str, resources: dict[str, Any]) -> dict[str, Any]:
    """Return resources with the quota in place when only a period is new.

    cpu.max holds both; writing a period alone would lift the quota.
    """
    cpu = resources.get("cpu") or {}
    if not cpu.get("period") or cpu.get("quota"):
        return resources
    try:
        quota = read_file(f"{path}/cpu.max").split()[0]
    except (OSError, IndexError):
        return resources
    if quota == "max":
        return resources
    return {**resources, "cpu": {**cpu, "quota": int(quota)}}


def _write(path: str, file: str, value: str, field: str) -> None:
    target = f"{path}/{file}"
    try:
        write_file(target, value)
    except OSError as err:
        if err.errno not in (errno.ENOENT, errno.EPERM, errno.EACCES):
            raise CgroupError(
                f"linux.resources.{field}: write {value!r} to {target}: {reason(err)}"
            ) from err
        if file == "memory.swap.max" and value in ("max", "0"):
            return  # no swap on this host: nothing to allow or to turn off
        controller = file.split(".", 1)[0]
        if controller != "cgroup" and controller not in _controllers(path):
            raise NotSupportedError(
                f"linux.resources.{field}: the {controller} controller is not"
                f" available in {path}"
            ) from err
        raise NotSupportedError(
            f"linux.resources.{field}: cannot write {target}: {reason(err)}"
        ) from err


def _controllers(path: str) -> list[str]:
    try:
        return read_file(f"{path}/cgroup.controllers").split()
    except OSError:
        return []


# freezer


def freeze(path: str) -> None:
    """Freeze the cgroup and wait until cgroup.events reports it frozen.

    Raises:
        NotSupportedError: the kernel has no cgroup.freeze.
        CgroupError: the cgroup did not freeze in time.
    """
    _set_frozen(path, True)


def thaw(path: str) -> None:
    """Thaw the cgroup and wait until cgroup.events reports it.

    Raises:
        NotSupportedError: the kernel has no cgroup.freeze.
        CgroupError: the cgroup did not thaw in time.
    """
    _set_frozen(path, False)


def _set_frozen(path: str, frozen: bool) -> None:
    wanted = "frozen 1" if frozen else "frozen 0"
    deadline = time.monotonic() + _FREEZE_TIMEOUT
    try:
        write_file(f"{path}/cgroup.freeze", "1" if frozen else "0")
        while wanted not in read_file(f"{path}/cgroup.events").splitlines():
            if time.monotonic() > deadline:
                raise CgroupError(f"freeze {path}: still not {wanted} after 5s")
            time.sleep(0.001)
    except FileNotFoundError as err:
        raise NotSupportedError(
            f"freeze {path}: this kernel has no cgroup.freeze"
        ) from err
    except OSError as err:
        raise CgroupError(f"freeze {path}: {reason(err)}") from err


def is_frozen(path: str) -> bool:
    """Tell whether the cgroup is frozen."""
    try:
        return read_file(f"{path}/cgroup.freeze") == "1"
    except OSError:
        return False


def kill(path: str) -> bool:
    """SIGKILL every process of the cgroup through cgroup.kill; False if it cannot."""
    try:
        write_file(f"{path}/cgroup.kill", "1")
    except OSError as err:
        log.debug("kill through %s/cgroup.kill: %s", path, reason(err))
        return False
    return True


# OOM notices


class OomNotifier:
    """memory.events, which the kernel marks changed (POLLPRI) as its counts grow."""

    def __init__(self, path: str) -> None:
        self.path = f"{path}/memory.events"
        try:
            self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as err:
            raise CgroupError(f"watch {self.path}: {reason(err)}") from err
        self.kills = self._count()

    def _count(self) -> int:
        text = os.pread(self.fd, 4096, 0).decode()
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def fileno(self) -> int:
        """Return the fd to poll for POLLPRI."""
        return self.fd

    def read(self) -> int:
        """Return the OOM kills since the last read; -1 once the cgroup is gone."""
        try:
            kills = self._count()
        except OSError:
            # the file of a removed cgroup no longer reads (ENODEV)
            return -1
        new, self.kills = kills - self.kills, kills
        return new

    def close(self) -> None:
        """Stop listening."""
        os.close(self.fd)


# statistics, in runc's shape


def _keyed(path: str) -> dict[str, int]:
    try:
        lines = read_file(path).splitlines()
    except OSError:
        return {}
    pairs = (line.split() for line in lines)
    return {p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].isdigit()}


def _number(path: str) -> int:
    try:
        text = read_file(path)
    except OSError:
        return 0
    return _UNLIMITED if text == "max" else int(text)


def stats(path: str) -> dict[str, Any]:
    """Return the container's statistics as `runc events` shows them for v2."""
    return {
        "cpu": _cpu_stats(path),
        "cpuset": _cpuset_stats(path),
        "memory": _memory_stats(path),
        "pids": _pids_stats(path),
        "blkio": _io_stats(path),
        "hugetlb": _hugetlb_stats(path),
        "intel_rdt": {},
        "network_interfaces": None,
    }


def _cpu_stats(path: str) -> dict[str, Any]:
    stat = _keyed(f"{path}/cpu.stat")
    usage = {
        "total": stat.get("usage_usec", 0) * 1000,
        "kernel": stat.get("system_usec", 0) * 1000,
        "user": stat.get("user_usec", 0) * 1000,
    }
    throttling = {
        "periods": stat.get("nr_periods", 0),
        "throttledPeriods": stat.get("nr_throttled", 0),
        "throttledTime": stat.get("throttled_usec", 0) * 1000,
    }
    return {
        "usage": omit_empty(usage, "total"),
        "throttling": omit_empty(throttling, *throttling),
    }


def _cpuset_stats(path: str) -> dict[str, Any]:
    """Return runc's v2 cpuset statistics: it reads none, so all zero."""
    return dict.fromkeys(_CPUSET_FLAGS, 0)


def _memory_stats(path: str) -> dict[str, Any]:
    raw = _keyed(f"{path}/memory.stat")
    usage = _number(f"{path}/memory.current")
    limit = _number(f"{path}/memory.max")
    events = _keyed(f"{path}/memory.events")
    swap_limit = _number(f"{path}/memory.swap.max")
    if swap_limit != _UNLIMITED:
        swap_limit += limit  # runc reports memory+swap, as v1 does
    memory: dict[str, Any] = {
        "cache": raw.get("file", 0),
        "usage": omit_empty(
            {"limit": limit, "usage": usage, "failcnt": events.get("max", 0)},
            "usage",
        ),
        "swap": omit_empty(
            {
                "limit": min(swap_limit, _UNLIMITED),
                "usage": _number(f"{path}/memory.swap.current") + usage,
                "failcnt": 0,
            },
            "usage",
        ),
        "kernel": {"limit": 0, "failcnt": 0},
        "kernelTCP": {"limit": 0, "failcnt": 0},
        "raw": dict(sorted(raw.items())),
    }
    return omit_empty(memory, "cache", "raw")


def _pids_stats(path: str) -> dict[str, Any]:
    limit = _number(f"{path}/pids.max")
    pids = {
        "current": _number(f"{path}/pids.current"),
        "limit": 0 if limit == _UNLIMITED else limit,
    }
    return omit_empty(pids, "current", "limit")


_IO_KEYS = {
    "rbytes": ("ioServiceBytesRecursive", "Read"),
    "wbytes": ("ioServiceBytesRecursive", "Write"),
    "rios": ("ioServicedRecursive", "Read"),
    "wios": ("ioServicedRecursive", "Write"),
}


def _io_stats(path: str) -> dict[str, Any]:
    try:
        lines = read_file(f"{path}/io.stat").splitlines()
    except OSError:
        return {}
    found: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        device, *pairs = line.split()
        major, _, minor = device.partition(":")
        for pair in pairs:
            key, _, value = pair.partition("=")
            if key in _IO_KEYS:
                name, op = _IO_KEYS[key]
                entry = {"major": int(major), "minor": int(minor), "op": op}
                entry["value"] = int(value)
                found.setdefault(name, []).append(omit_empty(entry, *entry))
    return found


def _hugetlb_stats(path: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return result
    for name in names:
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "hugetlb" and parts[2] == "current":
            size = parts[1]
            events = _keyed(f"{path}/hugetlb.{size}.events")
            entry = {
                "usage": _number(f"{path}/{name}"),
                "failcnt": events.get("max", 0),
            }
            result[size] = omit_empty(entry, "usage")
    return result
