"""Start a child that runs a plan, and serve its requests until it is ready.

The parent and child share a SOCK_SEQPACKET pair. The child sends fixed-size
messages (see csrc/pyrunc_native.h); at each SYNC the parent does its part
(cgroup placement, id maps, hooks) and answers 'G' to let the child go on.
"""

from __future__ import annotations

import os

from pyrunc import _sys
from pyrunc._sys import Plan, Step
from pyrunc.errors import PyruncError, SyscallError
from pyrunc.log import get_logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    SyncHandler = Callable[[int], None]

log = get_logger(__name__)


class InitError(PyruncError):
    """A step of the container's init failed; names the step and errno."""

    def __init__(self, step: Step, errno: int) -> None:
        self.step = step
        self.errno = errno
        if step.op == _sys.OP.PYRUNC_OP_FIND_EXEC:
            reason = os.strerror(errno).lower()
            if errno == 2 and "/" in (step.target or ""):
                # a path is not looked up in $PATH; runc names the stat that failed
                reason = f"stat {step.target}: {reason}"
            elif errno == 2:
                reason = "executable file not found in $PATH"
            message = f"{step.describe}: {reason}"
        else:
            message = f"{step.describe}: {os.strerror(errno).lower()}"
        super().__init__(message)


class Child:
    """A child started from a plan.

    pid is the process that goes on to execute; it differs from clone_pid
    when the clone forked into a new pid namespace.
    """

    def __init__(
        self, clone_pid: int, sync_fd: int, handlers: dict[int, SyncHandler]
    ) -> None:
        self.clone_pid = clone_pid
        self.pid = clone_pid
        self.sync_fd = sync_fd
        self.handlers = handlers


def start(
    clone_flags: int, steps: list[Step], handlers: dict[int, SyncHandler]
) -> Child:
    """Clone a child running steps and serve it until it is ready or fails.

    Ready is the READY step's report or, for a plan without one, execve.

    handlers maps a SYNC code to the parent's part, called with the child's
    current pid. On failure the child is killed and reaped.

    Raises:
        InitError: a step failed in the child.
        PyruncError: a handler failed.
    """
    parent, child_end = _sys.sync_pair()
    plan = Plan(steps)
    try:
        pid = _sys.spawn(clone_flags, plan, child_end)
    finally:
        os.close(child_end)
    child = Child(pid, parent, handlers)
    try:
        _serve(child, plan)
    except BaseException:
        kill(child)
        raise
    finally:
        os.close(parent)
    return child


def _serve(child: Child, plan: Plan) -> None:
    reports_ready = any(step.op == _sys.OP.PYRUNC_OP_READY for step in plan.steps)
    while True:
        message, sender = _sys.sync_recv(child.sync_fd)
        if message is None and not reports_ready:
            return  # execve closed the child's end: the program runs
        if message is None:
            status = _reap(child.clone_pid)
            raise PyruncError(f"container init exited before it was ready ({status})")
        kind, index, err, value = message
        if kind == _sys.MSG_ERROR:
            _reap(child.clone_pid)
            raise InitError(plan.steps[index], err)
        if kind == _sys.MSG_PID:
            _take_pid(child, sender)
        elif kind == _sys.MSG_SYNC:
            log.debug("init %d waits at sync point %d", child.pid, value)
            child.handlers[value](child.pid)
            os.write(child.sync_fd, b"G")
        elif kind == _sys.MSG_READY:
            return


def _take_pid(child: Child, pid: int) -> None:
    if pid != child.clone_pid:
        # the clone forked into its pid namespace and has exited
        _reap(child.clone_pid)
    child.pid = pid


def _reap(pid: int) -> str:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return "already reaped"
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def kill(child: Child) -> None:
    """Kill a child that failed during set-up, and reap what is ours to reap."""
    for pid in {child.pid, child.clone_pid}:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    for pid in {child.pid, child.clone_pid}:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def wait(pid: int) -> int:
    """Wait for pid; return its exit status, or 128+N if signal N killed it.

    Raises:
        SyscallError: pid is not our child.
    """
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError as err:
        raise SyscallError("waitpid", err.errno or 0, str(pid)) from err
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.waitstatus_to_exitcode(status)
