"""linux.resources as cgroup file writes: pure functions, one set per cgroup version.

A write is a tuple ``(file, value, field)``. For v1, file is
``"controller/file"`` (``"memory/memory.limit_in_bytes"``); for v2 it is the
bare file name in the container's one directory (``"memory.max"``). field is
the spec field under ``linux.resources`` the value comes from, for messages.

The conversions are runc's: a value of 0 (or an absent one) leaves the file
alone; -1 means "no limit"; v1 memory+swap becomes v2 swap alone; cpu shares
become a v2 weight; blkio weights become v2 io weights when BFQ is absent.
The facts of the host the choices depend on (BFQ, swap accounting, the
current memory limit) are arguments, so nothing here reads a file.
"""

from __future__ import annotations

from pyrunc.errors import NotSupportedError, SpecError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Write = tuple[str, str, str]

# memory.limit_in_bytes of an unlimited v1 cgroup (page-aligned LONG_MAX)
V1_UNLIMITED = 9223372036854771712

# runc's device rules, appended after the spec's: mknod of anything, and the
# nodes every container has (null, zero, full, random, urandom, tty, ptmx,
# pts, tun)
DEFAULT_DEVICE_RULES: list[dict[str, Any]] = [
    {"allow": True, "type": "c", "access": "m"},
    {"allow": True, "type": "b", "access": "m"},
    *(
        {"allow": True, "type": "c", "major": major, "minor": minor, "access": "rwm"}
        for major, minor in (
            (1, 3),
            (1, 8),
            (1, 7),
            (5, 0),
            (1, 5),
            (1, 9),
            (136, None),
            (5, 2),
            (10, 200),
        )
    ),
]

# fields runc accepts and does nothing with, per version
_IGNORED_BOTH = ("memory.kernel", "memory.kernelTCP", "memory.useHierarchy")
_IGNORED_V2 = (
    "memory.swappiness",
    "memory.disableOOMKiller",
    "cpu.realtimeRuntime",
    "cpu.realtimePeriod",
    "blockIO.leafWeight",
    "network.classID",
    "network.priorities",
)

_THROTTLES = (
    ("throttleReadBpsDevice", "read_bps_device", "rbps"),
    ("throttleWriteBpsDevice", "write_bps_device", "wbps"),
    ("throttleReadIOPSDevice", "read_iops_device", "riops"),
    ("throttleWriteIOPSDevice", "write_iops_device", "wiops"),
)


def ignored(resources: dict[str, Any], unified: bool) -> list[str]:
    """Return the fields set in resources that runc, and so pyrunc, ignores."""
    names = _IGNORED_BOTH + (_IGNORED_V2 if unified else ())
    found = []
    for name in names:
        section, key = name.split(".")
        value = (resources.get(section) or {}).get(key)
        if value not in (None, 0, False, [], "") and not (
            key == "swappiness" and value == -1
        ):
            found.append(name)
    return found


def _int(section: dict[str, Any], key: str, field: str) -> int:
    value = section.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"linux.resources.{field}: {value!r} is not an integer")
    return value


def _limit(value: int) -> str:
    """Return a v2 limit: "" for 0 (leave alone), "max" for -1, else the number."""
    if value == 0:
        return ""
    return "max" if value == -1 else str(value)


def _device(rule: dict[str, Any]) -> str:
    return f"{_int(rule, 'major', 'major')}:{_int(rule, 'minor', 'minor')}"


# v1


def v1_writes(
    resources: dict[str, Any],
    *,
    devices: bool = True,
    bfq: bool = False,
    swap_accounting: bool = True,
    memory_limit: int = V1_UNLIMITED,
) -> list[Write]:
    """Return the v1 writes that apply resources, in order.

    devices=False leaves the device cgroup alone, as `update` does; bfq tells
    the weights go to the BFQ files; memory_limit is the cgroup's current
    limit, which decides whether swap or memory is written first.

    Raises:
        SpecError: a value is out of range or of the wrong type.
        NotSupportedError: resources ask for something only v2 has.
    """
    if resources.get("unified"):
        raise NotSupportedError(
            "linux.resources.unified: needs cgroup v2, this host runs cgroup v1"
        )
    return [
        *(v1_device_writes(resources.get("devices") or []) if devices else []),
        *_v1_memory(resources.get("memory") or {}, swap_accounting, memory_limit),
        *_v1_cpu(resources.get("cpu") or {}),
        *_pids("pids/pids.max", resources.get("pids") or {}),
        *_v1_blkio(resources.get("blockIO") or {}, bfq),
        *_hugetlb(
            resources.get("hugepageLimits") or [],
            "hugetlb/hugetlb.{size}.limit_in_bytes",
        ),
        *_v1_network(resources.get("network") or {}),
        *_rdma("rdma/rdma.max", resources.get("rdma") or {}),
    ]


