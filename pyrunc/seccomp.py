"""linux.seccomp compiled to a BPF program with libseccomp, for the init to load last.

The profile is compiled in the runtime process, so a bad profile fails
`create` with a message naming the field. The init loads the finished
program with a single seccomp(2) call right before it executes the process:
the runtime's own system calls never meet the filter.
"""

from __future__ import annotations

import errno
import os

from pyrunc import _sys
from pyrunc.errors import SeccompError, SyscallError
from pyrunc.log import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

log = get_logger(__name__)

ACT_KILL_THREAD = 0x00000000
ACT_KILL_PROCESS = 0x80000000
ACT_TRAP = 0x00030000
ACT_ERRNO = 0x00050000
ACT_NOTIFY = 0x7FC00000
ACT_TRACE = 0x7FF00000
ACT_LOG = 0x7FFC0000
ACT_ALLOW = 0x7FFF0000

# action name: (base value, whether errnoRet fills its low 16 bits)
ACTIONS = {
    "SCMP_ACT_KILL": (ACT_KILL_THREAD, False),
    "SCMP_ACT_KILL_THREAD": (ACT_KILL_THREAD, False),
    "SCMP_ACT_KILL_PROCESS": (ACT_KILL_PROCESS, False),
    "SCMP_ACT_TRAP": (ACT_TRAP, False),
    "SCMP_ACT_ERRNO": (ACT_ERRNO, True),
    "SCMP_ACT_TRACE": (ACT_TRACE, True),
    "SCMP_ACT_LOG": (ACT_LOG, False),
    "SCMP_ACT_ALLOW": (ACT_ALLOW, False),
    "SCMP_ACT_NOTIFY": (ACT_NOTIFY, False),
}

OPERATORS = {
    "SCMP_CMP_NE": 1,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 3,
    "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6,
    "SCMP_CMP_MASKED_EQ": 7,
}

# Filter flags of seccomp(2) the spec lets a config ask for.
FLAGS = {
    "SECCOMP_FILTER_FLAG_TSYNC": 1,
    "SECCOMP_FILTER_FLAG_LOG": 2,
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4,
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": 32,
}
FLAG_NEW_LISTENER = 8

# libseccomp's number for a name it does not know. Other negative numbers
# stand for calls the native architecture lacks (socketcall on x86_64): the
# rule still holds for the other architectures of the filter.
UNKNOWN_SYSCALL = -1

ARCHITECTURES = [
    "x86",
    "x86_64",
    "x32",
    "arm",
    "aarch64",
    "mips",
    "mips64",
    "mips64n32",
    "mipsel",
    "mipsel64",
    "mipsel64n32",
    "ppc",
    "ppc64",
    "ppc64le",
    "s390",
    "s390x",
    "parisc",
    "parisc64",
    "riscv64",
]


class Filter:
    """A compiled profile: the program, its load flags, and where notify fds go."""

    def __init__(self, program: bytes, flags: int, seccomp: dict[str, Any]) -> None:
        self.program = program
        self.flags = flags
        self.listener_path: str | None = seccomp.get("listenerPath")
        self.listener_metadata: str = seccomp.get("listenerMetadata", "")

    @property
    def instructions(self) -> int:
        """Return the number of BPF instructions (8 bytes each)."""
        return len(self.program) // 8

    @property
    def notifies(self) -> bool:
        """Tell whether the filter hands syscalls to a user-space agent."""
        return bool(self.flags & FLAG_NEW_LISTENER)


def action_value(name: str, errno_ret: int | None, where: str) -> int:
    """Return libseccomp's value of an action, with errnoRet where it applies.

    Raises:
        SeccompError: the action is unknown.
    """
    if name not in ACTIONS:
        raise SeccompError(f"{where}: unknown seccomp action {name}")
    base, takes_errno = ACTIONS[name]
    if not takes_errno:
        return base
    return base | ((errno.EPERM if errno_ret is None else errno_ret) & 0xFFFF)


