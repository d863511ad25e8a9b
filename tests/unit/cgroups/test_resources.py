"""linux.resources to cgroup file writes: runc's conversions, for v1 and v2."""

from __future__ import annotations

from typing import Any

import pytest

from pyrunc.cgroups.resources import (
    DEFAULT_DEVICE_RULES,
    cpu_weight,
    ignored,
    io_weight,
    v1_device_writes,
    v1_writes,
    v2_swap,
    v2_writes,
)
from pyrunc.errors import NotSupportedError, SpecError


def v1(resources: dict[str, Any], **facts: Any) -> list[tuple[str, str]]:
    """Return the (file, value) pairs of v1_writes, without device rules."""
    writes = v1_writes(resources, devices=False, **facts)
    return [(file, value) for file, value, _ in writes]


def v2(resources: dict[str, Any], **facts: Any) -> list[tuple[str, str]]:
    """Return the (file, value) pairs of v2_writes."""
    return [(file, value) for file, value, _ in v2_writes(resources, **facts)]


def test_nothing_asked_writes_nothing() -> None:
    assert v1({}) == []
    assert v2({}) == []


def test_zero_values_leave_files_alone() -> None:
    resources = {
        "memory": {"limit": 0, "swap": 0, "reservation": 0},
        "cpu": {"shares": 0, "quota": 0, "period": 0, "cpus": "", "mems": ""},
        "blockIO": {"weight": 0},
    }
    assert v1(resources) == []
    assert v2(resources) == []


# memory


def test_v1_memory_limit_and_swap_on_a_fresh_cgroup() -> None:
    assert v1({"memory": {"limit": 4194304, "swap": 8388608}}) == [
        ("memory/memory.limit_in_bytes", "4194304"),
        ("memory/memory.memsw.limit_in_bytes", "8388608"),
    ]


def test_v1_memory_swap_first_when_raising_above_the_current_limit() -> None:
    writes = v1(
        {"memory": {"limit": 64 << 20, "swap": 128 << 20}}, memory_limit=8 << 20
    )
    assert writes == [
        ("memory/memory.memsw.limit_in_bytes", str(128 << 20)),
        ("memory/memory.limit_in_bytes", str(64 << 20)),
    ]


def test_v1_memory_limit_first_when_lowering() -> None:
    writes = v1({"memory": {"limit": 4 << 20, "swap": 8 << 20}}, memory_limit=64 << 20)
    assert [file for file, _ in writes] == [
        "memory/memory.limit_in_bytes",
        "memory/memory.memsw.limit_in_bytes",
    ]


def test_v1_unlimited_memory_unlimits_swap_where_accounted() -> None:
    assert v1({"memory": {"limit": -1}}) == [
        ("memory/memory.memsw.limit_in_bytes", "-1"),
        ("memory/memory.limit_in_bytes", "-1"),
    ]
    assert v1({"memory": {"limit": -1}}, swap_accounting=False) == [
        ("memory/memory.limit_in_bytes", "-1")
    ]


def test_v1_memory_extras() -> None:
    memory = {"reservation": 1 << 20, "disableOOMKiller": True, "swappiness": 10}
    assert v1({"memory": memory}) == [
        ("memory/memory.soft_limit_in_bytes", str(1 << 20)),
        ("memory/memory.oom_control", "1"),
        ("memory/memory.swappiness", "10"),
    ]


def test_v1_swappiness_minus_one_is_unset() -> None:
    assert v1({"memory": {"swappiness": -1}}) == []


@pytest.mark.parametrize("swappiness", [101, -2])
def test_v1_swappiness_out_of_range(swappiness: int) -> None:
    with pytest.raises(SpecError, match=r"memory\.swappiness.*0-100"):
        v1({"memory": {"swappiness": swappiness}})


def test_kernel_memory_is_ignored_and_reported() -> None:
    resources = {"memory": {"kernel": 1 << 20, "kernelTCP": 1 << 20}}
    assert v1(resources) == []
    assert v2(resources) == []
    assert ignored(resources, unified=False) == ["memory.kernel", "memory.kernelTCP"]


def test_v2_ignores_what_runc_ignores() -> None:
    resources = {
        "memory": {"swappiness": 10, "disableOOMKiller": True},
        "cpu": {"realtimeRuntime": 1000, "realtimePeriod": 100000},
        "blockIO": {"leafWeight": 100},
        "network": {"classID": 1},
    }
    assert v2(resources) == []
    assert ignored(resources, unified=True) == [
        "memory.swappiness",
        "memory.disableOOMKiller",
        "cpu.realtimeRuntime",
        "cpu.realtimePeriod",
        "blockIO.leafWeight",
        "network.classID",
    ]
    assert ignored(resources, unified=False) == []


@pytest.mark.parametrize(
    ("swap", "limit", "expected"),
    [
        (0, -1, -1),  # unlimited memory, swap unset: both unlimited
        (-1, 4096, -1),
        (0, 4096, 0),
        (8192, 4096, 4096),  # v1 counts memory+swap, v2 swap alone
        (4096, 4096, 0),
    ],
)
def test_v2_swap_is_memsw_minus_memory(swap: int, limit: int, expected: int) -> None:
    assert v2_swap(swap, limit) == expected