def v1_device_writes(rules: list[dict[str, Any]]) -> list[Write]:
    """Return the devices.allow/deny writes of the spec's rules, runc's way.

    Everything is denied first, then the spec's rules apply in order, then
    runc's default allow list; a later rule overrides an earlier one, so a
    spec rule cannot take away a default device.

    Raises:
        SpecError: a rule has a bad type or access.
    """
    writes: list[Write] = [("devices/devices.deny", "a", "devices")]
    for index, rule in enumerate(rules):
        writes.append(_v1_device_rule(rule, f"devices[{index}]"))
    for rule in DEFAULT_DEVICE_RULES:
        writes.append(_v1_device_rule(rule, "devices"))
    return writes


def _v1_device_rule(rule: dict[str, Any], field: str) -> Write:
    kind = rule.get("type") or "a"
    access = rule.get("access")
    if kind not in ("a", "b", "c"):
        raise SpecError(f"linux.resources.{field}.type: {kind!r} is not a, b or c")
    if not access or not set(access) <= set("rwm"):
        raise SpecError(
            f"linux.resources.{field}.access: {access!r} is not a non-empty"
            " combination of r, w and m"
        )
    major = "*" if rule.get("major") in (None, -1) else str(rule["major"])
    minor = "*" if rule.get("minor") in (None, -1) else str(rule["minor"])
    text = "a" if kind == "a" else f"{kind} {major}:{minor} {access}"
    target = "devices.allow" if rule.get("allow") else "devices.deny"
    return (f"devices/{target}", text, field)


def _v1_memory(
    memory: dict[str, Any], swap_accounting: bool, current: int
) -> list[Write]:
    limit = _int(memory, "limit", "memory.limit")
    swap = _int(memory, "swap", "memory.swap")
    if limit == -1 and swap == 0 and swap_accounting:
        swap = -1
    limit_write = ("memory/memory.limit_in_bytes", str(limit), "memory.limit")
    swap_write = ("memory/memory.memsw.limit_in_bytes", str(swap), "memory.swap")
    writes: list[Write] = []
    if limit and swap:
        # the kernel wants limit <= memsw at every step; which to write first
        # depends on the limit being raised or lowered
        grows = swap == -1 or current < swap
        writes += [swap_write, limit_write] if grows else [limit_write, swap_write]
    else:
        writes += [limit_write] if limit else []
        writes += [swap_write] if swap else []
    return writes + _v1_memory_extras(memory)


def _v1_memory_extras(memory: dict[str, Any]) -> list[Write]:
    writes: list[Write] = []
    reservation = _int(memory, "reservation", "memory.reservation")
    if reservation:
        writes.append(
            (
                "memory/memory.soft_limit_in_bytes",
                str(reservation),
                "memory.reservation",
            )
        )
    if memory.get("disableOOMKiller"):
        writes.append(("memory/memory.oom_control", "1", "memory.disableOOMKiller"))
    swappiness = memory.get("swappiness")
    if swappiness is not None and swappiness != -1:
        if not isinstance(swappiness, int) or not 0 <= swappiness <= 100:
            raise SpecError(
                f"linux.resources.memory.swappiness: {swappiness!r} is out of range"
                " (valid range is 0-100)"
            )
        writes.append(
            ("memory/memory.swappiness", str(swappiness), "memory.swappiness")
        )
    return writes


def _v1_cpu(cpu: dict[str, Any]) -> list[Write]:
    writes: list[Write] = []
    for key, file in (
        ("realtimePeriod", "cpu.rt_period_us"),
        ("realtimeRuntime", "cpu.rt_runtime_us"),
        ("shares", "cpu.shares"),
        ("period", "cpu.cfs_period_us"),
        ("quota", "cpu.cfs_quota_us"),
    ):
        value = _int(cpu, key, f"cpu.{key}")
        if value:
            writes.append((f"cpu/{file}", str(value), f"cpu.{key}"))
    for key, file in (("burst", "cpu.cfs_burst_us"), ("idle", "cpu.idle")):
        if cpu.get(key) is not None:
            value = _int(cpu, key, f"cpu.{key}")
            writes.append((f"cpu/{file}", str(value), f"cpu.{key}"))
    return writes + _cpuset("cpuset/cpuset.", cpu)


