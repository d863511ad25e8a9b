"""Lifecycle hooks: run with the state on stdin, a timeout, and in a namespace.

runtime.md says where each hook runs: prestart, createRuntime, poststart and
poststop in the runtime's namespaces; createContainer and startContainer in
the container's. A hook for the container is started by the same C executor
as the container itself, which enters the namespaces of the init before it
executes the hook.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal

from pyrunc import jsonio
from pyrunc._sys import OP, Step
from pyrunc.errors import HookError
from pyrunc.log import get_logger
from pyrunc.process import launcher
from pyrunc.process.namespaces import PR_SET_DUMPABLE, enter_steps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

log = get_logger(__name__)


def _stdin_pipe(state: bytes) -> int:
    read_end, write_end = os.pipe()
    try:
        if len(state) > 65536:
            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, len(state))
        os.write(write_end, state)
    finally:
        os.close(write_end)
    return read_end


def _hook_steps(hook: dict[str, Any], stdin: int, out: int) -> list[Step]:
    path = hook["path"]
    return [
        Step(OP.PYRUNC_OP_DUP2, "redirect hook stdin", fd=stdin, num=(0,)),
        Step(OP.PYRUNC_OP_DUP2, "redirect hook stdout", fd=out, num=(1,)),
        Step(OP.PYRUNC_OP_DUP2, "redirect hook stderr", fd=out, num=(2,)),
        Step(OP.PYRUNC_OP_CLOSE_FDS, "close runtime files", num=(3,), ints=[]),
        Step(OP.PYRUNC_OP_FIND_EXEC, f'exec: "{path}"', target=path, data=""),
        Step(OP.PYRUNC_OP_READY, "report ready"),
        Step(
            OP.PYRUNC_OP_EXEC,
            f"exec hook {path}",
            argv=hook.get("args") or [path],
            envp=hook.get("env", []),
        ),
    ]


def _wait(pid: int, timeout: int | None, path: str) -> int:
    pidfd = os.pidfd_open(pid)
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        if not poller.poll(None if timeout is None else timeout * 1000):
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise HookError(f"{path}: timed out after {timeout}s")
    finally:
        os.close(pidfd)
    return launcher.wait(pid)


def run_hook(
    hook: dict[str, Any], state: dict[str, Any], enter_pid: int | None = None
) -> None:
    """Run one hook to completion, in the namespaces of enter_pid if given.

    Raises:
        HookError: the hook could not start, exited non-zero or timed out; the
            message starts with the hook's path.
    """
    path = hook["path"]
    stdin = _stdin_pipe(jsonio.dumps(state).encode())
    out = os.memfd_create("pyrunc-hook-output", os.MFD_CLOEXEC)
    enter, ns_fds = enter_steps(enter_pid) if enter_pid else ([], [])
    steps = [
        Step(OP.PYRUNC_OP_RESET_SIGNALS, "reset signal handlers"),
        # until execve the hook is a copy of the runtime: the container's
        # processes must not reach its memory or its executable through /proc
        Step(OP.PYRUNC_OP_PRCTL, "make hook non-dumpable", num=(PR_SET_DUMPABLE, 0)),
        *enter,
    ]
    steps += _hook_steps(hook, stdin, out)
    try:
        child = launcher.start(0, steps, {})
        status = _wait(child.pid, hook.get("timeout"), path)
    except launcher.InitError as err:
        raise HookError(str(err)) from err
    finally:
        for fd in (stdin, *ns_fds):
            os.close(fd)
    output = os.pread(out, 4096, 0).decode(errors="replace").strip()
    os.close(out)
    if status != 0:
        detail = f", output: {output}" if output else ""
        raise HookError(f"{path}: exit status {status}{detail}")
    log.debug("hook %s succeeded", path)


def run_hooks(
    spec_hooks: dict[str, Any],
    kind: str,
    state: dict[str, Any],
    enter_pid: int | None = None,
) -> None:
    """Run every hook of one kind in order; the first failure stops the rest.

    Raises:
        HookError: a hook failed.
    """
    for index, hook in enumerate(spec_hooks.get(kind, [])):
        log.debug("running %s hook %s", kind, hook["path"])
        try:
            run_hook(hook, state, enter_pid)
        except HookError as err:
            raise HookError(f"hooks.{kind}[{index}]: {err}") from err


def run_hooks_warning(
    spec_hooks: dict[str, Any], kind: str, state: dict[str, Any]
) -> None:
    """Run every hook of one kind in order; a failure is a warning, the rest still run.

    runtime.md asks this of poststart and poststop hooks.
    """
    for index, hook in enumerate(spec_hooks.get(kind, [])):
        try:
            run_hook(hook, state)
        except HookError as err:
            log.warning("hooks.%s[%d]: %s", kind, index, err)
