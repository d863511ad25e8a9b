"""The steps of a process exec'd into a container, in the order the kernel needs."""

from __future__ import annotations

import copy
import os
from typing import Any

from pyrunc._sys import OP, Step
from pyrunc.container import ExecOptions
from pyrunc.process import namespaces as ns
from pyrunc.process.joiner import Joiner
from pyrunc.process.plan import InitOptions
from pyrunc.spec.default import default_config
from pyrunc.state import Record

ENTER = [
    Step(OP.PYRUNC_OP_SETNS, "join pid namespace", fd=5, num=(ns.CLONE_NEWPID,)),
    Step(OP.PYRUNC_OP_SETNS, "join user namespace", fd=6, num=(ns.CLONE_NEWUSER,)),
    Step(OP.PYRUNC_OP_FORK, "fork into the pid namespace"),
    Step(OP.PYRUNC_OP_REPORT_PID, "report pid"),
]


def plan(**changes: Any) -> list[Step]:
    process: dict[str, Any] = copy.deepcopy(default_config()["process"])
    process.update(changes)
    record = Record("box", 1, 1, "/bundle", "/bundle/rootfs", "now", "root")
    joiner = Joiner(record, ExecOptions(process, console_fd=9))
    joiner.enter = list(ENTER)
    return joiner.plan(InitOptions(start_fd=-1, console_fd=9, keyring="box"))


def ops(steps: list[Step]) -> list[int]:
    return [step.op for step in steps]


def test_placed_in_cgroup_before_joining() -> None:
    steps = ops(plan())
    sync = steps.index(OP.PYRUNC_OP_SYNC)
    assert sync < steps.index(OP.PYRUNC_OP_SETNS)
    assert steps[:sync] == [
        OP.PYRUNC_OP_RESET_SIGNALS,
        OP.PYRUNC_OP_PRCTL,
        OP.PYRUNC_OP_PRCTL,
    ]


def test_non_dumpable_from_the_start_and_never_made_dumpable() -> None:
    prctls = [s.num[:2] for s in plan() if s.op == OP.PYRUNC_OP_PRCTL]
    assert prctls[1] == (ns.PR_SET_DUMPABLE, 0)
    assert (ns.PR_SET_DUMPABLE, 1) not in prctls


def test_joins_then_forks_then_takes_a_session() -> None:
    steps = plan()
    enter_at = ops(steps).index(OP.PYRUNC_OP_SETNS)
    assert steps[enter_at : enter_at + len(ENTER)] == ENTER
    after = ops(steps)[enter_at + len(ENTER) :]
    assert after[:2] == [OP.PYRUNC_OP_SETSID, OP.PYRUNC_OP_PRCTL]
    assert OP.PYRUNC_OP_JOIN_KEYRING in after


def test_no_start_wait_no_cwd_creation_no_default_umask() -> None:
    steps = ops(plan())
    for op in (OP.PYRUNC_OP_WAIT_START, OP.PYRUNC_OP_MKDIR_IN_ROOT, OP.PYRUNC_OP_UMASK):
        assert op not in steps
    assert steps[-2:] == [OP.PYRUNC_OP_PRCTL, OP.PYRUNC_OP_EXEC]


def test_the_parent_learns_of_execve_itself() -> None:
    # with no READY step, execve closing the sync socket tells the parent
    assert OP.PYRUNC_OP_READY not in ops(plan())


def test_umask_when_the_user_has_one() -> None:
    steps = plan(user={"uid": 0, "gid": 0, "umask": 0o077})
    assert [s.num[0] for s in steps if s.op == OP.PYRUNC_OP_UMASK] == [0o077]


def test_console_after_the_session_without_a_console_file() -> None:
    steps = plan(terminal=True, consoleSize={"height": 20, "width": 70})
    console = next(s for s in steps if s.op == OP.PYRUNC_OP_CONSOLE)
    assert (console.fd, console.target, console.num[:2]) == (9, None, (20, 70))
    kinds = ops(steps)
    assert kinds.index(OP.PYRUNC_OP_SETSID) < kinds.index(OP.PYRUNC_OP_CONSOLE)
    assert kinds.index(OP.PYRUNC_OP_CONSOLE) < kinds.index(OP.PYRUNC_OP_SETRESUID)


def test_runtime_fds_are_closed_before_execve() -> None:
    steps = plan()
    close = next(s for s in steps if s.op == OP.PYRUNC_OP_CLOSE_FDS)
    assert close.num[0] == 3
    assert ops(steps).index(OP.PYRUNC_OP_CLOSE_FDS) < ops(steps).index(
        OP.PYRUNC_OP_EXEC
    )


def test_enter_steps_skip_the_namespaces_we_share() -> None:
    steps, fds = ns.enter_steps(os.getpid())
    assert ops(steps) == [OP.PYRUNC_OP_REPORT_PID]
    assert fds == []