def _cpuset(prefix: str, cpu: dict[str, Any]) -> list[Write]:
    return [
        (f"{prefix}{key}", cpu[key], f"cpu.{key}")
        for key in ("cpus", "mems")
        if cpu.get(key)
    ]


def _pids(file: str, pids: dict[str, Any]) -> list[Write]:
    if "limit" not in pids:
        return []
    limit = _int(pids, "limit", "pids.limit")
    return [(file, str(limit) if limit > 0 else "max", "pids.limit")]


def _v1_blkio(blkio: dict[str, Any], bfq: bool) -> list[Write]:
    weight_file = "blkio/blkio.bfq.weight" if bfq else "blkio/blkio.weight"
    writes: list[Write] = []
    weight = _int(blkio, "weight", "blockIO.weight")
    if weight:
        writes.append((weight_file, str(weight), "blockIO.weight"))
    leaf = _int(blkio, "leafWeight", "blockIO.leafWeight")
    if leaf:
        writes.append(("blkio/blkio.leaf_weight", str(leaf), "blockIO.leafWeight"))
    for index, entry in enumerate(blkio.get("weightDevice") or []):
        field = f"blockIO.weightDevice[{index}]"
        for key, file in (
            ("weight", weight_file + "_device"),
            ("leafWeight", "blkio/blkio.leaf_weight_device"),
        ):
            value = _int(entry, key, f"{field}.{key}")
            if value:
                writes.append((file, f"{_device(entry)} {value}", field))
    for key, name, _ in _THROTTLES:
        for index, entry in enumerate(blkio.get(key) or []):
            rate = _int(entry, "rate", f"blockIO.{key}[{index}].rate")
            writes.append(
                (
                    f"blkio/blkio.throttle.{name}",
                    f"{_device(entry)} {rate}",
                    f"blockIO.{key}[{index}]",
                )
            )
    return writes


def _page_size(entry: dict[str, Any], index: int) -> str:
    size = entry.get("pageSize")
    if not isinstance(size, str) or not size.isalnum():
        raise SpecError(
            f"linux.resources.hugepageLimits[{index}].pageSize: {size!r} is not a"
            " page size such as 2MB"
        )
    return size


def _hugetlb(limits: list[dict[str, Any]], file: str) -> list[Write]:
    """Return one write per hugepage limit; file names the size as {size}."""
    return [
        (
            file.format(size=_page_size(entry, index)),
            str(_int(entry, "limit", f"hugepageLimits[{index}].limit")),
            f"hugepageLimits[{index}]",
        )
        for index, entry in enumerate(limits)
    ]


def _v1_network(network: dict[str, Any]) -> list[Write]:
    writes: list[Write] = []
    class_id = _int(network, "classID", "network.classID")
    if class_id:
        writes.append(("net_cls/net_cls.classid", str(class_id), "network.classID"))
    for index, entry in enumerate(network.get("priorities") or []):
        priority = _int(entry, "priority", f"network.priorities[{index}].priority")
        writes.append(
            (
                "net_prio/net_prio.ifpriomap",
                f"{entry['name']} {priority}",
                f"network.priorities[{index}]",
            )
        )
    return writes


def _rdma(file: str, rdma: dict[str, Any]) -> list[Write]:
    writes: list[Write] = []
    for device, limits in rdma.items():
        parts = [
            f"{name}={_int(limits, key, f'rdma.{device}.{key}')}"
            for key, name in (
                ("hcaHandles", "hca_handle"),
                ("hcaObjects", "hca_object"),
            )
            if limits.get(key) is not None
        ]
        if parts:
            writes.append((file, f"{device} {' '.join(parts)}", f"rdma.{device}"))
    return writes


# v2


def v2_writes(resources: dict[str, Any], *, bfq: bool = False) -> list[Write]:
    """Return the v2 writes that apply resources, in order; unified comes last.

    Devices are not among them: v2 controls devices with an eBPF program.

    Raises:
        SpecError: a value is out of range or of the wrong type.
    """
    return [
        *_pids("pids.max", resources.get("pids") or {}),
        *_v2_memory(resources.get("memory") or {}),
        *_v2_io(resources.get("blockIO") or {}, bfq),
        *_v2_cpu(resources.get("cpu") or {}),
        *_cpuset("cpuset.", resources.get("cpu") or {}),
        *_hugetlb(resources.get("hugepageLimits") or [], "hugetlb.{size}.max"),
        *_rdma("rdma.max", resources.get("rdma") or {}),
        *_v2_unified(resources.get("unified") or {}),
    ]


