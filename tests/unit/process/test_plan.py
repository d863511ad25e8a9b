"""The spec compiled into executor steps: identity, limits, namespaces, env, paths."""

from __future__ import annotations

import copy
import os
import posixpath
import signal
from pathlib import Path
from typing import Any

import pytest

from pyrunc import capabilities
from pyrunc._sys import OP, Step
from pyrunc.errors import SpecError
from pyrunc.process import namespaces as ns
from pyrunc.process import plan
from pyrunc.process.rootfs import RootfsPlanner, home_directory, relative
from pyrunc.spec.default import default_config

ALL_ONES = (1 << 64) - 1


def ops(steps: list[Step]) -> list[int]:
    return [step.op for step in steps]


def spec_with(namespaces: list[dict[str, str]], **linux: Any) -> dict[str, Any]:
    spec = copy.deepcopy(default_config())
    spec["linux"]["namespaces"] = namespaces
    spec["linux"].update(linux)
    return spec


# identity: the order the kernel needs


def test_identity_steps_order() -> None:
    process = default_config()["process"]
    assert ops(plan.identity_steps(process)) == [
        OP.PYRUNC_OP_DROP_BOUNDING,
        OP.PYRUNC_OP_PRCTL,
        OP.PYRUNC_OP_SETGROUPS,
        OP.PYRUNC_OP_SETRESGID,
        OP.PYRUNC_OP_SETRESUID,
        OP.PYRUNC_OP_CHDIR,
        OP.PYRUNC_OP_PRCTL,
        OP.PYRUNC_OP_SET_CAPS,
    ]


def test_keep_caps_is_set_before_and_cleared_after_the_user_switch() -> None:
    steps = plan.identity_steps(default_config()["process"])
    prctls = [step.num for step in steps if step.op == OP.PYRUNC_OP_PRCTL]
    assert prctls == [(plan.PR_SET_KEEPCAPS, 1), (plan.PR_SET_KEEPCAPS, 0)]


def test_identity_values() -> None:
    process = {
        "user": {"uid": 1000, "gid": 1001, "additionalGids": [10, 2000]},
        "cwd": "/work",
        "args": ["sh"],
    }
    by_op = {step.op: step for step in plan.identity_steps(process)}
    assert by_op[OP.PYRUNC_OP_SETGROUPS].ints == [10, 2000]
    assert by_op[OP.PYRUNC_OP_SETRESGID].num == (1001,)
    assert by_op[OP.PYRUNC_OP_SETRESUID].num == (1000,)
    assert by_op[OP.PYRUNC_OP_CHDIR].target == "/work"


def test_identity_defaults_to_root_in_slash() -> None:
    by_op = {step.op: step for step in plan.identity_steps({"args": ["sh"]})}
    assert by_op[OP.PYRUNC_OP_SETGROUPS].ints == []
    assert by_op[OP.PYRUNC_OP_SETRESGID].num == (0,)
    assert by_op[OP.PYRUNC_OP_SETRESUID].num == (0,)
    assert by_op[OP.PYRUNC_OP_CHDIR].target == "/"


def test_bounding_set_keeps_only_the_named() -> None:
    process = {"capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN"]}}
    bounding = plan.identity_steps(process)[0]
    assert bounding.ints == [capabilities.mask(["CAP_KILL", "CAP_CHOWN"])]
    assert bounding.num == (capabilities.last_cap(),)


def test_no_capabilities_object_drops_all() -> None:
    steps = plan.identity_steps({"args": ["sh"]})
    assert steps[0].ints == [0]
    assert steps[-1].ints == [0, 0, 0, 0]


def test_capability_sets_in_kernel_order() -> None:
    caps = {
        "effective": ["CAP_KILL"],
        "permitted": ["CAP_KILL", "CAP_CHOWN"],
        "inheritable": ["CAP_CHOWN"],
        "ambient": ["CAP_CHOWN"],
    }
    mask = capabilities.mask
    assert plan.capability_sets(caps) == [
        mask(["CAP_KILL"]),
        mask(["CAP_KILL", "CAP_CHOWN"]),
        mask(["CAP_CHOWN"]),
        mask(["CAP_CHOWN"]),
    ]


