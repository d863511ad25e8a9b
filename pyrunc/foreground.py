"""Wait in the foreground for a container process: pass signals on, relay its pty.

A foreground `run` or `exec` stands in for the process it started. The
signals it receives go on to that process (a window change, when pyrunc
relays the terminal, resizes the pty instead), and it exits with the
process's status, 128+N when signal N killed it. Signals are caught from
before the process exists, held, and passed on once it does.
"""

from __future__ import annotations

import os
from _signal import (  # signal's C half; no enum import
    SIGALRM,
    SIGCONT,
    SIGHUP,
    SIGINT,
    SIGQUIT,
    SIGTERM,
    SIGUSR1,
    SIGUSR2,
    SIGWINCH,
    pidfd_send_signal,
    signal,
)

from pyrunc.process import launcher

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from pyrunc.terminal import Console

FORWARDED = (
    SIGHUP,
    SIGINT,
    SIGQUIT,
    SIGTERM,
    SIGUSR1,
    SIGUSR2,
    SIGALRM,
    SIGCONT,
    SIGWINCH,
)


class Forwarder:
    """Catch the forwarded signals and send each to one process once it is known."""

    def __init__(self) -> None:
        self.pidfd = -1
        self.closed = False
        self.held: list[int] = []
        self.on_resize: Callable[[], None] | None = None
        for sig in FORWARDED:
            signal(sig, self._receive)

    def _receive(self, signum: int, _frame: object) -> None:
        if self.closed:
            return
        if signum == SIGWINCH and self.on_resize is not None:
            self.on_resize()
        elif self.pidfd < 0:
            self.held.append(signum)
        else:
            self._send(signum)

    def _send(self, signum: int) -> None:
        try:
            pidfd_send_signal(self.pidfd, signum)
        except ProcessLookupError:
            pass

    def attach(self, pid: int) -> None:
        """Send signals to pid from now on, first those held so far."""
        self.pidfd = os.pidfd_open(pid)
        held, self.held = self.held, []
        for signum in held:
            self._send(signum)

    def close(self) -> None:
        """Stop forwarding: later signals are caught and dropped."""
        self.closed = True
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1


def wait(pid: int, forwarder: Forwarder, console: Console | None = None) -> int:
    """Forward signals to our child pid, relay its pty if given; return its status.

    Raises:
        SyscallError: pid is not our child.
    """
    forwarder.attach(pid)
    try:
        if console is not None:
            _relay(forwarder, console)
        return launcher.wait(pid)
    finally:
        forwarder.close()


def _relay(forwarder: Forwarder, console: Console) -> None:
    from pyrunc.terminal import Relay, copy_window_size

    master = console.master
    forwarder.on_resize = lambda: copy_window_size(master)
    try:
        Relay(master, forwarder.pidfd).run()
    finally:
        forwarder.on_resize = None
