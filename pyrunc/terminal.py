"""The terminal of a foreground process: a pty master that pyrunc relays itself.

With process.terminal and no --console-socket, a foreground `run` or `exec`
keeps the master: one end of a socket pair stands in for the console
socket, the executor sends the master through it, and pyrunc copies bytes
between its own stdin and stdout and the master until the process is gone.
Meanwhile its own terminal, if it has one, is in raw mode, so that every key
reaches the container's line discipline, and its window size follows
pyrunc's own; the terminal is restored at the end.
"""

from __future__ import annotations

import fcntl
import os
import select
import sys
import termios

from pyrunc import _sys
from pyrunc.errors import PyruncError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_CHUNK = 65536
_LINGER_MS = 100
_READABLE = select.POLLIN | select.POLLHUP | select.POLLERR | select.POLLNVAL


class Console:
    """The socket pair a process's pty master comes through, then the master."""

    def __init__(self) -> None:
        self.receiver, self.sender = _sys.sync_pair()
        self.master = -1

    def close_sender(self) -> None:
        """Close the end the executor has inherited."""
        if self.sender >= 0:
            os.close(self.sender)
            self.sender = -1

    def receive(self) -> None:
        """Take the master the executor sent, sized as our own terminal.

        Raises:
            PyruncError: no fd came through the socket.
        """
        self.close_sender()
        self.master = receive_fd(self.receiver)
        os.close(self.receiver)
        self.receiver = -1
        copy_window_size(self.master)

    def close(self) -> None:
        """Close whatever is still open."""
        self.close_sender()
        for fd in (self.receiver, self.master):
            if fd >= 0:
                os.close(fd)
        self.receiver = self.master = -1


def receive_fd(sock: int) -> int:
    """Receive one message on the unix socket sock and return the fd it carries.

    Raises:
        PyruncError: the message carries no fd.
    """
    import _socket  # socket's C half, without the enum classes

    conn = _socket.socket(fileno=sock)
    try:
        _, ancillary, _, _ = conn.recvmsg(256, 256, _socket.MSG_CMSG_CLOEXEC)
    except OSError as err:
        raise PyruncError(f"receive console: {(err.strerror or '').lower()}") from err
    finally:
        conn.detach()
    for level, kind, data in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            return int.from_bytes(data[:4], sys.byteorder)
    raise PyruncError("receive console: the message carries no pty master")


def copy_window_size(master: int) -> None:
    """Give master the window size of our stdin's terminal, or stdout's, if any."""
    for fd in (0, 1):
        if os.isatty(fd):
            try:
                size = fcntl.ioctl(fd, termios.TIOCGWINSZ, bytes(8))
                fcntl.ioctl(master, termios.TIOCSWINSZ, size)
            except OSError:
                pass
            return


class Relay:
    """Copy stdin to a pty master and the master to stdout until the process exits.

    pidfd becomes readable when the process exits; what it wrote until then
    is still copied. Input waits in a buffer while the pty is full, so a
    process that does not read never stops its output from being copied.
    The end of stdin is not passed on.
    """

    def __init__(self, master: int, pidfd: int) -> None:
        self.master = master
        self.pidfd = pidfd
        self.pending = b""
        self.stdin_open = True
        self.poller = select.poll()

    def run(self) -> None:
        """Relay until the process has exited, with our terminal in raw mode."""
        saved = _make_raw(0)
        try:
            os.set_blocking(self.master, False)
            self._loop()
        finally:
            if saved is not None:
                _restore(0, saved)

    def _loop(self) -> None:
        self.poller.register(self.pidfd, select.POLLIN)
        self._watch()
        while True:
            for fd, events in self.poller.poll():
                if fd == self.pidfd:
                    self._drain()
                    return
                if fd == self.master:
                    self._master_ready(events)
                elif fd == 0:
                    self._read_stdin()
            self._watch()

    def _watch(self) -> None:
        master_events = select.POLLIN | (select.POLLOUT if self.pending else 0)
        if self.master >= 0:
            self.poller.register(self.master, master_events)
        if self.stdin_open and not self.pending:
            self.poller.register(0, select.POLLIN)
        else:
            _forget(self.poller, 0)

    def _master_ready(self, events: int) -> None:
        if events & select.POLLOUT:
            self._write_pending()
        if events & _READABLE and not self._copy_output():
            self.poller.unregister(self.master)
            self.master = -1

    def _copy_output(self) -> bool:
        try:
            data = os.read(self.master, _CHUNK)
        except BlockingIOError:
            return True
        except OSError:  # EIO: no process holds the pty any more
            return False
        _write_all(1, data)
        return bool(data)

    def _read_stdin(self) -> None:
        try:
            data = os.read(0, _CHUNK)
        except OSError:
            data = b""
        self.stdin_open = bool(data)
        self.pending += data

    def _write_pending(self) -> None:
        try:
            written = os.write(self.master, self.pending)
        except BlockingIOError:
            return
        except OSError:
            written = len(self.pending)
        self.pending = self.pending[written:]

    def _drain(self) -> None:
        """Copy what the exited process left in the pty.

        The pty reports EIO once every holder of its other end is gone; a
        process the exited one left behind may hold it longer, so copying
        also stops after a moment without output.
        """
        if self.master < 0:
            return
        poller = select.poll()
        poller.register(self.master, select.POLLIN)
        while poller.poll(_LINGER_MS) and self._copy_output():
            pass


def _forget(poller: select.poll, fd: int) -> None:
    try:
        poller.unregister(fd)
    except KeyError:
        pass


def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            data = data[os.write(fd, data) :]
        except OSError:
            return


def _make_raw(fd: int) -> list[Any] | None:
    if not os.isatty(fd):
        return None
    import tty

    saved: list[Any] = termios.tcgetattr(fd)
    tty.setraw(fd, termios.TCSANOW)
    return saved


def _restore(fd: int, saved: list[Any]) -> None:
    try:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    except termios.error:
        pass  # the terminal is gone