@pytest.mark.parametrize(
    ("permitted", "inheritable"),
    [([], ["CAP_KILL"]), (["CAP_KILL"], []), ([], [])],
)
def test_ambient_needs_permitted_and_inheritable(
    permitted: list[str], inheritable: list[str]
) -> None:
    caps = {"permitted": permitted, "inheritable": inheritable, "ambient": ["CAP_KILL"]}
    assert plan.capability_sets(caps)[3] == 0


def test_unknown_capability_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="CAP_NOPE"):
        plan.identity_steps({"capabilities": {"bounding": ["CAP_NOPE"]}})


# rlimits


@pytest.mark.parametrize(("name", "number"), sorted(plan.RLIMITS.items()))
def test_rlimit_names_map_to_resource_numbers(name: str, number: int) -> None:
    import resource

    attribute = getattr(resource, name, None)
    if attribute is not None:
        assert number == attribute
    step = plan.rlimit_steps({"rlimits": [{"type": name, "soft": 1, "hard": 2}]})[0]
    assert step.op == OP.PYRUNC_OP_SETRLIMIT
    assert step.num == (number, 1, 2)


@pytest.mark.parametrize(
    ("given", "passed"),
    [(0, 0), (1024, 1024), (ALL_ONES, -1), (-1, -1), ((1 << 63) - 1, (1 << 63) - 1)],
)
def test_rlimit_values_fit_the_signed_c_field(given: int, passed: int) -> None:
    limit = {"type": "RLIMIT_CORE", "soft": given, "hard": given}
    assert plan.rlimit_steps({"rlimits": [limit]})[0].num[1:] == (passed, passed)


def test_rlimits_keep_their_order() -> None:
    limits = [
        {"type": kind, "soft": 1, "hard": 1}
        for kind in ("RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_CORE")
    ]
    numbers = [step.num[0] for step in plan.rlimit_steps({"rlimits": limits})]
    assert numbers == [6, 7, 4]


def test_unknown_rlimit_is_a_spec_error() -> None:
    limit = {"type": "RLIMIT_NOPE", "soft": 1, "hard": 1}
    with pytest.raises(SpecError, match=r"process.rlimits\[0\].type"):
        plan.rlimit_steps({"rlimits": [limit]})


# namespaces: clone flags or unshare and fork


def test_fast_path_creates_namespaces_with_clone() -> None:
    kinds = ["pid", "network", "ipc", "uts", "mount"]
    result = ns.plan_namespaces(spec_with([{"type": k} for k in kinds]))
    expected = 0
    for kind in kinds:
        expected |= ns.FLAGS[kind]
    assert result.clone_flags == expected
    assert OP.PYRUNC_OP_UNSHARE not in ops(result.steps)
    assert OP.PYRUNC_OP_FORK not in ops(result.steps)


def test_cgroup_namespace_is_unshared_after_placement() -> None:
    result = ns.plan_namespaces(spec_with([{"type": "mount"}, {"type": "cgroup"}]))
    assert result.clone_flags == ns.CLONE_NEWNS
    order = ops(result.steps)
    assert order.index(OP.PYRUNC_OP_SYNC) < order.index(OP.PYRUNC_OP_UNSHARE)
    unshare = result.steps[order.index(OP.PYRUNC_OP_UNSHARE)]
    assert unshare.flags == ns.CLONE_NEWCGROUP


