"""Terminals: a pty that pyrunc relays in the foreground, or hands to a console socket.

The interactive tests drive pyrunc as a person would, in a tmux pane (see
tests/tmux.py).
"""

from __future__ import annotations

import os
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import (
    Bundle,
    Runtime,
    detached,
    error_message,
    running,
    runtime_argv,
)
from tests.tmux import COLUMNS, ROWS, Tmux

CID = "tty"
PROMPT = "/ # "


def test_run_with_terminal_in_tmux(pyrunc: Runtime, bundle: Bundle, tmux: Tmux) -> None:
    bundle.config["process"]["terminal"] = True
    bundle.set_args("sh")
    path = bundle.write(CID)
    tmux.start(runtime_argv(pyrunc, "run", "--bundle", str(path), CID))
    tmux.wait_for(PROMPT)
    tmux.type("tty; echo hi; exit 7")
    assert tmux.exit_status() == 7
    screen = tmux.screen()
    assert "hi" in screen
    assert any(line.startswith("/dev/pts/") for line in screen)
    assert tmux.terminal_restored()
    assert pyrunc.container_ids() == []


def test_exec_tty_in_tmux(pyrunc: Runtime, bundle: Bundle, tmux: Tmux) -> None:
    running(pyrunc, bundle, CID)
    tmux.start(runtime_argv(pyrunc, "exec", "-t", CID, "sh"))
    tmux.wait_for(PROMPT)
    tmux.type("tty; echo hi; exit 7")
    assert tmux.exit_status() == 7
    screen = tmux.screen()
    assert "hi" in screen
    assert any(line.startswith("/dev/pts/") for line in screen)
    assert tmux.terminal_restored()
    assert pyrunc.state(CID)["status"] == "running"


def test_keys_reach_the_container_raw(
    pyrunc: Runtime, bundle: Bundle, tmux: Tmux
) -> None:
    """^C goes through as a byte: it interrupts the container's command, not pyrunc."""
    running(pyrunc, bundle, CID)
    tmux.start(runtime_argv(pyrunc, "exec", "-t", CID, "sh"))
    tmux.wait_for(PROMPT)
    tmux.type("sleep 30; echo slept")
    time.sleep(0.3)
    tmux.tmux("send-keys", "-t", "test", "C-c")
    tmux.wait_for(PROMPT + "sleep 30; echo slept")
    tmux.type("echo alive; exit 3")
    assert tmux.exit_status() == 3
    screen = tmux.screen()
    assert "alive" in screen and "slept" not in screen


def test_window_resize_reaches_the_container(
    pyrunc: Runtime, bundle: Bundle, tmux: Tmux
) -> None:
    running(pyrunc, bundle, CID)
    tmux.start(runtime_argv(pyrunc, "exec", "-t", CID, "sh"))
    tmux.wait_for(PROMPT)
    tmux.type("stty size")
    tmux.wait_for(f"{ROWS} {COLUMNS}")
    tmux.tmux("resize-window", "-t", "test", "-x", "80", "-y", "20")
    time.sleep(0.3)
    tmux.type("stty size")
    tmux.wait_for("20 80")
    tmux.type("exit")
    assert tmux.exit_status() == 0


def test_exec_tty_relays_piped_input(pyrunc: Runtime, container_sleeping: int) -> None:
    """Without a terminal of its own pyrunc still relays, in both directions."""
    result = pyrunc("exec", "-t", CID, "sh", input="echo piped; exit 4\n")
    assert result.returncode == 4, result.stderr
    assert "piped" in [line.strip() for line in result.stdout.splitlines()]


@pytest.fixture
def container_sleeping(pyrunc: Runtime, bundle: Bundle) -> int:
    """A running container CID; the init's pid."""
    return running(pyrunc, bundle, CID)


