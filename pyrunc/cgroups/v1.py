"""cgroup v1: limits, freezer, statistics and OOM notices, one dir per hierarchy.

``paths`` maps a hierarchy's name ("memory", "cpu,cpuacct", "name=systemd")
to the container's directory in it. The files are read and written directly:
cgroupspy would do the same through objects, but importing it pulls in
``logging`` and costs more than a whole `pyrunc state`.
"""

from __future__ import annotations

import errno
import os
import time

from pyrunc.cgroups import read_file, reason, write_file
from pyrunc.cgroups.resources import V1_UNLIMITED, v1_writes
from pyrunc.errors import CgroupError, NotSupportedError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pyrunc.cgroups.resources import Write

# USER_HZ, the unit of cpuacct.stat; 100 on every Linux architecture runc knows
_CLOCK_TICKS = 100
_FREEZE_TIMEOUT = 5.0


def directory(paths: dict[str, str], controller: str) -> str | None:
    """Return the container's directory in the hierarchy holding controller."""
    for name, path in paths.items():
        if controller in name.split(","):
            return path
    return None


def apply(paths: dict[str, str], resources: dict[str, Any], devices: bool) -> None:
    """Write resources into the container's cgroups.

    A write the kernel refuses as invalid is tried once more after the
    others, since some pairs (memory and memory+swap, cfs period and quota)
    are only valid in one order, which depends on the values in place.

    Raises:
        SpecError: a value is out of range.
        NotSupportedError: the host has no hierarchy or file for a field.
        CgroupError: the kernel refused a value.
    """
    memory = directory(paths, "memory")
    blkio = directory(paths, "blkio")
    writes = v1_writes(
        resources,
        devices=devices,
        bfq=bool(blkio) and os.path.exists(f"{blkio}/blkio.bfq.weight"),
        swap_accounting=bool(memory)
        and os.path.exists(f"{memory}/memory.memsw.limit_in_bytes"),
        memory_limit=_memory_limit(memory),
    )
    retry = [w for w in writes if not _write(paths, w, final=False)]
    for write in retry:
        _write(paths, write, final=True)


def _memory_limit(memory: str | None) -> int:
    if memory is None:
        return V1_UNLIMITED
    try:
        return int(read_file(f"{memory}/memory.limit_in_bytes"))
    except (OSError, ValueError):
        return V1_UNLIMITED


def _write(paths: dict[str, str], write: Write, final: bool) -> bool:
    """Make one write; return False if it should be retried after the rest."""
    file, value, field = write
    controller, name = file.split("/")
    path = directory(paths, controller)
    if path is None:
        raise NotSupportedError(
            f"linux.resources.{field}: no {controller} cgroup hierarchy is mounted"
            " on this host"
        )
    target = f"{path}/{name}"
    try:
        write_file(target, value)
    except OSError as err:
        if err.errno == errno.EINVAL and not final:
            return False
        raise _write_error(field, target, value, err) from err
    if name == "cpu.shares":
        _check_shares(target, int(value))
    return True


def _write_error(field: str, target: str, value: str, err: OSError) -> Exception:
    """Return the error for a refused write of a linux.resources field."""
    if err.errno == errno.ENOENT:
        return NotSupportedError(
            f"linux.resources.{field}: this kernel has no {os.path.basename(target)}"
        )
    if err.errno == errno.EBUSY and target.endswith("memory.limit_in_bytes"):
        folder = os.path.dirname(target)
        usage = _number(f"{folder}/memory.usage_in_bytes")
        peak = _number(f"{folder}/memory.max_usage_in_bytes")
        return CgroupError(
            f"linux.resources.{field}: cannot set memory limit to {value}"
            f" (current usage: {usage}, peak usage: {peak})"
        )
    return CgroupError(
        f"linux.resources.{field}: write {value!r} to {target}: {reason(err)}"
    )


