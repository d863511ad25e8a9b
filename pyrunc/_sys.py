"""The only module that touches the cffi extension: typed wrappers, errno to errors."""

from __future__ import annotations

from pyrunc._native import ffi, lib
from pyrunc.errors import SyscallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

OP = lib  # step opcodes are the PYRUNC_OP_* constants of the extension

MSG_SYNC = lib.PYRUNC_MSG_SYNC
MSG_PID = lib.PYRUNC_MSG_PID
MSG_ERROR = lib.PYRUNC_MSG_ERROR
MSG_READY = lib.PYRUNC_MSG_READY
_U64 = (1 << 64) - 1


class Step:
    """One step of a child's plan, as plain Python data.

    ``describe`` names the step in an error message, e.g. "mount proc to /proc".
    (A plain class: the dataclasses module costs more to import than all of
    this module's work.)
    """

    __slots__ = (
        "op",
        "describe",
        "fd",
        "flags",
        "num",
        "root",
        "target",
        "source",
        "fstype",
        "data",
        "argv",
        "envp",
        "ints",
    )

    def __init__(
        self,
        op: int,
        describe: str,
        fd: int = -1,
        flags: int = 0,
        num: tuple[int, ...] = (),
        root: str | None = None,
        target: str | None = None,
        source: str | None = None,
        fstype: str | None = None,
        data: str | bytes | None = None,
        argv: list[str] | None = None,
        envp: list[str] | None = None,
        ints: list[int] | None = None,
    ) -> None:
        self.op = op
        self.describe = describe
        self.fd = fd
        self.flags = flags
        self.num = num
        self.root = root
        self.target = target
        self.source = source
        self.fstype = fstype
        self.data = data
        self.argv = argv
        self.envp = envp
        self.ints = ints or []

    def copy(self, **changes: Any) -> Step:
        """Return a copy of this step with some fields changed."""
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields.update(changes)
        return Step(**fields)


class _Arena:
    """Keeps the C copies of strings and arrays alive as long as the plan."""

    def __init__(self) -> None:
        self.keep: list[Any] = []

    def string(self, value: str | bytes | None) -> Any:
        if value is None:
            return ffi.NULL
        raw = value.encode() if isinstance(value, str) else value
        buf = ffi.new("char[]", raw)
        self.keep.append(buf)
        return buf

    def strings(self, values: list[str] | None) -> Any:
        if values is None:
            return ffi.NULL
        items = [self.string(v) for v in values] + [ffi.NULL]
        array = ffi.new("char *[]", items)
        self.keep.append(array)
        return array

    def ints(self, values: list[int]) -> Any:
        if not values:
            return ffi.NULL
        array = ffi.new("long long[]", values)
        self.keep.append(array)
        return array


class Plan:
    """A list of steps packed into the C array the executor walks."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps
        self._arena = _Arena()
        self.array = ffi.new("struct pyrunc_step[]", max(len(steps), 1))
        for slot, step in zip(self.array, steps, strict=False):
            self._fill(slot, step)

    def _fill(self, slot: Any, step: Step) -> None:
        arena = self._arena
        slot.op = step.op
        slot.fd = step.fd
        slot.flags = step.flags
        for i, value in enumerate(step.num):
            slot.num[i] = value
        slot.root = arena.string(step.root)
        slot.target = arena.string(step.target)
        slot.source = arena.string(step.source)
        slot.fstype = arena.string(step.fstype)
        slot.data = arena.string(step.data)
        slot.argv = arena.strings(step.argv)
        slot.envp = arena.strings(step.envp)
        slot.list = arena.ints(step.ints)
        slot.nlist = len(step.ints)


def spawn(clone_flags: int, plan: Plan, sync_fd: int) -> int:
    """Clone a child that runs plan; return its pid.

    Raises:
        SyscallError: clone failed.
    """
    pid = lib.pyrunc_spawn(clone_flags, plan.array, len(plan.steps), sync_fd)
    if pid < 0:
        raise SyscallError("clone", -pid)
    return int(pid)


def setns(fd: int, nstype: int, what: str = "") -> None:
    """Move the calling process into the namespace behind fd.

    Raises:
        SyscallError: setns failed.
    """
    ret = lib.pyrunc_setns(fd, nstype)
    if ret < 0:
        raise SyscallError("setns", -ret, what)


def unshare(flags: int) -> None:
    """Detach the calling process from the namespaces in flags.

    Raises:
        SyscallError: unshare failed.
    """
    ret = lib.pyrunc_unshare(flags)
    if ret < 0:
        raise SyscallError("unshare", -ret)


def seccomp_syscall(name: str) -> int:
    """Return libseccomp's number of a syscall name: -1 if unknown.

    A call the native architecture lacks has a negative pseudo number.
    """
    return int(lib.pyrunc_seccomp_syscall(name.encode()))


def seccomp_arch(name: str) -> int:
    """Return libseccomp's token of an architecture name, 0 if unknown."""
    return int(lib.pyrunc_seccomp_arch(name.encode()))


def seccomp_compile(
    default: int,
    arches: list[int],
    rules: list[tuple[int, int, list[tuple[int, int, int, int]]]],
    out_fd: int,
) -> None:
    """Compile rules (syscall, action, conditions) into BPF written to out_fd.

    Raises:
        SyscallError: libseccomp refused the filter; the path names the rule.
    """
    c_rules = ffi.new("struct pyrunc_seccomp_rule[]", max(len(rules), 1))
    conditions = [c for _, _, conds in rules for c in conds]
    c_args = ffi.new("struct pyrunc_seccomp_arg[]", max(len(conditions), 1))
    for slot, (number, action, conds) in zip(c_rules, rules, strict=False):
        slot.syscall, slot.action, slot.nargs = number, action, len(conds)
    for slot, (index, op, value, value_two) in zip(c_args, conditions, strict=False):
        slot.index, slot.op = index, op
        slot.value, slot.value_two = value & _U64, value_two & _U64
    c_arches = ffi.new("unsigned int[]", arches or [0])
    failed = ffi.new("int *")
    ret = lib.pyrunc_seccomp_compile(
        default, c_arches, len(arches), c_rules, len(rules), c_args, out_fd, failed
    )
    if ret < 0:
        where = f"rule for syscall {rules[failed[0]][0]}" if failed[0] >= 0 else ""
        raise SyscallError("compile seccomp filter", -ret, where)


def sync_pair() -> tuple[int, int]:
    """Return the (parent, child) fds of a new sync socket.

    Raises:
        SyscallError: socketpair or setsockopt failed.
    """
    fds = ffi.new("int[2]")
    ret = lib.pyrunc_sync_pair(fds)
    if ret < 0:
        raise SyscallError("socketpair", -ret)
    return int(fds[0]), int(fds[1])


def sync_recv(fd: int) -> tuple[tuple[int, int, int, int] | None, int]:
    """Receive one child message: ((kind, step, err, value) or None at EOF, sender pid).

    Raises:
        SyscallError: recvmsg failed.
    """
    msg = ffi.new("struct pyrunc_msg *")
    pid = ffi.new("int *")
    ret = lib.pyrunc_sync_recv(fd, msg, pid)
    if ret < 0:
        raise SyscallError("recvmsg", -ret)
    if ret == 0:
        return None, 0
    return (int(msg.kind), int(msg.step), int(msg.err), int(msg.value)), int(pid[0])


def unix_connect(path: str) -> int:
    """Return a new unix stream socket connected to path.

    Raises:
        SyscallError: the socket could not connect.
    """
    fd = lib.pyrunc_unix_connect(path.encode())
    if fd < 0:
        raise SyscallError("connect", -fd, path)
    return int(fd)