@pytest.mark.parametrize(
    ("swap", "limit", "message"),
    [(8192, 0, "without a memory limit"), (4096, 8192, "at least the memory")],
)
def test_v2_swap_errors(swap: int, limit: int, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        v2_swap(swap, limit)


def test_v2_memory() -> None:
    memory = {"limit": 4 << 20, "swap": 12 << 20, "reservation": 1 << 20}
    assert v2({"memory": memory}) == [
        ("memory.swap.max", str(8 << 20)),
        ("memory.max", str(4 << 20)),
        ("memory.low", str(1 << 20)),
    ]


def test_v2_swap_equal_to_limit_turns_swap_off() -> None:
    assert v2({"memory": {"limit": 4096, "swap": 4096}}) == [
        ("memory.swap.max", "0"),
        ("memory.max", "4096"),
    ]


def test_v2_unlimited_memory() -> None:
    assert v2({"memory": {"limit": -1}}) == [
        ("memory.swap.max", "max"),
        ("memory.max", "max"),
    ]


# cpu


def test_v1_cpu() -> None:
    cpu = {
        "shares": 512,
        "quota": 50000,
        "period": 100000,
        "burst": 1000,
        "realtimeRuntime": 950,
        "realtimePeriod": 1000,
        "cpus": "0-1",
        "mems": "0",
        "idle": 1,
    }
    assert v1({"cpu": cpu}) == [
        ("cpu/cpu.rt_period_us", "1000"),
        ("cpu/cpu.rt_runtime_us", "950"),
        ("cpu/cpu.shares", "512"),
        ("cpu/cpu.cfs_period_us", "100000"),
        ("cpu/cpu.cfs_quota_us", "50000"),
        ("cpu/cpu.cfs_burst_us", "1000"),
        ("cpu/cpu.idle", "1"),
        ("cpuset/cpuset.cpus", "0-1"),
        ("cpuset/cpuset.mems", "0"),
    ]


def test_v1_unlimited_quota() -> None:
    assert v1({"cpu": {"quota": -1}}) == [("cpu/cpu.cfs_quota_us", "-1")]


@pytest.mark.parametrize(
    ("shares", "weight"),
    [(0, 0), (2, 1), (1024, 39), (262144, 10000)],
)
def test_cpu_weight_is_runcs_formula(shares: int, weight: int) -> None:
    assert cpu_weight(shares) == weight


def test_v2_cpu() -> None:
    cpu = {"shares": 1024, "quota": 50000, "period": 100000, "burst": 10, "idle": 0}
    assert v2({"cpu": cpu}) == [
        ("cpu.weight", "39"),
        ("cpu.idle", "0"),
        ("cpu.max", "50000 100000"),
        ("cpu.max.burst", "10"),
    ]


@pytest.mark.parametrize(
    ("cpu", "expected"),
    [
        ({"quota": 20000}, "20000"),
        ({"quota": -1, "period": 50000}, "max 50000"),
        ({"period": 50000}, "max 50000"),
    ],
)
def test_v2_cpu_max(cpu: dict[str, int], expected: str) -> None:
    assert v2({"cpu": cpu}) == [("cpu.max", expected)]


def test_v2_cpuset() -> None:
    assert v2({"cpu": {"cpus": "1", "mems": "0"}}) == [
        ("cpuset.cpus", "1"),
        ("cpuset.mems", "0"),
    ]


# pids


@pytest.mark.parametrize(("limit", "value"), [(5, "5"), (0, "max"), (-1, "max")])
def test_pids(limit: int, value: str) -> None:
    assert v1({"pids": {"limit": limit}}) == [("pids/pids.max", value)]
    assert v2({"pids": {"limit": limit}}) == [("pids.max", value)]


# block I/O

BLKIO = {
    "weight": 500,
    "leafWeight": 300,
    "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 200}],
    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1000}],
    "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2000}],
    "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 30}],
    "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 40}],
}


def test_v1_blkio_cfq_names() -> None:
    assert v1({"blockIO": BLKIO}) == [
        ("blkio/blkio.weight", "500"),
        ("blkio/blkio.leaf_weight", "300"),
        ("blkio/blkio.weight_device", "8:0 600"),
        ("blkio/blkio.leaf_weight_device", "8:0 200"),
        ("blkio/blkio.throttle.read_bps_device", "8:0 1000"),
        ("blkio/blkio.throttle.write_bps_device", "8:0 2000"),
        ("blkio/blkio.throttle.read_iops_device", "8:0 30"),
        ("blkio/blkio.throttle.write_iops_device", "8:0 40"),
    ]


def test_v1_blkio_bfq_names() -> None:
    files = [file for file, _ in v1({"blockIO": BLKIO}, bfq=True)]
    assert files[0] == "blkio/blkio.bfq.weight"
    assert files[2] == "blkio/blkio.bfq.weight_device"