def test_user_namespace_takes_unshare_and_fork() -> None:
    kinds = ["pid", "mount", "user", "network"]
    result = ns.plan_namespaces(spec_with([{"type": k} for k in kinds]))
    assert result.clone_flags == 0
    steps = result.steps
    order = ops(steps)
    first = order.index(OP.PYRUNC_OP_UNSHARE)
    assert steps[first].flags == ns.CLONE_NEWUSER
    assert steps[first + 1].op == OP.PYRUNC_OP_SYNC
    assert steps[first + 1].num == (ns.SYNC_USERMAP,)
    assert order[first + 2 : first + 4] == [
        OP.PYRUNC_OP_SETRESGID,
        OP.PYRUNC_OP_SETRESUID,
    ]
    rest = steps[first + 4]
    assert rest.op == OP.PYRUNC_OP_UNSHARE
    assert rest.flags == ns.CLONE_NEWPID | ns.CLONE_NEWNS | ns.CLONE_NEWNET
    assert order[-2:] == [OP.PYRUNC_OP_FORK, OP.PYRUNC_OP_REPORT_PID]


def test_namespace_path_is_joined_with_setns() -> None:
    spec = spec_with(
        [{"type": "mount"}, {"type": "network", "path": "/proc/self/ns/net"}]
    )
    result = ns.plan_namespaces(spec)
    try:
        assert result.clone_flags == 0
        joins = [s for s in result.steps if s.op == OP.PYRUNC_OP_SETNS]
        assert [(s.fd, s.num) for s in joins] == [(result.fds[0], (ns.CLONE_NEWNET,))]
        unshare = next(s for s in result.steps if s.op == OP.PYRUNC_OP_UNSHARE)
        assert unshare.flags == ns.CLONE_NEWNS
        assert OP.PYRUNC_OP_FORK not in ops(result.steps)
    finally:
        result.close()
    assert result.fds == []


def test_joined_user_namespace_comes_last() -> None:
    spec = spec_with(
        [
            {"type": "user", "path": "/proc/self/ns/user"},
            {"type": "ipc", "path": "/proc/self/ns/ipc"},
            {"type": "uts", "path": "/proc/self/ns/uts"},
        ]
    )
    result = ns.plan_namespaces(spec)
    try:
        joins = [s.num[0] for s in result.steps if s.op == OP.PYRUNC_OP_SETNS]
        assert joins[-1] == ns.CLONE_NEWUSER
        assert sorted(joins[:-1]) == sorted([ns.CLONE_NEWIPC, ns.CLONE_NEWUTS])
    finally:
        result.close()


def test_joined_pid_namespace_needs_a_fork() -> None:
    result = ns.plan_namespaces(
        spec_with([{"type": "pid", "path": "/proc/self/ns/pid"}])
    )
    try:
        assert ops(result.steps)[-2:] == [OP.PYRUNC_OP_FORK, OP.PYRUNC_OP_REPORT_PID]
    finally:
        result.close()


def test_time_namespace_writes_offsets_then_forks() -> None:
    if not os.path.exists("/proc/self/ns/time"):
        pytest.skip("this kernel has no time namespaces")
    offsets = {"monotonic": {"secs": 7, "nanosecs": 9}, "boottime": {"secs": 3}}
    result = ns.plan_namespaces(spec_with([{"type": "time"}], timeOffsets=offsets))
    assert result.clone_flags == 0
    order = ops(result.steps)
    write = result.steps[order.index(OP.PYRUNC_OP_WRITE_FILE)]
    assert write.target == "/proc/self/timens_offsets"
    assert write.data == "monotonic 7 9\nboottime 3 0\n"
    assert order.index(OP.PYRUNC_OP_UNSHARE) < order.index(OP.PYRUNC_OP_WRITE_FILE)
    assert order.index(OP.PYRUNC_OP_WRITE_FILE) < order.index(OP.PYRUNC_OP_FORK)


def test_missing_namespace_path_is_a_spec_error(tmp_path: Path) -> None:
    missing = tmp_path / "gone"
    spec = spec_with([{"type": "network", "path": str(missing)}])
    with pytest.raises(SpecError, match=str(missing)):
        ns.plan_namespaces(spec)


def test_id_map_format() -> None:
    mappings = [
        {"containerID": 0, "hostID": 100000, "size": 65536},
        {"containerID": 65536, "hostID": 5, "size": 1},
    ]
    assert ns.id_map(mappings) == "0 100000 65536\n65536 5 1\n"


