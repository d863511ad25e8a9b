"""config.json validation: pyrunc's schema, its messages, and the checks beyond it."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyrunc.errors import SpecError
from pyrunc.log import Logging
from pyrunc.spec.checks import (
    RLIMIT_TYPES,
    check_config,
    check_runnable,
    deprecation_warnings,
)
from pyrunc.spec.load import load_config, parse_config
from pyrunc.spec.validate import SCHEMA_PATH, format_path, load_schema, validate
from tests import oci_schema
from tests.support import generate_validator_code

REPO = Path(__file__).resolve().parents[3]
SPEC_DIR = Path(
    os.environ.get("PYRUNC_OCI_SPEC_DIR") or REPO.parent / "shared" / "oci-runtime-spec"
)
CONFIG_FIXTURES = SPEC_DIR / "schema" / "test" / "config"
NO_FIXTURES = (
    f"no OCI runtime-spec fixtures at {CONFIG_FIXTURES} (set PYRUNC_OCI_SPEC_DIR)"
)


def _fixture_names(verdict: str) -> list[str]:
    folder = CONFIG_FIXTURES / verdict
    return sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []


GOOD = _fixture_names("good")
BAD = _fixture_names("bad")

# Why each official bad fixture is bad (checked against the spec text), and the
# field our message must name. None: pyrunc accepts it on purpose.
BAD_FIELDS: dict[str, str | None] = {
    # pageSize is <size><unit-prefix>B with an upper-case unit prefix: "64kB" is not.
    "linux-hugepage.json": "linux.resources.hugepageLimits[0].pageSize",
    # netDevices.<name>.name is a string.
    "linux-netdevice.json": "linux.netDevices.eth0.name",
    # rdma.<device>.hcaHandles is a uint32.
    "linux-rdma.json": "linux.resources.rdma.mlx5_1.hcaHandles",
    # Not JSON at all: the loader rejects it before any schema.
    "invalid-json.json": "invalid JSON",
    # freebsd.jail.vnet must be "new" or "inherit"; pyrunc checks the freebsd
    # section only to be an object (it runs Linux containers only).
    "freebsd-vnet-disable.json": None,
}
# Fixtures where pyrunc's schema and the official one disagree, on purpose.
DIVERGENCES = {"freebsd-vnet-disable.json": "freebsd is only checked to be an object"}


def _need_fixtures() -> None:
    if not CONFIG_FIXTURES.is_dir():
        pytest.skip(NO_FIXTURES)


def _load_fixture(verdict: str, name: str) -> Any:
    return json.loads((CONFIG_FIXTURES / verdict / name).read_text(encoding="utf-8"))


def _message(config: Any, run_checks: bool = True) -> str:
    with pytest.raises(SpecError) as caught:
        validate(config)
        if run_checks:
            check_config(config)
    return str(caught.value)


def base_config() -> dict[str, Any]:
    """A valid Linux config in the shape ``runc spec`` writes."""
    return {
        "ociVersion": "1.2.0",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/bin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "effective": ["CAP_KILL"],
                "permitted": ["CAP_KILL"],
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "pyrunc",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {
                "destination": "/tmp",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid"],
            },
        ],
        "linux": {
            "namespaces": [
                {"type": "pid"},
                {"type": "network"},
                {"type": "ipc"},
                {"type": "uts"},
                {"type": "mount"},
            ],
            "maskedPaths": ["/proc/kcore"],
            "readonlyPaths": ["/proc/sys"],
        },
    }


# ---- building variants of base_config ---------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _walk(config: dict[str, Any], path: str) -> tuple[Any, str | int]:
    """The container holding the last element of a dotted path, and that key."""
    keys: list[str | int] = [int(k) if k.isdigit() else k for k in path.split(".")]
    node: Any = config
    for key in keys[:-1]:
        if isinstance(node, dict) and key not in node:
            node[key] = {}
        node = node[key]
    return node, keys[-1]


def put(path: str, value: Any) -> Mutation:
    def mutate(config: dict[str, Any]) -> None:
        node, key = _walk(config, path)
        node[key] = copy.deepcopy(value)

    return mutate


def drop(path: str) -> Mutation:
    def mutate(config: dict[str, Any]) -> None:
        node, key = _walk(config, path)
        del node[key]

    return mutate


def add(path: str, value: Any) -> Mutation:
    def mutate(config: dict[str, Any]) -> None:
        node, key = _walk(config, path)
        node[key].append(copy.deepcopy(value))

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(config: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(config)

    return mutate


def variant(*mutations: Mutation) -> dict[str, Any]:
    config = base_config()
    for mutation in mutations:
        mutation(config)
    return config


NO_UTS = put("linux.namespaces", [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}])
DEVICE = {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}

# (id, mutation, the field the message must name, a fragment of its text)
BAD_CASES: list[tuple[str, Mutation, str, str]] = [
    # top level and root
    ("ociVersion-missing", drop("ociVersion"), "ociVersion", "is required"),
    (
        "ociVersion-not-semver",
        put("ociVersion", "1.0"),
        "ociVersion",
        "must be a SemVer v2.0.0 version",
    ),
    ("ociVersion-number", put("ociVersion", 1), "ociVersion", "must be string"),
    ("root-missing", drop("root"), "root", "is required"),
    ("root-path-missing", drop("root.path"), "root.path", "is required"),
    (
        "root-readonly-string",
        put("root.readonly", "yes"),
        "root.readonly",
        "must be boolean",
    ),
    ("hostname-number", put("hostname", 7), "hostname", "must be string"),
    # mounts
    ("mounts-object", put("mounts", {}), "mounts", "must be array"),
    (
        "mount-destination-missing",
        drop("mounts.1.destination"),
        "mounts[1].destination",
        "is required",
    ),
    (
        "mount-options-string",
        put("mounts.1.options", "ro"),
        "mounts[1].options",
        "must be array",
    ),
    (
        "mount-uidMappings-alone",
        put("mounts.1.uidMappings", [{"containerID": 0, "hostID": 1000, "size": 1}]),
        "mounts[1].uidMappings",
        "requires gidMappings",
    ),
    # process
    ("process-args-string", put("process.args", "sh"), "process.args", "must be array"),
    (
        "process-args-number-item",
        put("process.args", ["sh", 1]),
        "process.args[1]",
        "must be string",
    ),
    ("process-cwd-missing", drop("process.cwd"), "process.cwd", "is required"),
    ("process-cwd-relative", put("process.cwd", "tmp"), "process.cwd", "absolute path"),
    (
        "process-terminal-string",
        put("process.terminal", "yes"),
        "process.terminal",
        "must be boolean",
    ),
    ("process-env-string", put("process.env", "A=1"), "process.env", "must be array"),
    (
        "process-env-no-equals",
        add("process.env", "NOEQUALS"),
        "process.env[2]",
        "KEY=value",
    ),
    ("process-env-empty-name", add("process.env", "=x"), "process.env[2]", "KEY=value"),
    (
        "consoleSize-width-missing",
        put("process.consoleSize", {"height": 25}),
        "process.consoleSize.width",
        "is required",
    ),
    (
        "user-uid-missing",
        put("process.user", {"gid": 0}),
        "process.user.uid",
        "is required",
    ),
    (
        "user-uid-negative",
        put("process.user.uid", -1),
        "process.user.uid",
        "bigger than or equal to 0",
    ),
    (
        "user-uid-too-big",
        put("process.user.uid", 2**32),
        "process.user.uid",
        "smaller than or equal to 4294967295",
    ),
    (
        "user-uid-float",
        put("process.user.uid", 0.0),
        "process.user.uid",
        "must be integer",
    ),
    (
        "user-uid-bool",
        put("process.user.uid", True),
        "process.user.uid",
        "must be integer",
    ),
    (
        "user-additionalGids-string",
        put("process.user.additionalGids", ["5"]),
        "process.user.additionalGids[0]",
        "must be integer",
    ),
    (
        "capabilities-array",
        put("process.capabilities", ["CAP_KILL"]),
        "process.capabilities",
        "must be object",
    ),
    (
        "capability-not-cap",
        add("process.capabilities.bounding", "KILL"),
        "process.capabilities.bounding[2]",
        "not a capability name",
    ),
    (
        "capability-lower-case",
        put("process.capabilities.ambient", ["cap_kill"]),
        "process.capabilities.ambient[0]",
        "not a capability name",
    ),
    (
        "rlimit-type-pattern",
        put("process.rlimits.0.type", "NOFILE"),
        "process.rlimits[0].type",
        "must match pattern",
    ),
    (
        "rlimit-type-unknown",
        put("process.rlimits.0.type", "RLIMIT_FOO"),
        "process.rlimits[0].type",
        "unknown rlimit type",
    ),
    (
        "rlimit-duplicate",
        add("process.rlimits", {"type": "RLIMIT_NOFILE", "hard": 1, "soft": 1}),
        "process.rlimits[1].type",
        "duplicate rlimit type",
    ),
    (
        "rlimit-soft-missing",
        put("process.rlimits", [{"type": "RLIMIT_CORE", "hard": 1}]),
        "process.rlimits[0].soft",
        "is required",
    ),
    (
        "rlimit-hard-negative",
        put("process.rlimits.0.hard", -1),
        "process.rlimits[0].hard",
        "bigger than or equal to 0",
    ),
    (
        "oomScoreAdj-string",
        put("process.oomScoreAdj", "100"),
        "process.oomScoreAdj",
        "must be integer",
    ),
    (
        "scheduler-policy-missing",
        put("process.scheduler", {"nice": 1}),
        "process.scheduler.policy",
        "is required",
    ),
    (
        "scheduler-policy-unknown",
        put("process.scheduler", {"policy": "SCHED_FAST"}),
        "process.scheduler.policy",
        "must be one of",
    ),
    (
        "scheduler-flag-unknown",
        put("process.scheduler", {"policy": "SCHED_OTHER", "flags": ["X"]}),
        "process.scheduler.flags[0]",
        "must be one of",
    ),
    (
        "scheduler-nice-too-big",
        put("process.scheduler", {"policy": "SCHED_OTHER", "nice": 2**31}),
        "process.scheduler.nice",
        "smaller than or equal to",
    ),
    (
        "ioPriority-class-unknown",
        put("process.ioPriority", {"class": "IOPRIO_CLASS_X", "priority": 1}),
        "process.ioPriority.class",
        "must be one of",
    ),
    (
        "ioPriority-priority-missing",
        put("process.ioPriority", {"class": "IOPRIO_CLASS_BE"}),
        "process.ioPriority.priority",
        "is required",
    ),
    (
        "execCPUAffinity-letters",
        put("process.execCPUAffinity", {"initial": "a-b"}),
        "process.execCPUAffinity.initial",
        "must be a list of CPUs",
    ),
    # hooks
    ("hooks-array", put("hooks", []), "hooks", "must be object"),
    (
        "hook-without-path",
        put("hooks.prestart", [{"args": ["x"]}]),
        "hooks.prestart[0].path",
        "is required",
    ),
    (
        "hook-timeout-zero",
        put("hooks.poststart", [{"path": "/bin/true", "timeout": 0}]),
        "hooks.poststart[0].timeout",
        "bigger than or equal to 1",
    ),
    (
        "hook-timeout-negative",
        put("hooks.poststop", [{"path": "/bin/true", "timeout": -5}]),
        "hooks.poststop[0].timeout",
        "bigger than or equal to 1",
    ),
    (
        "hook-timeout-string",
        put("hooks.createRuntime", [{"path": "/bin/true", "timeout": "5"}]),
        "hooks.createRuntime[0].timeout",
        "must be integer",
    ),
    (
        "hook-path-relative",
        put("hooks.startContainer", [{"path": "true"}]),
        "hooks.startContainer[0].path",
        "absolute path",
    ),
    (
        "hook-args-string",
        put("hooks.createContainer", [{"path": "/x", "args": "x"}]),
        "hooks.createContainer[0].args",
        "must be array",
    ),
    # annotations
    (
        "annotation-value-number",
        put("annotations", {"com.example.key": 1}),
        'annotations["com.example.key"]',
        "must be string",
    ),
    (
        "annotation-empty-key",
        put("annotations", {"": "x"}),
        "annotations",
        "must not have an empty key",
    ),
    # linux: namespaces and mappings
    (
        "namespace-type-unknown",
        add("linux.namespaces", {"type": "bogus"}),
        "linux.namespaces[5].type",
        "must be one of",
    ),
    (
        "namespace-type-missing",
        add("linux.namespaces", {"path": "/proc/1/ns/net"}),
        "linux.namespaces[5].type",
        "is required",
    ),
    (
        "namespace-duplicate",
        add("linux.namespaces", {"type": "pid"}),
        "linux.namespaces[5].type",
        "duplicate namespace type 'pid'",
    ),
    (
        "namespace-path-relative",
        add("linux.namespaces", {"type": "cgroup", "path": "ns/cgroup"}),
        "linux.namespaces[5].path",
        "absolute path",
    ),
    (
        "uidMappings-without-userns",
        put("linux.uidMappings", [{"containerID": 0, "hostID": 1000, "size": 1}]),
        "linux.uidMappings",
        "user namespace",
    ),
    (
        "gidMappings-without-userns",
        put("linux.gidMappings", [{"containerID": 0, "hostID": 1000, "size": 1}]),
        "linux.gidMappings",
        "user namespace",
    ),
    (
        "idmapping-size-missing",
        both(
            add("linux.namespaces", {"type": "user"}),
            put("linux.uidMappings", [{"containerID": 0, "hostID": 1000}]),
        ),
        "linux.uidMappings[0].size",
        "is required",
    ),
    ("hostname-without-uts", NO_UTS, "hostname", "UTS namespace"),
    (
        "domainname-without-uts",
        both(NO_UTS, drop("hostname"), put("domainname", "example")),
        "domainname",
        "UTS namespace",
    ),
    (
        "timeOffsets-nanosecs-negative",
        put("linux.timeOffsets", {"monotonic": {"nanosecs": -1}}),
        "linux.timeOffsets.monotonic.nanosecs",
        "bigger than or equal to 0",
    ),
    # linux: devices
    (
        "device-major-missing",
        put("linux.devices", [{"path": "/dev/fuse", "type": "c", "minor": 229}]),
        "linux.devices[0]",
        "major and minor unless type is p",
    ),
    (
        "device-type-unknown",
        put("linux.devices", [dict(DEVICE, type="x")]),
        "linux.devices[0].type",
        "must be one of",
    ),
    (
        "device-path-missing",
        put("linux.devices", [{"type": "c", "major": 1, "minor": 3}]),
        "linux.devices[0].path",
        "is required",
    ),
    (
        "netDevice-name-number",
        put("linux.netDevices", {"eth0": {"name": 1}}),
        "linux.netDevices.eth0.name",
        "must be string",
    ),
    # linux: resources
    (
        "cgroup-device-allow-missing",
        put("linux.resources.devices", [{"access": "rwm"}]),
        "linux.resources.devices[0].allow",
        "is required",
    ),
    (
        "cgroup-device-access",
        put("linux.resources.devices", [{"allow": False, "access": "rwx"}]),
        "linux.resources.devices[0].access",
        "must be made of r, w and m",
    ),
    (
        "memory-limit-string",
        put("linux.resources.memory", {"limit": "1G"}),
        "linux.resources.memory.limit",
        "must be integer",
    ),
    (
        "memory-swappiness-101",
        put("linux.resources.memory", {"swappiness": 101}),
        "linux.resources.memory.swappiness",
        "smaller than or equal to 100",
    ),
    (
        "cpu-shares-negative",
        put("linux.resources.cpu", {"shares": -1}),
        "linux.resources.cpu.shares",
        "bigger than or equal to 0",
    ),
    (
        "pids-limit-string",
        put("linux.resources.pids", {"limit": "max"}),
        "linux.resources.pids.limit",
        "must be integer",
    ),
    (
        "hugepage-pageSize-lower",
        put("linux.resources.hugepageLimits", [{"pageSize": "2mb", "limit": 1}]),
        "linux.resources.hugepageLimits[0].pageSize",
        "<size><unit-prefix>B",
    ),
    (
        "hugepage-limit-missing",
        put("linux.resources.hugepageLimits", [{"pageSize": "2MB"}]),
        "linux.resources.hugepageLimits[0].limit",
        "is required",
    ),
    (
        "weightDevice-no-weight",
        put("linux.resources.blockIO", {"weightDevice": [{"major": 8, "minor": 0}]}),
        "linux.resources.blockIO.weightDevice[0]",
        "weight or leafWeight",
    ),
    (
        "throttle-rate-missing",
        put(
            "linux.resources.blockIO",
            {"throttleReadBpsDevice": [{"major": 8, "minor": 0}]},
        ),
        "linux.resources.blockIO.throttleReadBpsDevice[0].rate",
        "is required",
    ),
    (
        "blockIO-weight-too-big",
        put("linux.resources.blockIO", {"weight": 70000}),
        "linux.resources.blockIO.weight",
        "smaller than or equal to 65535",
    ),
    (
        "network-priority-name-missing",
        put("linux.resources.network", {"priorities": [{"priority": 1}]}),
        "linux.resources.network.priorities[0].name",
        "is required",
    ),
    (
        "rdma-entry-empty",
        put("linux.resources.rdma", {"mlx5_1": {}}),
        "linux.resources.rdma.mlx5_1",
        "hcaHandles or hcaObjects",
    ),
    (
        "unified-value-number",
        put("linux.resources.unified", {"memory.max": 1}),
        'linux.resources.unified["memory.max"]',
        "must be string",
    ),
    # linux: everything else
    (
        "rootfsPropagation-unknown",
        put("linux.rootfsPropagation", "rshared"),
        "linux.rootfsPropagation",
        "must be one of",
    ),
    (
        "sysctl-value-number",
        put("linux.sysctl", {"net.ipv4.ip_forward": 1}),
        'linux.sysctl["net.ipv4.ip_forward"]',
        "must be string",
    ),
    (
        "sysctl-not-namespaced",
        put("linux.sysctl", {"vm.swappiness": "1"}),
        'linux.sysctl["vm.swappiness"]',
        "not in a separate kernel namespace",
    ),
    (
        "sysctl-net-host-netns",
        both(
            put("linux.namespaces", [{"type": "pid"}, {"type": "uts"}]),
            put("linux.sysctl", {"net.ipv4.ip_forward": "1"}),
        ),
        'linux.sysctl["net.ipv4.ip_forward"]',
        "host's network namespace",
    ),
    (
        "sysctl-ipc-host-ipcns",
        both(
            put("linux.namespaces", [{"type": "uts"}]),
            put("linux.sysctl", {"kernel.shmmax": "1"}),
        ),
        'linux.sysctl["kernel.shmmax"]',
        "host's IPC namespace",
    ),
    (
        "sysctl-mqueue-host-ipcns",
        both(
            put("linux.namespaces", [{"type": "uts"}]),
            put("linux.sysctl", {"fs.mqueue.msg_max": "1"}),
        ),
        'linux.sysctl["fs.mqueue.msg_max"]',
        "host's IPC namespace",
    ),
    (
        "sysctl-kernel-hostname",
        put("linux.sysctl", {"kernel.hostname": "x"}),
        'linux.sysctl["kernel.hostname"]',
        "conflicts with the hostname field",
    ),
    (
        "maskedPaths-relative",
        add("linux.maskedPaths", "proc/kcore"),
        "linux.maskedPaths[1]",
        "absolute path",
    ),
    (
        "readonlyPaths-relative",
        add("linux.readonlyPaths", "proc/sys"),
        "linux.readonlyPaths[1]",
        "absolute path",
    ),
    (
        "mountLabel-number",
        put("linux.mountLabel", 1),
        "linux.mountLabel",
        "must be string",
    ),
    (
        "seccomp-defaultAction-missing",
        put("linux.seccomp", {"syscalls": []}),
        "linux.seccomp.defaultAction",
        "is required",
    ),
    (
        "seccomp-defaultAction-unknown",
        put("linux.seccomp", {"defaultAction": "SCMP_ACT_DENY"}),
        "linux.seccomp.defaultAction",
        "must be one of",
    ),
    (
        "seccomp-arch-unknown",
        put(
            "linux.seccomp",
            {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]},
        ),
        "linux.seccomp.architectures[0]",
        "must be one of",
    ),
    (
        "seccomp-flag-unknown",
        put(
            "linux.seccomp",
            {"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_X"]},
        ),
        "linux.seccomp.flags[0]",
        "must be one of",
    ),
    (
        "seccomp-names-empty",
        put(
            "linux.seccomp",
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}],
            },
        ),
        "linux.seccomp.syscalls[0].names",
        "at least 1 item",
    ),
    (
        "seccomp-action-unknown",
        put(
            "linux.seccomp",
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["read"], "action": "DENY"}],
            },
        ),
        "linux.seccomp.syscalls[0].action",
        "must be one of",
    ),
    (
        "seccomp-op-unknown",
        put(
            "linux.seccomp",
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                    {
                        "names": ["read"],
                        "action": "SCMP_ACT_ERRNO",
                        "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_XOR"}],
                    }
                ],
            },
        ),
        "linux.seccomp.syscalls[0].args[0].op",
        "must be one of",
    ),
    (
        "seccomp-arg-value-missing",
        put(
            "linux.seccomp",
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                    {
                        "names": ["read"],
                        "action": "SCMP_ACT_ERRNO",
                        "args": [{"index": 0, "op": "SCMP_CMP_EQ"}],
                    }
                ],
            },
        ),
        "linux.seccomp.syscalls[0].args[0].value",
        "is required",
    ),
    (
        "seccomp-listenerMetadata-alone",
        put(
            "linux.seccomp",
            {"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x"},
        ),
        "linux.seccomp.listenerMetadata",
        "requires listenerPath",
    ),
    (
        "intelRdt-memBwSchema",
        put("linux.intelRdt", {"memBwSchema": "L3:0=1"}),
        "linux.intelRdt.memBwSchema",
        "must start with MB:",
    ),
    (
        "intelRdt-memBwSchema-newline",
        put("linux.intelRdt", {"memBwSchema": "MB:0=20\n"}),
        "linux.intelRdt.memBwSchema",
        "must start with MB: and hold no newline",
    ),
    (
        "intelRdt-schemata-newline",
        put("linux.intelRdt", {"schemata": ["L3:0=7f0\nMB:0=20"]}),
        "linux.intelRdt.schemata[0]",
        "must hold no newline",
    ),
    (
        "rlimit-type-trailing-newline",
        put("process.rlimits.0.type", "RLIMIT_CORE\n"),
        "process.rlimits[0].type",
        "must match pattern",
    ),
    (
        "memoryPolicy-mode-missing",
        put("linux.memoryPolicy", {"nodes": "0-1"}),
        "linux.memoryPolicy.mode",
        "is required",
    ),
    (
        "memoryPolicy-flag-unknown",
        put("linux.memoryPolicy", {"mode": "MPOL_BIND", "flags": ["MPOL_F_X"]}),
        "linux.memoryPolicy.flags[0]",
        "must be one of",
    ),
    (
        "personality-domain-unknown",
        put("linux.personality", {"domain": "LINUX64"}),
        "linux.personality.domain",
        "must be one of",
    ),
    (
        "personality-domain-missing",
        put("linux.personality", {"flags": []}),
        "linux.personality.domain",
        "is required",
    ),
    ("other-platform-not-object", put("windows", []), "windows", "must be object"),
]


@pytest.mark.parametrize(
    ("mutation", "field", "text"),
    [pytest.param(m, f, t, id=i) for i, m, f, t in BAD_CASES],
)
def test_bad_config_names_the_field(
    validation_mode: str, mutation: Mutation, field: str, text: str
) -> None:
    message = _message(variant(mutation))
    assert message.startswith(f"config.json: {field}: "), message
    assert text in message


GOOD_VARIANTS: list[tuple[str, Mutation]] = [
    ("base", both()),
    ("no-process", drop("process")),
    (
        "fifo-device-without-numbers",
        put("linux.devices", [{"path": "/dev/fifo", "type": "p"}]),
    ),
    ("device-full", put("linux.devices", [dict(DEVICE, fileMode=438, uid=0, gid=0)])),
    ("pids-limit-optional", put("linux.resources.pids", {})),
    ("pids-limit-unlimited", put("linux.resources.pids", {"limit": -1})),
    (
        "relative-mount-destination",
        add("mounts", {"destination": "data", "type": "tmpfs", "source": "tmpfs"}),
    ),
    (
        "mount-idmapped",
        both(
            put("mounts.1.uidMappings", [{"containerID": 0, "hostID": 1, "size": 1}]),
            put("mounts.1.gidMappings", [{"containerID": 0, "hostID": 1, "size": 1}]),
        ),
    ),
    (
        "userns-with-mappings",
        both(
            add("linux.namespaces", {"type": "user"}),
            put("linux.uidMappings", [{"containerID": 0, "hostID": 1000, "size": 1}]),
            put("linux.gidMappings", [{"containerID": 0, "hostID": 1000, "size": 1}]),
        ),
    ),
    ("empty-mappings-without-userns", put("linux.uidMappings", [])),
    ("namespace-empty-path", put("linux.namespaces.0", {"type": "pid", "path": ""})),
    (
        "netns-by-path-with-net-sysctl",
        both(
            put("linux.namespaces.1", {"type": "network", "path": "/var/run/netns/a"}),
            put(
                "linux.sysctl",
                {"net.ipv4.ip_forward": "1", "net/core/somaxconn": "256"},
            ),
        ),
    ),
    (
        "namespaced-sysctls",
        put(
            "linux.sysctl",
            {
                "kernel.shmmax": "1",
                "fs.mqueue.msg_max": "10",
                "kernel.domainname": "x",
            },
        ),
    ),
    (
        "unknown-capability-name",
        add("process.capabilities.bounding", "CAP_FUTURE_THING"),
    ),
    (
        "all-rlimit-types",
        put(
            "process.rlimits",
            [{"type": t, "soft": 1, "hard": 2} for t in sorted(RLIMIT_TYPES)],
        ),
    ),
    ("prerelease-ociVersion", put("ociVersion", "1.3.0-rc.1+build.5")),
    (
        "annotations",
        put(
            "annotations",
            {"com.example.key": "", "org.opencontainers.image.os": "linux"},
        ),
    ),
    (
        "unknown-properties-ignored",
        both(put("vendorThing", {"x": 1}), put("process.futureField", [1])),
    ),
    (
        "hooks-all-kinds",
        put(
            "hooks",
            {
                k: [
                    {
                        "path": "/bin/true",
                        "args": ["true"],
                        "env": ["A=1"],
                        "timeout": 1,
                    }
                ]
                for k in (
                    "prestart",
                    "createRuntime",
                    "createContainer",
                    "startContainer",
                    "poststart",
                    "poststop",
                )
            },
        ),
    ),
    (
        "seccomp-full",
        put(
            "linux.seccomp",
            {
                "defaultAction": "SCMP_ACT_ERRNO",
                "defaultErrnoRet": 1,
                "architectures": ["SCMP_ARCH_X86_64"],
                "flags": ["SECCOMP_FILTER_FLAG_LOG"],
                "listenerPath": "/run/agent.sock",
                "listenerMetadata": "m",
                "syscalls": [
                    {
                        "names": ["read"],
                        "action": "SCMP_ACT_ALLOW",
                        "errnoRet": 1,
                        "args": [
                            {
                                "index": 0,
                                "value": 1,
                                "valueTwo": 2,
                                "op": "SCMP_CMP_MASKED_EQ",
                            }
                        ],
                    }
                ],
            },
        ),
    ),
    (
        "intelRdt-full",
        put(
            "linux.intelRdt",
            {
                "closID": "/",
                "l3CacheSchema": "L3:0=7f0",
                "memBwSchema": "MB:0=20",
                "schemata": ["L2:0=f"],
                "enableMonitoring": True,
            },
        ),
    ),
    (
        "memoryPolicy",
        put(
            "linux.memoryPolicy",
            {
                "mode": "MPOL_INTERLEAVE",
                "nodes": "2-3",
                "flags": ["MPOL_F_STATIC_NODES"],
            },
        ),
    ),
    (
        "scheduler-ioPriority-affinity",
        both(
            put(
                "process.scheduler",
                {
                    "policy": "SCHED_DEADLINE",
                    "runtime": 1,
                    "deadline": 2,
                    "period": 3,
                    "flags": ["SCHED_FLAG_RECLAIM"],
                },
            ),
            put("process.ioPriority", {"class": "IOPRIO_CLASS_RT", "priority": 0}),
            put("process.execCPUAffinity", {"initial": "7", "final": "0-3,7"}),
        ),
    ),
    ("windows-style-section-ignored", put("windows", {"layerFolders": ["C:\\x"]})),
]


@pytest.mark.parametrize("mutation", [pytest.param(m, id=i) for i, m in GOOD_VARIANTS])
def test_good_variant_passes(validation_mode: str, mutation: Mutation) -> None:
    config = variant(mutation)
    snapshot = copy.deepcopy(config)
    validate(config)
    check_config(config)
    assert config == snapshot, "validation must not change the document"


@pytest.mark.parametrize("document", [[], "x", 1, None, True], ids=repr)
def test_top_level_must_be_object(validation_mode: str, document: Any) -> None:
    assert _message(document, run_checks=False) == "config.json: must be object"


def test_first_error_is_reported_with_its_path(validation_mode: str) -> None:
    config = variant(put("linux.namespaces.2.type", "ipcs"))
    message = _message(config)
    assert message.startswith("config.json: linux.namespaces[2].type: must be one of [")
    assert (
        "'pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'" in message
    )


@pytest.mark.parametrize("rootless", [False, True], ids=["root", "rootless"])
def test_pyrunc_spec_template_loads(rootless: bool) -> None:
    from pyrunc.spec.default import default_config

    config = default_config(rootless)
    validate(config)
    check_config(config)
    check_runnable(config)


@pytest.mark.parametrize("args", [[], ["--rootless"]], ids=["root", "rootless"])
def test_runc_spec_template_loads(args: list[str], tmp_path: Path) -> None:
    runc = shutil.which("runc")
    if runc is None:
        pytest.skip("runc is not installed")
    subprocess.run([runc, "spec", *args], cwd=tmp_path, check=True, timeout=60)
    check_runnable(load_config(str(tmp_path)))


# ---- the official fixtures ------------------------------------------------------


@pytest.mark.parametrize(
    "name", GOOD or [pytest.param("none", marks=pytest.mark.skip(NO_FIXTURES))]
)
def test_official_good_fixture_passes(validation_mode: str, name: str) -> None:
    _need_fixtures()
    config = _load_fixture("good", name)
    validate(config)
    check_config(config)


@pytest.mark.parametrize(
    "name", BAD or [pytest.param("none", marks=pytest.mark.skip(NO_FIXTURES))]
)
def test_official_bad_fixture_is_rejected(
    validation_mode: str, name: str, write_bundle: Callable[[Any], Path]
) -> None:
    _need_fixtures()
    field = BAD_FIELDS.get(name, "")
    bundle = write_bundle((CONFIG_FIXTURES / "bad" / name).read_text(encoding="utf-8"))
    if field is None:
        load_config(str(bundle))  # accepted on purpose; see BAD_FIELDS
        return
    with pytest.raises(SpecError) as caught:
        load_config(str(bundle))
    message = str(caught.value)
    assert message.startswith("config.json: "), message
    assert field in message, f"{name}: {message}"


@pytest.mark.parametrize(
    "name", GOOD or [pytest.param("none", marks=pytest.mark.skip(NO_FIXTURES))]
)
def test_official_good_fixture_loads_from_a_bundle(
    name: str, write_bundle: Callable[[Any], Path]
) -> None:
    _need_fixtures()
    bundle = write_bundle((CONFIG_FIXTURES / "good" / name).read_text(encoding="utf-8"))
    assert load_config(str(bundle)) == _load_fixture("good", name)


def _official_fixtures() -> Iterator[Any]:
    for verdict, names in (("good", GOOD), ("bad", BAD)):
        for name in names:
            yield pytest.param(verdict, name, id=f"{verdict}/{name}")


@pytest.mark.parametrize(
    ("verdict", "name"),
    list(_official_fixtures())
    or [pytest.param("", "", marks=pytest.mark.skip(NO_FIXTURES))],
)
def test_schema_agrees_with_the_official_one(verdict: str, name: str) -> None:
    if not oci_schema.available():
        pytest.skip(oci_schema.MISSING)
    try:
        document = _load_fixture(verdict, name)
    except ValueError:
        pytest.skip("not JSON: no schema sees it")
    official = not oci_schema.official_errors(document, "config")
    try:
        validate(document)
        ours = True
    except SpecError:
        ours = False
    assert official == (verdict == "good"), (
        "the official schema disagrees with its fixture"
    )
    if name in DIVERGENCES:
        assert ours != official, f"{name} no longer diverges: {DIVERGENCES[name]}"
    else:
        assert ours == official


def test_every_bad_fixture_has_a_reason() -> None:
    _need_fixtures()
    assert set(BAD) <= set(BAD_FIELDS), "explain each new bad fixture in BAD_FIELDS"


# ---- check_runnable, load_config, warnings ------------------------------------


def test_check_runnable_accepts_a_process_with_args() -> None:
    check_runnable(base_config())


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        pytest.param(
            drop("process"), "config.json: process: is required", id="no-process"
        ),
        pytest.param(
            put("process.args", []),
            "config.json: process.args: must not be empty",
            id="empty-args",
        ),
        pytest.param(
            drop("process.args"),
            "config.json: process.args: must not be empty",
            id="no-args",
        ),
    ],
)
def test_check_runnable_rejects(mutation: Mutation, expected: str) -> None:
    config = variant(mutation)
    validate(config)  # valid per the spec, but nothing to run
    with pytest.raises(SpecError) as caught:
        check_runnable(config)
    assert str(caught.value).startswith(expected)


def test_load_config_without_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load_config(str(tmp_path))
    assert str(caught.value) == "JSON specification file config.json not found"


def test_load_config_unreadable(tmp_path: Path) -> None:
    (tmp_path / "config.json").mkdir()
    with pytest.raises(SpecError, match=r"^config\.json: cannot read: is a directory"):
        load_config(str(tmp_path))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("{]", "config.json: invalid JSON: ", id="syntax"),
        pytest.param("", "config.json: invalid JSON: ", id="empty"),
        pytest.param('{"ociVersion": NaN}', "config.json: invalid JSON: NaN", id="nan"),
        pytest.param("[]", "config.json: must be a JSON object, not array", id="array"),
        pytest.param(
            '"x"', "config.json: must be a JSON object, not string", id="string"
        ),
        pytest.param(
            "3", "config.json: must be a JSON object, not number", id="number"
        ),
        pytest.param("null", "config.json: must be a JSON object, not null", id="null"),
    ],
)
def test_load_config_rejects_non_objects(
    text: str, expected: str, write_bundle: Callable[[Any], Path]
) -> None:
    with pytest.raises(SpecError) as caught:
        load_config(str(write_bundle(text)))
    assert str(caught.value).startswith(expected)


def test_parse_config_rejects_bad_utf8() -> None:
    with pytest.raises(SpecError, match="^config.json: invalid JSON"):
        parse_config(b'{"hostname": "\xff"}')


def test_load_config_validates_and_checks(write_bundle: Callable[[Any], Path]) -> None:
    bundle = write_bundle(variant(add("linux.namespaces", {"type": "pid"})))
    with pytest.raises(SpecError, match=r"linux\.namespaces\[5\]\.type: duplicate"):
        load_config(str(bundle))


def test_relative_mount_destination_is_a_warning(
    write_bundle: Callable[[Any], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config = variant(
        add("mounts", {"destination": "data", "type": "tmpfs", "source": "tmpfs"})
    )
    assert deprecation_warnings(config) == [
        "mount destination data is not absolute. Support for non-absolute mount "
        "destinations will be removed in a future release."
    ]
    Logging(None, "json", debug=False)  # log lines to the (captured) stderr
    load_config(str(write_bundle(config)))
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["msg"] for line in lines] == deprecation_warnings(config)
    assert {line["level"] for line in lines} == {"warning"}


# ---- how validate() runs --------------------------------------------------------

_PROBE = """
import json, sys
{setup}
from pyrunc.spec.load import load_config
from pyrunc.spec.checks import check_runnable
check_runnable(load_config(sys.argv[1]))
print(json.dumps({{
    "generated": sys.modules.get("pyrunc.spec._validator") is not None,
    "jsonschema": sorted(m for m in sys.modules if m.split(".")[0] == "jsonschema"),
}}))
"""
_AS_BUILT = """
import importlib.util
spec = importlib.util.spec_from_file_location("pyrunc.spec._validator", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["pyrunc.spec._validator"] = module
spec.loader.exec_module(module)
"""
_SOURCE_TREE = "sys.modules['pyrunc.spec._validator'] = None"


@pytest.mark.parametrize("built", [True, False], ids=["generated", "source-tree"])
def test_valid_config_does_not_import_jsonschema(
    built: bool, tmp_path: Path, write_bundle: Callable[[Any], Path]
) -> None:
    pytest.importorskip("fastjsonschema")
    module = tmp_path / "generated_validator.py"
    module.write_text(generate_validator_code(load_schema()), encoding="utf-8")
    setup = _AS_BUILT.format(path=str(module)) if built else _SOURCE_TREE
    bundle = write_bundle(base_config())
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(setup=setup), str(bundle)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"generated": built, "jsonschema": []}


def test_generated_module_in_tree_is_current() -> None:
    """pyrunc/spec/_validator.py, when present, comes from the current schema."""
    fastjsonschema = pytest.importorskip("fastjsonschema")
    generated = Path(SCHEMA_PATH).with_name("_validator.py")
    if not generated.exists():
        pytest.skip(
            "no generated validator in this tree (setup.py writes it at build time)"
        )
    text = generated.read_text(encoding="utf-8")
    if f'VERSION = "{fastjsonschema.VERSION}"' not in text:
        pytest.skip("generated by another fastjsonschema version")
    fresh = generate_validator_code(load_schema())
    assert text.endswith(fresh), (
        "stale _validator.py: rebuild (python setup.py build_py)"
    )


# ---- the schema itself ---------------------------------------------------------


def _nodes(node: Any, path: str = "#") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _nodes(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nodes(value, f"{path}/{index}")


def test_schema_is_self_contained_draft4() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = load_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(schema)
    refs = [n["$ref"] for _, n in _nodes(schema) if isinstance(n.get("$ref"), str)]
    assert refs and all(r.startswith("#/definitions/") for r in refs)
    assert {r.rsplit("/", 1)[1] for r in refs} == set(schema["definitions"])
    for path, node in _nodes(schema):
        if "$ref" in node:
            assert set(node) == {"$ref"}, f"{path}: keywords beside $ref are ignored"


def test_schema_has_no_defaults() -> None:
    """fastjsonschema writes "default" values into the document it validates."""
    bad = [
        p
        for p, n in _nodes(load_schema())
        if "default" in n and not p.endswith("/properties")
    ]
    assert bad == []


def test_schema_covers_the_spec_members() -> None:
    definitions = load_schema()["definitions"]
    process = set(definitions["Process"]["properties"])
    assert {
        "terminal",
        "consoleSize",
        "user",
        "args",
        "commandLine",
        "env",
        "cwd",
        "capabilities",
        "rlimits",
        "apparmorProfile",
        "oomScoreAdj",
        "selinuxLabel",
        "noNewPrivileges",
        "scheduler",
        "ioPriority",
        "execCPUAffinity",
    } <= process
    assert set(definitions["Linux"]["properties"]) >= {
        "namespaces",
        "uidMappings",
        "gidMappings",
        "timeOffsets",
        "devices",
        "netDevices",
        "cgroupsPath",
        "rootfsPropagation",
        "resources",
        "intelRdt",
        "memoryPolicy",
        "personality",
        "seccomp",
        "sysctl",
        "maskedPaths",
        "readonlyPaths",
        "mountLabel",
    }
    assert set(definitions["Resources"]["properties"]) == {
        "devices",
        "memory",
        "cpu",
        "blockIO",
        "hugepageLimits",
        "network",
        "pids",
        "rdma",
        "unified",
    }
    assert set(definitions["Hooks"]["properties"]) == {
        "prestart",
        "createRuntime",
        "createContainer",
        "startContainer",
        "poststart",
        "poststop",
    }


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([], ""),
        (["process", "args", 0], "process.args[0]"),
        (
            ["linux", "sysctl", "net.ipv4.ip_forward"],
            'linux.sysctl["net.ipv4.ip_forward"]',
        ),
        (["annotations", ""], 'annotations[""]'),
        ([3, "x"], "[3].x"),
    ],
)
def test_format_path(parts: list[str | int], expected: str) -> None:
    assert format_path(parts) == expected


# ---- the official-schema helper other tests use ----------------------------------


@pytest.mark.parametrize("kind", sorted(oci_schema.KINDS))
def test_oci_schema_helper_judges_its_fixtures(kind: str) -> None:
    if not oci_schema.available():
        pytest.skip(oci_schema.MISSING)
    for verdict in ("good", "bad"):
        for path in oci_schema.fixtures(kind, verdict):
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                continue
            if verdict == "good":
                oci_schema.validate_official(document, kind)
            else:
                with pytest.raises(Exception) as caught:
                    oci_schema.validate_official(document, kind)
                assert type(caught.value).__name__ == "ValidationError"


def test_oci_schema_helper_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        oci_schema.fixtures("bundle", "good")
