"""Compile linux.seccomp profiles with pyrunc.seccomp and check what the BPF does.

The programs are real: a forked child of the test loads one with seccomp(2)
(under no_new_privs, so no privilege is needed) and makes one system call,
and its exit status tells what the filter did. getpriority(2) is the probe:
it has two arguments the test chooses freely and no effect, answering ESRCH
for a process that does not exist and EINVAL for an unknown "which".
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import signal
from typing import Any

import pytest

from pyrunc import _sys, seccomp
from pyrunc.errors import SeccompError

pytestmark = pytest.mark.skipif(
    platform.machine() != "x86_64", reason="the probes use x86_64 syscall numbers"
)

PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1
PRIO_PROCESS = 0
NO_SUCH_PID = 4_000_000  # above any pid this test's children can have
DENIED = errno.EOPNOTSUPP  # the errnoRet of the rules below; getpriority never says it

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def profile(
    syscalls: list[dict[str, Any]], default: str = "SCMP_ACT_ALLOW", **fields: Any
) -> dict[str, Any]:
    """Return a linux.seccomp object for x86_64."""
    return {
        "defaultAction": default,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": syscalls,
        **fields,
    }


def getpriority_rule(*args: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Return a rule denying getpriority with errno DENIED when args match."""
    rule: dict[str, Any] = {
        "names": ["getpriority"],
        "action": "SCMP_ACT_ERRNO",
        "errnoRet": DENIED,
        **fields,
    }
    if args:
        rule["args"] = list(args)
    return rule


def arg(index: int, op: str, value: int, value_two: int = 0) -> dict[str, Any]:
    return {"index": index, "op": op, "value": value, "valueTwo": value_two}


def _load_and_call(compiled: seccomp.Filter, which: int, who: int) -> int:
    """In a forked child: load the filter, call getpriority, return its errno.

    Nothing between loading and the call makes a system call, so a profile
    that denies nearly everything still reaches it.
    """
    buffer = ctypes.create_string_buffer(compiled.program, len(compiled.program))
    program = _Program(compiled.instructions, ctypes.addressof(buffer))
    load = _sys.seccomp_syscall("seccomp")
    getpriority = _sys.seccomp_syscall("getpriority")
    args = (ctypes.c_long(which), ctypes.c_long(who))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGSYS would dump core
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return 200
    if _libc.syscall(load, SECCOMP_SET_MODE_FILTER, 0, ctypes.byref(program)) != 0:
        return 201
    ctypes.set_errno(0)
    result = _libc.syscall(getpriority, *args)
    return ctypes.get_errno() if result == -1 else 0


