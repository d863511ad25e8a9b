"""Start commands, wait for them through pidfds, and time them.

Commands start with posix_spawn and are reaped with wait4, so each outcome
carries the wall time from spawn to reap and the peak RSS the kernel
reports for the child (ru_maxrss, which also covers the descendants the
child itself waited for).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import tempfile
import time
from dataclasses import dataclass
from typing import IO

DEFAULT_TIMEOUT = 60.0
_GRACE = 5.0
_LOGFMT_MSG = re.compile(r'msg="((?:[^"\\]|\\.)*)"')


@dataclass
class Outcome:
    """How one command ended."""

    argv: list[str]
    status: int
    seconds: float
    maxrss_kib: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """Say whether the command exited with status 0."""
        return self.status == 0

    def error_line(self) -> str:
        """Return the one line of stderr that best names the failure."""
        return error_line(self.stderr, self.status)


@dataclass
class _Child:
    argv: list[str]
    pid: int
    pidfd: int
    out: IO[bytes] | None
    err: IO[bytes]
    started: float
    reaped: bool = False
    timed_out: bool = False


def error_line(stderr: str, status: int) -> str:
    """Pick the line of stderr that names a failure.

    That is the first line, except after a Python traceback (its last line)
    and inside a runc-style text or JSON log line (its msg).
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return f"exit status {status}"
    line = lines[-1] if lines[0].startswith("Traceback") else lines[0]
    if line.startswith("{"):
        try:
            return str(json.loads(line).get("msg", line))
        except (ValueError, AttributeError):
            return line
    match = _LOGFMT_MSG.search(line)
    return match.group(1) if match else line


def _file_actions(out: IO[bytes] | None, err: IO[bytes]) -> list[tuple[object, ...]]:
    actions: list[tuple[object, ...]] = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
    ]
    if out is None:
        actions.append((os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0))
    else:
        actions.append((os.POSIX_SPAWN_DUP2, out.fileno(), 1))
    return actions


def _spawn(argv: list[str], capture: bool) -> _Child:
    # the files outlive this function: _reap reads and closes them
    err = tempfile.TemporaryFile()  # noqa: SIM115
    out = tempfile.TemporaryFile() if capture else None  # noqa: SIM115
    actions = _file_actions(out, err)
    started = time.perf_counter()
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    except OSError:
        err.close()
        if out is not None:
            out.close()
        raise
    return _Child(argv, pid, os.pidfd_open(pid), out, err, started)


def _read(stream: IO[bytes] | None) -> str:
    if stream is None:
        return ""
    stream.seek(0)
    text = stream.read().decode(errors="replace")
    stream.close()
    return text


def _reap(child: _Child, timeout: float) -> Outcome:
    _, status, usage = os.wait4(child.pid, 0)
    ended = time.perf_counter()
    child.reaped = True
    os.close(child.pidfd)
    stderr = _read(child.err)
    if child.timed_out:
        stderr = f"timed out after {timeout:g} s\n{stderr}"
    return Outcome(
        argv=child.argv,
        status=os.waitstatus_to_exitcode(status),
        seconds=ended - child.started,
        maxrss_kib=usage.ru_maxrss,
        stdout=_read(child.out),
        stderr=stderr,
    )


def _kill(child: _Child) -> None:
    if not child.reaped and not child.timed_out:
        child.timed_out = True
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(child.pidfd, signal.SIGKILL)


def _kill_and_reap(children: list[_Child]) -> None:
    for child in children:
        if not child.reaped:
            _kill(child)
            with contextlib.suppress(ChildProcessError):
                _reap(child, 0)


def _wait_all(children: list[_Child], timeout: float) -> list[Outcome]:
    poller = select.poll()
    index = {child.pidfd: n for n, child in enumerate(children)}
    for pidfd in index:
        poller.register(pidfd, select.POLLIN)
    outcomes: dict[int, Outcome] = {}
    deadline = time.monotonic() + timeout
    while len(outcomes) < len(children):
        events = poller.poll(max(0.0, deadline - time.monotonic()) * 1000)
        if not events:
            for child in children:
                _kill(child)
            deadline = time.monotonic() + _GRACE
        for pidfd, _ in events:
            poller.unregister(pidfd)
            outcomes[index[pidfd]] = _reap(children[index[pidfd]], timeout)
    return [outcomes[n] for n in range(len(children))]


def _finish(children: list[_Child], timeout: float) -> list[Outcome]:
    try:
        return _wait_all(children, timeout)
    except BaseException:
        _kill_and_reap(children)
        raise


def run_all(
    argvs: list[list[str]], timeout: float = DEFAULT_TIMEOUT, capture: bool = False
) -> tuple[float, list[Outcome]]:
    """Start every command at once; return the total wall time and outcomes.

    A command still running after timeout seconds is killed and its outcome
    says so. If starting or waiting fails, every child still running is
    killed and reaped before the exception goes on.

    Raises:
        OSError: a command could not be started.
    """
    children: list[_Child] = []
    try:
        for argv in argvs:
            children.append(_spawn(argv, capture))
    except BaseException:
        _kill_and_reap(children)
        raise
    outcomes = _finish(children, timeout)
    last = max(c.started + o.seconds for c, o in zip(children, outcomes, strict=True))
    return last - children[0].started, outcomes


def run(
    argv: list[str], timeout: float = DEFAULT_TIMEOUT, capture: bool = False
) -> Outcome:
    """Run one command to its end and return how it ended.

    A command that cannot be started comes back with status 127 and the
    reason as its stderr, like a shell's.
    """
    try:
        child = _spawn(argv, capture)
    except OSError as err:
        return Outcome(argv, 127, 0.0, 0, "", f"{argv[0]}: {err.strerror}")
    return _finish([child], timeout)[0]
