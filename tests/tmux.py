"""A tmux server of a test's own, to drive programs that need a terminal.

Tests type into its one pane with send-keys and read the screen with
capture-pane, as a person at a terminal would. A wrapper script around the
program writes its exit status and the pane's terminal settings before and
after to files.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from pathlib import Path

ROWS, COLUMNS = 30, 100


class Tmux:
    """A tmux server of the test's own, with one pane running a wrapped command."""

    def __init__(self, workdir: Path) -> None:
        self.socket = str(workdir / "tmux.sock")
        self.workdir = workdir
        self.status = workdir / "status"
        self.settings_before = workdir / "stty-before"
        self.settings_after = workdir / "stty-after"

    def tmux(self, *args: str) -> str:
        """Run a tmux command against this server and return its output."""
        result = subprocess.run(
            ["tmux", "-S", self.socket, *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        """Start the server with one pane running argv inside the wrapper.

        env adds variables to argv's environment; the pane otherwise has
        the tmux server's, which is the test process's.
        """
        assignments = [f"{name}={value}" for name, value in (env or {}).items()]
        command = shlex.join(["env", *assignments, *argv] if assignments else argv)
        wrapper = self.workdir / "wrapper.sh"
        wrapper.write_text(
            f"stty -g > {self.settings_before}\n"
            f"{command}\n"
            f"echo $? > {self.status}.tmp\n"
            f"stty -g > {self.settings_after}\n"
            f"mv {self.status}.tmp {self.status}\n"
        )
        config = self.workdir / "tmux.conf"
        config.write_text("set -g remain-on-exit on\nset -g status off\n")
        self.tmux(
            "-f", str(config), "new-session", "-d", "-s", "test",
            "-x", str(COLUMNS), "-y", str(ROWS), f"sh {wrapper}",
        )  # fmt: skip

    def screen(self) -> list[str]:
        """Return the pane's lines, trailing blanks removed."""
        lines = self.tmux("capture-pane", "-p", "-t", "test").splitlines()
        return [line.rstrip() for line in lines]

    def wait_for(self, text: str, timeout: float = 10.0) -> list[str]:
        """Poll the screen until a line ends with text; return the screen."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if any(line.endswith(text.rstrip()) for line in screen):
                return screen
            assert time.monotonic() < deadline, f"no {text!r} on {screen}"
            time.sleep(0.05)

    def type(self, keys: str) -> None:
        """Type keys followed by Enter."""
        self.tmux("send-keys", "-t", "test", "-l", keys)
        self.tmux("send-keys", "-t", "test", "Enter")

    def exit_status(self, timeout: float = 20.0) -> int:
        """Wait for the wrapped command to end; return its exit status."""
        deadline = time.monotonic() + timeout
        while not self.status.exists():
            assert time.monotonic() < deadline, f"still running: {self.screen()}"
            time.sleep(0.05)
        return int(self.status.read_text())

    def terminal_restored(self) -> bool:
        """Tell whether the pane's settings after the command equal those before."""
        return self.settings_before.read_text() == self.settings_after.read_text()

    def stop(self) -> None:
        """Stop this tmux server and what runs in it."""
        subprocess.run(
            ["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=30
        )