def outcome(compiled: seccomp.Filter, which: int = PRIO_PROCESS, who: int = 0) -> str:
    """Return "errno N" or "signal N" for getpriority(which, who) under the filter."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only exits
        code = 202
        try:
            code = _load_and_call(compiled, which, who)
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"errno {os.waitstatus_to_exitcode(status)}"


def allowed(who: int) -> str:
    """What getpriority says about a missing pid when the filter lets it through."""
    return "errno 0" if who == 0 else f"errno {errno.ESRCH}"


# ---- actions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("SCMP_ACT_ALLOW", f"errno {errno.ESRCH}"),
        ("SCMP_ACT_LOG", f"errno {errno.ESRCH}"),
        ("SCMP_ACT_ERRNO", f"errno {errno.EPERM}"),
        ("SCMP_ACT_TRACE", f"errno {errno.ENOSYS}"),
        ("SCMP_ACT_KILL", f"signal {signal.SIGSYS}"),
        ("SCMP_ACT_KILL_THREAD", f"signal {signal.SIGSYS}"),
        ("SCMP_ACT_KILL_PROCESS", f"signal {signal.SIGSYS}"),
        ("SCMP_ACT_TRAP", f"signal {signal.SIGSYS}"),
    ],
)
def test_action_effect(action: str, expected: str) -> None:
    """ERRNO defaults to EPERM; TRACE without a tracer fails with ENOSYS."""
    compiled = seccomp.compile_filter(
        profile([{"names": ["getpriority"], "action": action}])
    )
    assert outcome(compiled, who=NO_SUCH_PID) == expected


@pytest.mark.parametrize(
    ("action", "expected"),
    [("SCMP_ACT_ERRNO", errno.EDQUOT), ("SCMP_ACT_TRACE", errno.ENOSYS)],
)
def test_errno_ret(action: str, expected: int) -> None:
    """ERRNO returns errnoRet; for TRACE it is a message to a tracer, absent here."""
    rule = {"names": ["getpriority"], "action": action, "errnoRet": errno.EDQUOT}
    compiled = seccomp.compile_filter(profile([rule]))
    assert outcome(compiled, who=NO_SUCH_PID) == f"errno {expected}"


def test_default_errno_ret() -> None:
    exits = [{"names": ["exit_group", "exit"], "action": "SCMP_ACT_ALLOW"}]
    compiled = seccomp.compile_filter(
        profile(
            exits,
            default="SCMP_ACT_ERRNO",
            defaultErrnoRet=errno.ENOSYS,
        )
    )
    assert outcome(compiled, who=NO_SUCH_PID) == f"errno {errno.ENOSYS}"


def test_action_values_follow_libseccomp() -> None:
    assert seccomp.action_value("SCMP_ACT_ERRNO", None, "x") == 0x00050000 | 1
    assert seccomp.action_value("SCMP_ACT_ERRNO", 38, "x") == 0x00050000 | 38
    assert seccomp.action_value("SCMP_ACT_TRACE", 7, "x") == 0x7FF00000 | 7
    assert seccomp.action_value("SCMP_ACT_KILL", 38, "x") == 0
    assert seccomp.action_value("SCMP_ACT_KILL_PROCESS", None, "x") == 0x80000000
    assert seccomp.action_value("SCMP_ACT_NOTIFY", None, "x") == 0x7FC00000


# ---- argument conditions ----------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "value_two", "denied", "passed"),
    [
        ("SCMP_CMP_EQ", 3000, 0, [3000], [2999, 3001]),
        ("SCMP_CMP_NE", 3000, 0, [2999, 3001], [3000]),
        ("SCMP_CMP_LT", 3000, 0, [1, 2999], [3000, 3001]),
        ("SCMP_CMP_LE", 3000, 0, [2999, 3000], [3001]),
        ("SCMP_CMP_GE", 3000, 0, [3000, 3001], [2999]),
        ("SCMP_CMP_GT", 3000, 0, [3001, 9000], [2999, 3000]),
        ("SCMP_CMP_MASKED_EQ", 0xF00, 0x300, [0x300, 0x3FF, 0x1350], [0x2FF, 0x400]),
    ],
)
def test_argument_operator(
    op: str, value: int, value_two: int, denied: list[int], passed: list[int]
) -> None:
    """For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the wanted result."""
    compiled = seccomp.compile_filter(
        profile([getpriority_rule(arg(1, op, value, value_two))])
    )
    for who in denied:
        assert outcome(compiled, who=who) == f"errno {DENIED}", who
    for who in passed:
        assert outcome(compiled, who=who) == allowed(who), who


def test_conditions_on_one_argument_are_ored() -> None:
    """runc's reading: two conditions on one argument make two rules."""
    compiled = seccomp.compile_filter(
        profile(
            [getpriority_rule(arg(1, "SCMP_CMP_EQ", 3000), arg(1, "SCMP_CMP_EQ", 4000))]
        )
    )
    assert outcome(compiled, who=3000) == f"errno {DENIED}"
    assert outcome(compiled, who=4000) == f"errno {DENIED}"
    assert outcome(compiled, who=3500) == f"errno {errno.ESRCH}"


def test_conditions_on_different_arguments_are_anded() -> None:
    compiled = seccomp.compile_filter(
        profile(
            [
                getpriority_rule(
                    arg(0, "SCMP_CMP_EQ", PRIO_PROCESS), arg(1, "SCMP_CMP_EQ", 3000)
                )
            ]
        )
    )
    assert outcome(compiled, PRIO_PROCESS, 3000) == f"errno {DENIED}"
    assert outcome(compiled, PRIO_PROCESS, 3001) == f"errno {errno.ESRCH}"
    assert outcome(compiled, 7, 3000) == f"errno {errno.EINVAL}"


def test_split_keeps_distinct_arguments_together() -> None:
    one = (0, 4, 1, 0)
    two = (1, 4, 2, 0)
    assert seccomp._split([one, two]) == [[one, two]]
    assert seccomp._split([one, (0, 4, 5, 0)]) == [[one], [(0, 4, 5, 0)]]


# ---- names, defaults and refusals --------------------------------------------