class ConsoleReceiver:
    """A --console-socket server: it takes one pty master and talks through it."""

    def __init__(self, path: Path) -> None:
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(1)
        self.server.settimeout(30)
        self.master = -1

    def accept(self) -> int:
        """Take the master from the runtime's connection and return it."""
        conn, _ = self.server.accept()
        with conn:
            _, fds, _, _ = socket.recv_fds(conn, 1024, 1)
        assert len(fds) == 1
        self.master = fds[0]
        return self.master

    def read_until(self, text: bytes, timeout: float = 10.0) -> bytes:
        """Read the master until text shows up (or it closes); return all read."""
        seen = b""
        deadline = time.monotonic() + timeout
        while text not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        return seen

    def close(self) -> None:
        """Close the socket and the master."""
        self.server.close()
        if self.master >= 0:
            os.close(self.master)


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ConsoleReceiver]:
    """A console socket at tmp_path/console.sock."""
    server = ConsoleReceiver(tmp_path / "console.sock")
    try:
        yield server
    finally:
        server.close()


def reap(pid: int, timeout: float = 10.0) -> int | None:
    """Reap our child pid once it exits; its exit code, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    return None


def test_exec_console_socket(
    pyrunc: Runtime,
    container_sleeping: int,
    receiver: ConsoleReceiver,
    tmp_path: Path,
) -> None:
    """The master comes to the socket; the shell behind it answers and exits."""
    pid_file = tmp_path / "exec.pid"
    socket_path = str(tmp_path / "console.sock")
    flags = ["-t", "-d", "--console-socket", socket_path, "--pid-file", str(pid_file)]
    result = detached(pyrunc, "exec", *flags, CID, "sh")
    assert result.returncode == 0, result.stderr
    master = receiver.accept()
    # once `exec -d` has returned, the shell's parent is this test (a subreaper)
    pid = int(pid_file.read_text())
    try:
        os.write(master, b"tty; echo hi-there; exit 5\n")
        output = receiver.read_until(b"hi-there\r\n")
        assert b"/dev/pts/" in output
        assert b"hi-there\r\n" in output
    finally:
        status = reap(pid)
    assert status == 5


def test_console_size_applied(
    pyrunc: Runtime, bundle: Bundle, receiver: ConsoleReceiver, tmp_path: Path
) -> None:
    bundle.config["process"]["consoleSize"] = {"height": 21, "width": 77}
    running(pyrunc, bundle, CID)
    pid_file = tmp_path / "exec.pid"
    socket_path = str(tmp_path / "console.sock")
    flags = ["-t", "-d", "--console-socket", socket_path, "--pid-file", str(pid_file)]
    result = detached(pyrunc, "exec", *flags, CID, "sh", "-c", "stty size")
    assert result.returncode == 0, result.stderr
    receiver.accept()
    try:
        assert b"21 77" in receiver.read_until(b"21 77")
    finally:
        reap(int(pid_file.read_text()))


def test_run_console_socket(
    pyrunc: Runtime, bundle: Bundle, receiver: ConsoleReceiver, tmp_path: Path
) -> None:
    bundle.config["process"]["terminal"] = True
    bundle.shell("echo from-init; exit 0")
    path = bundle.write(CID)
    socket_path = str(tmp_path / "console.sock")
    result = detached(
        pyrunc, "run", "-d", "--console-socket", socket_path, "--bundle", str(path), CID
    )
    assert result.returncode == 0, result.stderr
    receiver.accept()
    assert b"from-init" in receiver.read_until(b"from-init")


def test_exec_tty_detached_needs_console_socket(
    pyrunc: Runtime, container_sleeping: int
) -> None:
    result = pyrunc("exec", "-t", "-d", CID, "true")
    assert result.returncode == 255
    assert "--console-socket" in error_message(result.stderr)


def test_console_socket_without_tty_is_refused(
    pyrunc: Runtime, container_sleeping: int, receiver: ConsoleReceiver, tmp_path: Path
) -> None:
    socket_path = str(tmp_path / "console.sock")
    result = pyrunc("exec", "--console-socket", socket_path, CID, "true")
    assert result.returncode == 255
    assert "does not use a terminal" in error_message(result.stderr)