def _arches(seccomp: dict[str, Any]) -> list[int]:
    tokens = []
    for index, name in enumerate(seccomp.get("architectures", [])):
        short = name.removeprefix("SCMP_ARCH_").lower()
        token = _sys.seccomp_arch(short) if short in ARCHITECTURES else 0
        if not token:
            where = f"linux.seccomp.architectures[{index}]"
            raise SeccompError(f"{where}: unknown architecture {name}")
        tokens.append(token)
    return tokens


def _conditions(
    args: list[dict[str, Any]], where: str
) -> list[tuple[int, int, int, int]]:
    conditions = []
    for index, arg in enumerate(args):
        op = arg.get("op")
        if op not in OPERATORS:
            raise SeccompError(f"{where}.args[{index}].op: unknown operator {op}")
        conditions.append(
            (arg["index"], OPERATORS[op], arg.get("value", 0), arg.get("valueTwo", 0))
        )
    return conditions


def _split(
    conditions: list[tuple[int, int, int, int]],
) -> list[list[tuple[int, int, int, int]]]:
    # libseccomp ANDs the conditions of one rule but takes one per argument:
    # several conditions on the same argument become rules of their own (OR)
    indexes = [c[0] for c in conditions]
    if len(set(indexes)) == len(indexes):
        return [conditions]
    return [[condition] for condition in conditions]


Rule = tuple[int, int, list[tuple[int, int, int, int]]]


def _rules(seccomp: dict[str, Any], default: int) -> list[Rule]:
    rules: list[Rule] = []
    for index, entry in enumerate(seccomp.get("syscalls", [])):
        where = f"linux.seccomp.syscalls[{index}]"
        action = action_value(entry.get("action", ""), entry.get("errnoRet"), where)
        conditions = _conditions(entry.get("args", []), where)
        if action == default:
            continue  # libseccomp refuses a rule that repeats the default
        for name in entry.get("names", []):
            number = _sys.seccomp_syscall(name)
            if number == UNKNOWN_SYSCALL:
                log.debug("seccomp: skipping unknown syscall %s", name)
                continue
            rules += [(number, action, part) for part in _split(conditions)]
    return rules


def _flags(seccomp: dict[str, Any], rules: list[Rule], default: int) -> int:
    flags = 0
    for index, name in enumerate(seccomp.get("flags", [])):
        if name not in FLAGS:
            raise SeccompError(f"linux.seccomp.flags[{index}]: unknown flag {name}")
        flags |= FLAGS[name]
    if default == ACT_NOTIFY or any(action == ACT_NOTIFY for _, action, _ in rules):
        if not seccomp.get("listenerPath"):
            raise SeccompError(
                "linux.seccomp.listenerPath: required by the SCMP_ACT_NOTIFY action"
            )
        flags |= FLAG_NEW_LISTENER
    return flags


def compile_filter(seccomp: dict[str, Any]) -> Filter:
    """Compile a linux.seccomp object into a BPF program.

    Syscall names this libseccomp does not know are skipped, as runc does.

    Raises:
        SeccompError: an action, operator, architecture or flag is unknown, or
            libseccomp refused a rule.
    """
    default = action_value(
        seccomp.get("defaultAction", ""),
        seccomp.get("defaultErrnoRet"),
        "linux.seccomp.defaultAction",
    )
    rules = _rules(seccomp, default)
    flags = _flags(seccomp, rules, default)
    out = os.memfd_create("pyrunc-seccomp", os.MFD_CLOEXEC)
    try:
        try:
            _sys.seccomp_compile(default, _arches(seccomp), rules, out)
        except SyscallError as err:
            raise SeccompError(f"linux.seccomp: {err}") from err
        size = os.fstat(out).st_size
        program = os.pread(out, size, 0)
    finally:
        os.close(out)
    return Filter(program, flags, seccomp)