def test_unknown_syscall_name_is_skipped() -> None:
    plain = seccomp.compile_filter(profile([getpriority_rule()]))
    rule = getpriority_rule()
    rule["names"] = ["no_such_syscall", "getpriority", "another_one"]
    with_unknown = seccomp.compile_filter(profile([rule]))
    assert with_unknown.program == plain.program
    assert outcome(with_unknown, who=NO_SUCH_PID) == f"errno {DENIED}"


def test_call_of_another_architecture_is_kept() -> None:
    """socketcall exists for x86 only: libseccomp numbers it below zero on x86_64.

    A rule for it must reach the filter, or 32-bit processes would escape it.
    """
    assert _sys.seccomp_syscall("socketcall") < -1
    empty = seccomp.compile_filter(profile([]))
    denied = seccomp.compile_filter(
        profile([{"names": ["socketcall"], "action": "SCMP_ACT_ERRNO"}])
    )
    assert denied.program != empty.program
    native_only = profile([{"names": ["socketcall"], "action": "SCMP_ACT_ERRNO"}])
    native_only["architectures"] = ["SCMP_ARCH_X86_64"]
    assert (
        seccomp.compile_filter(native_only).program
        == seccomp.compile_filter(
            profile([]) | {"architectures": ["SCMP_ARCH_X86_64"]}
        ).program
    )


def test_rule_that_repeats_the_default_is_dropped() -> None:
    empty = seccomp.compile_filter(profile([]))
    same = seccomp.compile_filter(
        profile([{"names": ["getpriority"], "action": "SCMP_ACT_ALLOW"}])
    )
    assert same.program == empty.program


def test_program_is_whole_instructions() -> None:
    compiled = seccomp.compile_filter(profile([getpriority_rule()]))
    assert len(compiled.program) % 8 == 0
    assert compiled.instructions == len(compiled.program) // 8 > 0


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda p: p.update(defaultAction="SCMP_ACT_BOGUS"),
            ["linux.seccomp.defaultAction", "SCMP_ACT_BOGUS"],
        ),
        (
            lambda p: p["syscalls"][0].update(action="SCMP_ACT_BOGUS"),
            ["linux.seccomp.syscalls[0]", "SCMP_ACT_BOGUS"],
        ),
        (
            lambda p: p["syscalls"][0].update(
                args=[arg(0, "SCMP_CMP_EQ", 1), arg(1, "SCMP_CMP_BOGUS", 1)]
            ),
            ["linux.seccomp.syscalls[0].args[1].op", "SCMP_CMP_BOGUS"],
        ),
        (
            lambda p: p.update(architectures=["SCMP_ARCH_X86_64", "SCMP_ARCH_PDP11"]),
            ["linux.seccomp.architectures[1]", "SCMP_ARCH_PDP11"],
        ),
        (
            lambda p: p.update(flags=["SECCOMP_FILTER_FLAG_BOGUS"]),
            ["linux.seccomp.flags[0]", "SECCOMP_FILTER_FLAG_BOGUS"],
        ),
        (
            lambda p: p["syscalls"][0].update(action="SCMP_ACT_NOTIFY"),
            ["linux.seccomp.listenerPath", "SCMP_ACT_NOTIFY"],
        ),
    ],
    ids=["default-action", "action", "operator", "architecture", "flag", "notify"],
)
def test_refusal_names_the_field(change: Any, words: list[str]) -> None:
    bad = profile([getpriority_rule()])
    change(bad)
    with pytest.raises(SeccompError) as caught:
        seccomp.compile_filter(bad)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("names", "bits"),
    [
        (["SECCOMP_FILTER_FLAG_LOG"], 2),
        (["SECCOMP_FILTER_FLAG_SPEC_ALLOW"], 4),
        (["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"], 6),
        ([], 0),
    ],
)
def test_flags(names: list[str], bits: int) -> None:
    compiled = seccomp.compile_filter(profile([getpriority_rule()], flags=names))
    assert compiled.flags == bits
    assert not compiled.notifies


def test_notify_asks_for_a_listener() -> None:
    rule = {"names": ["getpriority"], "action": "SCMP_ACT_NOTIFY"}
    compiled = seccomp.compile_filter(
        profile([rule], listenerPath="/run/agent.sock", listenerMetadata="meta")
    )
    assert compiled.notifies
    assert compiled.flags & seccomp.FLAG_NEW_LISTENER
    assert compiled.listener_path == "/run/agent.sock"
    assert compiled.listener_metadata == "meta"