def _check_shares(target: str, wanted: int) -> None:
    """Refuse cpu shares the kernel clamped, as runc does."""
    actual = int(read_file(target))
    if wanted > actual:
        raise CgroupError(
            f"linux.resources.cpu.shares: the maximum allowed cpu-shares is {actual}"
        )
    if wanted < actual:
        raise CgroupError(
            f"linux.resources.cpu.shares: the minimum allowed cpu-shares is {actual}"
        )


# freezer


def _freezer_state(paths: dict[str, str]) -> str:
    path = directory(paths, "freezer")
    if path is None:
        raise NotSupportedError("freeze: no freezer cgroup hierarchy is mounted")
    return f"{path}/freezer.state"


def freeze(paths: dict[str, str]) -> None:
    """Freeze every task of the container and wait until the kernel has.

    Raises:
        CgroupError: tasks were still freezing after the timeout.
        NotSupportedError: there is no freezer hierarchy.
    """
    state = _freezer_state(paths)
    if not _settle(state, "FROZEN"):
        _settle(state, "THAWED")
        raise CgroupError(f"freeze {state}: tasks still freezing after 5s")


def thaw(paths: dict[str, str]) -> None:
    """Let the container's tasks run again.

    Raises:
        CgroupError: the cgroup stays frozen (its parent is frozen).
        NotSupportedError: there is no freezer hierarchy.
    """
    state = _freezer_state(paths)
    if not _settle(state, "THAWED"):
        raise CgroupError(f"thaw {state}: still frozen after 5s")


def _settle(state: str, wanted: str) -> bool:
    """Write wanted to freezer.state until it reads back so; False on timeout.

    Raises:
        CgroupError: the file cannot be read or written.
    """
    deadline = time.monotonic() + _FREEZE_TIMEOUT
    delay = 0.0005
    try:
        while time.monotonic() < deadline:
            # a task in an uninterruptible sleep can hold the cgroup in
            # FREEZING; writing FROZEN again retries the ones it missed
            write_file(state, wanted)
            if read_file(state) == wanted:
                return True
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
    except OSError as err:
        raise CgroupError(f"write {wanted} to {state}: {reason(err)}") from err
    return False


def is_frozen(paths: dict[str, str]) -> bool:
    """Tell whether the container's tasks are frozen."""
    path = directory(paths, "freezer")
    try:
        return path is not None and read_file(f"{path}/freezer.state") == "FROZEN"
    except OSError:
        return False


# OOM notices


class OomNotifier:
    """An eventfd the kernel signals at each OOM of the memory cgroup.

    It is also signalled when the cgroup is removed; ``read`` tells the two
    apart.
    """

    def __init__(self, paths: dict[str, str]) -> None:
        memory = directory(paths, "memory")
        if memory is None:
            raise NotSupportedError("events: no memory cgroup hierarchy is mounted")
        self.control = f"{memory}/memory.oom_control"
        self.fd = os.eventfd(0, os.EFD_CLOEXEC)
        control_fd = -1
        try:
            control_fd = os.open(self.control, os.O_RDONLY | os.O_CLOEXEC)
            write_file(f"{memory}/cgroup.event_control", f"{self.fd} {control_fd}")
        except OSError as err:
            os.close(self.fd)
            raise CgroupError(f"watch {self.control}: {reason(err)}") from err
        finally:
            if control_fd >= 0:
                os.close(control_fd)

    def fileno(self) -> int:
        """Return the fd to poll for reading."""
        return self.fd

    def read(self) -> int:
        """Return the OOMs since the last read; -1 once the cgroup is gone."""
        count = os.eventfd_read(self.fd)
        return count if os.path.exists(self.control) else -1

    def close(self) -> None:
        """Stop listening."""
        os.close(self.fd)


# statistics, in runc's shape


def stats(paths: dict[str, str]) -> dict[str, Any]:
    """Return the container's statistics as `runc events` shows them for v1."""
    return {
        "cpu": _cpu_stats(paths),
        "cpuset": _cpuset_stats(directory(paths, "cpuset")),
        "memory": _memory_stats(directory(paths, "memory")),
        "pids": _pids_stats(directory(paths, "pids")),
        "blkio": _blkio_stats(directory(paths, "blkio")),
        "hugetlb": {},
        "intel_rdt": {},
        "network_interfaces": None,
    }