# environment


def test_env_gets_home_when_missing() -> None:
    process = {"env": ["PATH=/bin", "A=1"]}
    assert plan.process_env(process, home="/root") == [
        "PATH=/bin",
        "A=1",
        "HOME=/root",
    ]


def test_env_keeps_its_own_home() -> None:
    process = {"env": ["HOME=/srv", "PATH=/bin"]}
    assert plan.process_env(process, home="/root") == ["HOME=/srv", "PATH=/bin"]


def test_env_with_socket_activation() -> None:
    assert plan.process_env({"env": []}, listen_fds=2) == [
        "HOME=/",
        "LISTEN_FDS=2",
        "LISTEN_PID=1",
    ]


@pytest.mark.parametrize(
    ("passwd", "uid", "home"),
    [
        ("root:x:0:0:root:/root:/bin/sh\n", 0, "/root"),
        (
            "root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n",
            1000,
            "/home/u",
        ),
        ("root:x:0:0:root:/root:/bin/sh\n", 1000, "/"),
        ("broken line\nu:x:7:7::", 7, "/"),
        (None, 0, "/"),
    ],
)
def test_home_directory_from_passwd(
    tmp_path: Path, passwd: str | None, uid: int, home: str
) -> None:
    (tmp_path / "etc").mkdir()
    if passwd is not None:
        (tmp_path / "etc" / "passwd").write_text(passwd)
    assert home_directory(str(tmp_path), uid) == home


def test_home_directory_ignores_passwd_outside_the_rootfs(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    (tmp_path / "host-passwd").write_text("root:x:0:0::/host-home:/bin/sh\n")
    (rootfs / "etc" / "passwd").symlink_to(tmp_path / "host-passwd")
    assert home_directory(str(rootfs), 0) == "/"


# paths inside the root


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        ("/", "."),
        ("", "."),
        ("/proc", "proc"),
        ("proc", "proc"),
        ("//dev//pts/", "dev/pts"),
        ("/a/./b", "a/b"),
        ("/../../etc", "etc"),
        ("../../../etc/passwd", "etc/passwd"),
        ("/a/../../b", "b"),
        ("/a/b/../..", "."),
        ("/..", "."),
    ],
)
def test_relative(destination: str, expected: str) -> None:
    assert relative(destination) == expected


@pytest.mark.parametrize(
    "destination",
    ["..", "../..", "a/../../..", "/x/../../../y/..", "./../z", "...", "a/..b/../../c"],
)
def test_relative_never_escapes(destination: str) -> None:
    result = relative(destination)
    assert not result.startswith("/")
    assert result == "." or ".." not in result.split("/")
    assert posixpath.normpath(posixpath.join("/root", result)).startswith("/root")


# the whole plan


def whole_plan(tmp_path: Path, spec: dict[str, Any], **opts: Any) -> list[Step]:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir(exist_ok=True)
    planner = RootfsPlanner(spec, str(tmp_path), str(rootfs), [])
    namespaces = ns.NamespacePlan(0, [Step(OP.PYRUNC_OP_REPORT_PID, "report pid")], [])
    return plan.init_plan(spec, namespaces, planner, plan.InitOptions(**opts))


def test_plan_ends_in_exec(tmp_path: Path) -> None:
    spec = copy.deepcopy(default_config())
    steps = whole_plan(tmp_path, spec, start_fd=9)
    assert ops(steps)[-5:] == [
        OP.PYRUNC_OP_CLOSE_FDS,
        OP.PYRUNC_OP_PRCTL,
        OP.PYRUNC_OP_READY,
        OP.PYRUNC_OP_WAIT_START,
        OP.PYRUNC_OP_EXEC,
    ]
    assert steps[-1].argv == ["sh"]
    assert steps[-2].fd == 9