def v2_swap(swap: int, limit: int) -> int:
    """Return v2's memory.swap.max for v1's memory+swap and memory limits.

    Raises:
        SpecError: swap is set without a memory limit, or below it.
    """
    if limit == -1 and swap == 0:
        return -1
    if swap in (-1, 0):
        return swap
    if limit in (0, -1):
        raise SpecError(
            "linux.resources.memory.swap: cannot set a swap limit without a memory"
            " limit"
        )
    if swap < limit:
        raise SpecError(
            "linux.resources.memory.swap: memory+swap limit must be at least the"
            " memory limit"
        )
    return swap - limit


def _v2_memory(memory: dict[str, Any]) -> list[Write]:
    limit = _int(memory, "limit", "memory.limit")
    swap = _int(memory, "swap", "memory.swap")
    reservation = _int(memory, "reservation", "memory.reservation")
    writes: list[Write] = []
    swap_value = _limit(v2_swap(swap, limit))
    if not swap_value and swap > 0:
        swap_value = "0"  # swap equal to the limit: no swap at all
    if swap_value:
        writes.append(("memory.swap.max", swap_value, "memory.swap"))
    if limit:
        writes.append(("memory.max", _limit(limit), "memory.limit"))
    if reservation:
        writes.append(("memory.low", _limit(reservation), "memory.reservation"))
    return writes


def cpu_weight(shares: int) -> int:
    """Return runc's v2 cpu.weight (1-10000) for v1 cpu shares (2-262144)."""
    if shares == 0:
        return 0
    return 1 + ((shares - 2) * 9999) // 262142


def io_weight(weight: int) -> int:
    """Return runc's v2 io.weight (1-10000) for a v1 blkio weight (10-1000)."""
    if weight == 0:
        return 0
    return 1 + (weight - 10) * 9999 // 990


def _v2_cpu(cpu: dict[str, Any]) -> list[Write]:
    writes: list[Write] = []
    weight = cpu_weight(_int(cpu, "shares", "cpu.shares"))
    if weight:
        writes.append(("cpu.weight", str(weight), "cpu.shares"))
    if cpu.get("idle") is not None:
        writes.append(("cpu.idle", str(_int(cpu, "idle", "cpu.idle")), "cpu.idle"))
    quota = _int(cpu, "quota", "cpu.quota")
    period = _int(cpu, "period", "cpu.period")
    if quota or period:
        text = str(quota) if quota > 0 else "max"
        text += f" {period}" if period else ""
        writes.append(("cpu.max", text, "cpu.quota" if quota else "cpu.period"))
    if cpu.get("burst") is not None:
        burst = _int(cpu, "burst", "cpu.burst")
        writes.append(("cpu.max.burst", str(burst), "cpu.burst"))
    return writes


def _v2_io(blkio: dict[str, Any], bfq: bool) -> list[Write]:
    writes: list[Write] = []
    weight = _int(blkio, "weight", "blockIO.weight")
    if weight:
        value = weight if bfq else io_weight(weight)
        file = "io.bfq.weight" if bfq else "io.weight"
        writes.append((file, str(value), "blockIO.weight"))
    for index, entry in enumerate(blkio.get("weightDevice") or []):
        field = f"blockIO.weightDevice[{index}]"
        value = _int(entry, "weight", f"{field}.weight")
        if value:
            file = "io.bfq.weight" if bfq else "io.weight"
            shown = value if bfq else io_weight(value)
            writes.append((file, f"{_device(entry)} {shown}", field))
    for key, _, name in _THROTTLES:
        for index, entry in enumerate(blkio.get(key) or []):
            rate = _int(entry, "rate", f"blockIO.{key}[{index}].rate")
            writes.append(
                ("io.max", f"{_device(entry)} {name}={rate}", f"blockIO.{key}[{index}]")
            )
    return writes


def _v2_unified(unified: dict[str, Any]) -> list[Write]:
    writes: list[Write] = []
    for key, value in unified.items():
        field = f"unified.{key}"
        if "/" in key or key.startswith(".") or "." not in key:
            raise SpecError(
                f"linux.resources.{field}: must be a file name CONTROLLER.PARAMETER"
            )
        writes.append((key, str(value), field))
    return writes