def test_v2_io_without_bfq_converts_weights() -> None:
    assert v2({"blockIO": BLKIO}) == [
        ("io.weight", str(io_weight(500))),
        ("io.weight", f"8:0 {io_weight(600)}"),
        ("io.max", "8:0 rbps=1000"),
        ("io.max", "8:0 wbps=2000"),
        ("io.max", "8:0 riops=30"),
        ("io.max", "8:0 wiops=40"),
    ]


def test_v2_io_with_bfq_keeps_weights() -> None:
    assert v2({"blockIO": {"weight": 500}}, bfq=True) == [("io.bfq.weight", "500")]


@pytest.mark.parametrize(("weight", "converted"), [(10, 1), (1000, 10000), (500, 4950)])
def test_io_weight_is_runcs_formula(weight: int, converted: int) -> None:
    assert io_weight(weight) == converted


# hugetlb, network, rdma, unified


def test_hugetlb() -> None:
    limits = [{"pageSize": "2MB", "limit": 4194304}]
    assert v1({"hugepageLimits": limits}) == [
        ("hugetlb/hugetlb.2MB.limit_in_bytes", "4194304")
    ]
    assert v2({"hugepageLimits": limits}) == [("hugetlb.2MB.max", "4194304")]


def test_hugetlb_page_size_is_no_path() -> None:
    with pytest.raises(SpecError, match=r"hugepageLimits\[0\]\.pageSize"):
        v1({"hugepageLimits": [{"pageSize": "../x", "limit": 1}]})


def test_v1_network() -> None:
    network = {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}]}
    assert v1({"network": network}) == [
        ("net_cls/net_cls.classid", "1048577"),
        ("net_prio/net_prio.ifpriomap", "eth0 5"),
    ]


def test_rdma() -> None:
    rdma = {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}, "mlx4_0": {}}
    assert v1({"rdma": rdma}) == [
        ("rdma/rdma.max", "mlx5_1 hca_handle=3 hca_object=10000")
    ]
    assert v2({"rdma": rdma}) == [("rdma.max", "mlx5_1 hca_handle=3 hca_object=10000")]


def test_unified_is_written_as_given_and_last() -> None:
    resources = {"unified": {"memory.high": "1000000"}, "pids": {"limit": 3}}
    assert v2(resources) == [("pids.max", "3"), ("memory.high", "1000000")]


@pytest.mark.parametrize("key", ["../memory.max", "memory", "a/b.c", ".x"])
def test_unified_keys_must_be_file_names(key: str) -> None:
    with pytest.raises(SpecError, match="CONTROLLER.PARAMETER"):
        v2({"unified": {key: "1"}})


def test_unified_on_v1_names_the_field() -> None:
    with pytest.raises(NotSupportedError, match=r"linux\.resources\.unified"):
        v1({"unified": {"memory.high": "1"}})


def test_values_must_be_integers() -> None:
    with pytest.raises(SpecError, match=r"linux\.resources\.memory\.limit"):
        v1({"memory": {"limit": "4m"}})


# devices


def test_v1_devices_deny_all_then_spec_then_runc_defaults() -> None:
    rules = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"},
        {"allow": False, "type": "b", "major": 7, "access": "r"},
    ]
    writes = [(file, value) for file, value, _ in v1_device_writes(rules)]
    assert writes[:4] == [
        ("devices/devices.deny", "a"),
        ("devices/devices.deny", "a"),
        ("devices/devices.allow", "c 10:229 rw"),
        ("devices/devices.deny", "b 7:* r"),
    ]
    assert writes[4:] == [
        ("devices/devices.allow", "c *:* m"),
        ("devices/devices.allow", "b *:* m"),
        ("devices/devices.allow", "c 1:3 rwm"),
        ("devices/devices.allow", "c 1:8 rwm"),
        ("devices/devices.allow", "c 1:7 rwm"),
        ("devices/devices.allow", "c 5:0 rwm"),
        ("devices/devices.allow", "c 1:5 rwm"),
        ("devices/devices.allow", "c 1:9 rwm"),
        ("devices/devices.allow", "c 136:* rwm"),
        ("devices/devices.allow", "c 5:2 rwm"),
        ("devices/devices.allow", "c 10:200 rwm"),
    ]
    assert len(DEFAULT_DEVICE_RULES) == 11


def test_v1_devices_only_at_create() -> None:
    rules = {"devices": [{"allow": True, "access": "rwm"}]}
    assert v1_writes(rules, devices=False) == []
    assert v1_writes(rules)[1] == ("devices/devices.allow", "a", "devices[0]")


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"allow": True, "type": "c"}, r"devices\[0\]\.access"),
        ({"allow": True, "access": "rwx"}, r"devices\[0\]\.access"),
        ({"allow": True, "type": "p", "access": "r"}, r"devices\[0\]\.type"),
    ],
)
def test_v1_bad_device_rules(rule: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError, match=field):
        v1_device_writes([rule])


def test_fields_name_their_source() -> None:
    writes = v1_writes({"memory": {"limit": 4096}, "pids": {"limit": 2}}, devices=False)
    assert [field for _, _, field in writes] == ["memory.limit", "pids.limit"]