def test_plan_order_of_phases(tmp_path: Path) -> None:
    spec = copy.deepcopy(default_config())
    spec["hooks"] = {"createRuntime": [{"path": "/bin/true"}]}
    spec["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    order = ops(whole_plan(tmp_path, spec, start_fd=9))

    def at(op: int) -> int:
        return order.index(op)

    assert at(OP.PYRUNC_OP_REPORT_PID) < at(OP.PYRUNC_OP_SETSID)
    assert at(OP.PYRUNC_OP_MOUNT_IN_ROOT) < at(OP.PYRUNC_OP_SYNC)
    assert at(OP.PYRUNC_OP_SYNC) < at(OP.PYRUNC_OP_PIVOT_ROOT)
    assert at(OP.PYRUNC_OP_PIVOT_ROOT) < at(OP.PYRUNC_OP_SETHOSTNAME)
    assert at(OP.PYRUNC_OP_WRITE_FILE) < at(OP.PYRUNC_OP_READONLY)
    assert at(OP.PYRUNC_OP_SETRLIMIT) < at(OP.PYRUNC_OP_SETRESUID)
    assert at(OP.PYRUNC_OP_SET_CAPS) < at(OP.PYRUNC_OP_EXEC)


def test_plan_without_create_hooks_does_not_stop(tmp_path: Path) -> None:
    spec = copy.deepcopy(default_config())
    spec["hooks"] = {"poststart": [{"path": "/bin/true"}]}
    assert OP.PYRUNC_OP_SYNC not in ops(whole_plan(tmp_path, spec, start_fd=9))


def test_plan_parent_death_signal_is_set_then_cleared(tmp_path: Path) -> None:
    steps = whole_plan(tmp_path, copy.deepcopy(default_config()), start_fd=9)
    deathsig = [s.num for s in steps if s.op == OP.PYRUNC_OP_PRCTL and s.num[0] == 1]
    assert deathsig == [(1, signal.SIGKILL), (1, 0)]


def test_plan_no_pivot_moves_the_root(tmp_path: Path) -> None:
    order = ops(
        whole_plan(tmp_path, copy.deepcopy(default_config()), start_fd=9, no_pivot=True)
    )
    assert OP.PYRUNC_OP_MOVE_ROOT in order
    assert OP.PYRUNC_OP_PIVOT_ROOT not in order


@pytest.mark.parametrize(("extra", "first_closed"), [(0, 3), (1, 4), (3, 6)])
def test_plan_closes_fds_above_the_passed_ones(
    tmp_path: Path, extra: int, first_closed: int
) -> None:
    steps = whole_plan(
        tmp_path, copy.deepcopy(default_config()), start_fd=9, extra_fds=extra
    )
    close = next(s for s in steps if s.op == OP.PYRUNC_OP_CLOSE_FDS)
    assert close.num == (first_closed,)
    assert 9 in close.ints


def test_plan_umask_and_no_new_privs(tmp_path: Path) -> None:
    spec = copy.deepcopy(default_config())
    spec["process"]["user"]["umask"] = 0o077
    steps = whole_plan(tmp_path, spec, start_fd=9)
    umask = next(s for s in steps if s.op == OP.PYRUNC_OP_UMASK)
    assert umask.num == (0o077,)
    prctls = [s.num for s in steps if s.op == OP.PYRUNC_OP_PRCTL]
    assert (plan.PR_SET_NO_NEW_PRIVS, 1) in prctls


def test_hostname_without_uts_namespace_is_a_spec_error() -> None:
    spec = spec_with([{"type": "mount"}])
    with pytest.raises(SpecError, match="hostname"):
        plan.uts_steps(spec)


def test_sysctl_keys_become_proc_sys_paths() -> None:
    spec = spec_with([], sysctl={"net.ipv4.ip_forward": "1", "kernel.msgmax": "8192"})
    steps = plan.sysctl_steps(spec)
    assert [(s.target, s.data) for s in steps] == [
        ("/proc/sys/net/ipv4/ip_forward", "1"),
        ("/proc/sys/kernel/msgmax", "8192"),
    ]