def _numbers(path: str) -> list[int]:
    try:
        return [int(word) for word in read_file(path).split()]
    except (OSError, ValueError):
        return []


def _number(path: str) -> int:
    try:
        text = read_file(path)
    except OSError:
        return 0
    return 0 if text == "max" else int(text)


def _keyed(path: str) -> dict[str, int]:
    """Return a "key value" per line file as a dict."""
    try:
        lines = read_file(path).splitlines()
    except OSError:
        return {}
    pairs = (line.split() for line in lines)
    return {
        p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].lstrip("-").isdigit()
    }


def omit_empty(values: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Drop the keys whose value is zero or empty, as Go's omitempty does."""
    return {k: v for k, v in values.items() if k not in keys or v}


def _cpu_stats(paths: dict[str, str]) -> dict[str, Any]:
    acct = directory(paths, "cpuacct") or ""
    ticks = _keyed(f"{acct}/cpuacct.stat")
    per_user, per_kernel = _usage_all(f"{acct}/cpuacct.usage_all")
    usage = {
        "total": _number(f"{acct}/cpuacct.usage") if acct else 0,
        "percpu": _numbers(f"{acct}/cpuacct.usage_percpu"),
        "percpu_kernel": per_kernel,
        "percpu_user": per_user,
        "kernel": ticks.get("system", 0) * 1_000_000_000 // _CLOCK_TICKS,
        "user": ticks.get("user", 0) * 1_000_000_000 // _CLOCK_TICKS,
    }
    cpu = directory(paths, "cpu")
    cpu_stat = _keyed(f"{cpu}/cpu.stat") if cpu else {}
    throttling = {
        "periods": cpu_stat.get("nr_periods", 0),
        "throttledPeriods": cpu_stat.get("nr_throttled", 0),
        "throttledTime": cpu_stat.get("throttled_time", 0),
    }
    return {
        "usage": omit_empty(usage, "total", "percpu", "percpu_kernel", "percpu_user"),
        "throttling": omit_empty(throttling, *throttling),
    }


def _usage_all(path: str) -> tuple[list[int], list[int]]:
    """Return per-cpu user and system nanoseconds from cpuacct.usage_all."""
    try:
        rows = read_file(path).splitlines()[1:]
    except OSError:
        return [], []
    fields = [row.split() for row in rows if row.strip()]
    return [int(f[1]) for f in fields], [int(f[2]) for f in fields]


def cpu_list(text: str) -> list[int]:
    """Return the numbers of a kernel list such as "0-3,8"."""
    result: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        result.extend(range(int(first), int(last or first) + 1))
    return result


CPUSET_FLAGS = (
    "cpu_exclusive",
    "mem_hardwall",
    "mem_exclusive",
    "memory_migrate",
    "memory_spread_page",
    "memory_spread_slab",
    "memory_pressure",
    "sched_load_balance",
    "sched_relax_domain_level",
)


def _cpuset_stats(path: str | None) -> dict[str, Any]:
    if path is None:
        return {flag: 0 for flag in CPUSET_FLAGS}
    result: dict[str, Any] = {}
    for name in ("cpus", "mems"):
        try:
            found = cpu_list(read_file(f"{path}/cpuset.{name}"))
        except OSError:
            found = []
        if found:
            result[name] = found
    for flag in CPUSET_FLAGS:
        result[flag] = _number(f"{path}/cpuset.{flag}")
    order = ["cpus", "cpu_exclusive", "mems", *CPUSET_FLAGS[1:]]
    return {key: result[key] for key in order if key in result}


def _memory_entry(path: str, prefix: str) -> dict[str, Any]:
    entry = {
        "limit": _number(f"{path}/{prefix}.limit_in_bytes"),
        "usage": _number(f"{path}/{prefix}.usage_in_bytes"),
        "max": _number(f"{path}/{prefix}.max_usage_in_bytes"),
        "failcnt": _number(f"{path}/{prefix}.failcnt"),
    }
    return omit_empty(entry, "usage", "max")


def _memory_stats(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    raw = _keyed(f"{path}/memory.stat")
    memory: dict[str, Any] = {
        "cache": raw.get("cache", 0),
        "usage": _memory_entry(path, "memory"),
        "swap": _memory_entry(path, "memory.memsw"),
        "kernel": _memory_entry(path, "memory.kmem"),
        "kernelTCP": _memory_entry(path, "memory.kmem.tcp"),
        "raw": dict(sorted(raw.items())),
    }
    return omit_empty(memory, "cache", "raw")


def _pids_stats(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    pids = {
        "current": _number(f"{path}/pids.current"),
        "limit": _number(f"{path}/pids.max"),
    }
    return omit_empty(pids, "current", "limit")


# runc's order: the first group whose first file has entries is reported
_BLKIO_GROUPS = (
    (
        ("blkio.bfq.sectors_recursive", "sectorsRecursive"),
        ("blkio.bfq.io_service_time_recursive", "ioServiceTimeRecursive"),
        ("blkio.bfq.io_wait_time_recursive", "ioWaitTimeRecursive"),
        ("blkio.bfq.io_merged_recursive", "ioMergedRecursive"),
        ("blkio.bfq.io_queued_recursive", "ioQueueRecursive"),
        ("blkio.bfq.time_recursive", "ioTimeRecursive"),
        ("blkio.bfq.io_serviced_recursive", "ioServicedRecursive"),
        ("blkio.bfq.io_service_bytes_recursive", "ioServiceBytesRecursive"),
    ),
    (
        ("blkio.sectors_recursive", "sectorsRecursive"),
        ("blkio.io_service_time_recursive", "ioServiceTimeRecursive"),
        ("blkio.io_wait_time_recursive", "ioWaitTimeRecursive"),
        ("blkio.io_merged_recursive", "ioMergedRecursive"),
        ("blkio.io_queued_recursive", "ioQueueRecursive"),
        ("blkio.time_recursive", "ioTimeRecursive"),
        ("blkio.io_serviced_recursive", "ioServicedRecursive"),
        ("blkio.io_service_bytes_recursive", "ioServiceBytesRecursive"),
    ),
    (
        ("blkio.throttle.io_serviced_recursive", "ioServicedRecursive"),
        ("blkio.throttle.io_service_bytes_recursive", "ioServiceBytesRecursive"),
    ),
    (
        ("blkio.throttle.io_serviced", "ioServicedRecursive"),
        ("blkio.throttle.io_service_bytes", "ioServiceBytesRecursive"),
    ),
)


_BLKIO_KEYS = (
    "ioServiceBytesRecursive",
    "ioServicedRecursive",
    "ioQueueRecursive",
    "ioServiceTimeRecursive",
    "ioWaitTimeRecursive",
    "ioMergedRecursive",
    "ioTimeRecursive",
    "sectorsRecursive",
)


def _blkio_stats(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    for group in _BLKIO_GROUPS:
        found = {key: _blkio_entries(f"{path}/{name}") for name, key in group}
        if found[group[0][1]]:
            return {key: found[key] for key in _BLKIO_KEYS if found.get(key)}
    return {}


def _blkio_entries(path: str) -> list[dict[str, Any]]:
    try:
        lines = read_file(path).splitlines()
    except OSError:
        return []
    entries = []
    for line in lines:
        fields = line.split()
        if len(fields) < 2 or fields[0] == "Total":
            continue
        major, _, minor = fields[0].partition(":")
        entry = {
            "major": int(major),
            "minor": int(minor),
            "op": fields[1] if len(fields) == 3 else "",
            "value": int(fields[-1]),
        }
        entries.append(omit_empty(entry, *entry))
    return entries
