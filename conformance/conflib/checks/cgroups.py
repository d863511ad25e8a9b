"""config-linux.md Control groups: cgroupsPath and resources where observable.

Values are read on the host, in the cgroup the state's pid is in. When a
runtime fails to apply a resource, the suite writes the same value into a
scratch cgroup of its own: if the host refuses that too, the requirement is
skipped with the host's reason instead of failed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from benchlib import cgroups

from conflib.case import Case, Failure, Skip, equal, require
from conflib.registry import requirement

SPEC = "config-linux.md"
SLEEP = "exec sleep 60"


def _host_refuses(case: Case, controller: str, file: str, value: str) -> str | None:
    """Return why the host refuses value in file of a fresh cgroup, or None."""
    hierarchy = cgroups.controller_hierarchy(controller)
    if hierarchy is None:
        return f"no cgroup v1 {controller} hierarchy on this host"
    scratch = hierarchy.directory(
        os.path.join(hierarchy.own_path, case.workspace.cgroup_parent, "host-probe")
    )
    try:
        scratch.mkdir(parents=True, exist_ok=True)
        if not (scratch / file).exists():
            return f"this host's {controller} cgroups have no {file}"
        (scratch / file).write_text(value)
    except OSError as err:
        return f"the host refuses {value} in {file}: {err.strerror}"
    finally:
        if scratch.exists():
            os.rmdir(scratch)
    return None


def _container_dir(case: Case, container_id: str, controller: str) -> Path:
    pid = case.state(container_id)["pid"]
    found = cgroups.process_cgroup(pid, controller)
    if found is None:
        raise Failure(f"the container is in no {controller} cgroup")
    return found[1]


def _applied(
    case: Case, resources: dict[str, Any], controller: str, file: str, value: str
) -> None:
    """Create a container with resources and check value is in its file.

    Raises:
        Skip: the host lacks the controller or the file, or refuses the value.
        Failure: the runtime failed where the host would not, or the value
            is not in the file.
    """
    if cgroups.controller_hierarchy(controller) is None:
        raise Skip(f"no cgroup v1 {controller} hierarchy on this host")
    config = case.config(SLEEP)
    config["linux"]["resources"].update(resources)
    container_id, result = case.create(config, check=False)
    if not result.ok:
        reason = _host_refuses(case, controller, file, value)
        if reason is not None:
            raise Skip(reason)
        raise Failure(f"create failed:\n{result.describe()}")
    path = _container_dir(case, container_id, controller) / file
    if not path.exists():
        raise Skip(f"this host's {controller} cgroups have no {file}")
    equal(path.read_text().strip(), value, file)


@requirement(
    SPEC, "Cgroups Path", "a relative cgroupsPath places the container under it"
)
def cgroups_path_relative(case: Case) -> None:
    container_id, _ = case.create(case.config(SLEEP))
    pid = case.state(container_id)["pid"]
    found = cgroups.process_cgroup(pid, "memory")
    wanted = case.cgroups_path(container_id)
    require(
        found is not None and found[0].endswith("/" + wanted),
        f"memory cgroup {found and found[0]} does not end in {wanted}",
    )


@requirement(
    SPEC, "Cgroups Path", "an absolute cgroupsPath MUST be taken from the mount"
)
def cgroups_path_absolute(case: Case) -> None:
    container_id = case.new_id()
    wanted = f"/{case.workspace.cgroup_parent}/absolute-{container_id}"
    config = case.config(SLEEP)
    config["linux"]["cgroupsPath"] = wanted
    case.create(config, container_id)
    found = cgroups.process_cgroup(case.state(container_id)["pid"], "memory")
    equal(found and found[0], wanted, "memory cgroup of the container")


@requirement(SPEC, "Memory", "memory.limit sets the memory limit")
def memory_limit(case: Case) -> None:
    limit = 64 << 20
    _applied(
        case,
        {"memory": {"limit": limit}},
        "memory",
        "memory.limit_in_bytes",
        str(limit),
    )


@requirement(SPEC, "Memory", "memory.reservation sets the soft limit")
def memory_reservation(case: Case) -> None:
    soft = 32 << 20
    _applied(
        case,
        {"memory": {"reservation": soft}},
        "memory",
        "memory.soft_limit_in_bytes",
        str(soft),
    )


@requirement(SPEC, "Memory", "memory.swap sets the memory+swap limit")
def memory_swap(case: Case) -> None:
    limit, swap = 64 << 20, 128 << 20
    _applied(
        case,
        {"memory": {"limit": limit, "swap": swap}},
        "memory",
        "memory.memsw.limit_in_bytes",
        str(swap),
    )


@requirement(SPEC, "Memory", "memory.swappiness sets the swappiness")
def memory_swappiness(case: Case) -> None:
    _applied(case, {"memory": {"swappiness": 10}}, "memory", "memory.swappiness", "10")


@requirement(SPEC, "PIDs", "pids.limit sets the maximum number of tasks")
def pids_limit(case: Case) -> None:
    _applied(case, {"pids": {"limit": 42}}, "pids", "pids.max", "42")


@requirement(SPEC, "CPU", "cpu.shares sets the relative share of CPU time")
def cpu_shares(case: Case) -> None:
    _applied(case, {"cpu": {"shares": 512}}, "cpu", "cpu.shares", "512")


@requirement(SPEC, "CPU", "cpu.quota sets the CFS quota")
def cpu_quota(case: Case) -> None:
    resources = {"cpu": {"quota": 50000, "period": 100000}}
    _applied(case, resources, "cpu", "cpu.cfs_quota_us", "50000")


@requirement(SPEC, "CPU", "cpu.period sets the CFS period")
def cpu_period(case: Case) -> None:
    resources = {"cpu": {"quota": 50000, "period": 200000}}
    _applied(case, resources, "cpu", "cpu.cfs_period_us", "200000")


@requirement(SPEC, "CPU", "cpu.cpus sets the CPUs the container runs on")
def cpu_cpus(case: Case) -> None:
    _applied(case, {"cpu": {"cpus": "0"}}, "cpuset", "cpuset.cpus", "0")


@requirement(SPEC, "Block IO", "blockIO.weight sets the block IO weight")
def blkio_weight(case: Case) -> None:
    _applied(case, {"blockIO": {"weight": 300}}, "blkio", "blkio.weight", "300")


@requirement(SPEC, "Huge page limits", "hugepageLimits set the HugeTLB limit")
def hugepage_limit(case: Case) -> None:
    resources = {"hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 20}]}
    _applied(case, resources, "hugetlb", "hugetlb.2MB.limit_in_bytes", str(4 << 20))


@requirement(SPEC, "Network", "network.classID tags the cgroup's packets")
def network_class_id(case: Case) -> None:
    resources = {"network": {"classID": 0x100001}}
    _applied(case, resources, "net_cls", "net_cls.classid", str(0x100001))
