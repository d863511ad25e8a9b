"""Run a command with its output in files and a deadline.

Output goes to anonymous files, not pipes: a container started by `create`
keeps the runtime's stdout and stderr open, and a pipe would never reach
end of file while it lives.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import IO

DEFAULT_TIMEOUT = 30.0
TIMED_OUT = 124
_SHOWN = 600


@dataclass(frozen=True)
class Result:
    """How one command ended."""

    argv: list[str]
    status: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def ok(self) -> bool:
        """Say whether the command exited with status 0."""
        return self.status == 0

    def describe(self) -> str:
        """Return the command, its status and its output, for a report."""
        lines = [f"$ {' '.join(self.argv)}", f"exit status {self.status}"]
        for name, text in (("stdout", self.stdout), ("stderr", self.stderr)):
            if text.strip():
                lines.append(f"{name}: {_shorten(text.strip())}")
        return "\n".join(lines)


def _shorten(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + " [...]"


def _read(stream: IO[bytes]) -> str:
    stream.seek(0)
    return stream.read().decode(errors="replace")


def _stdin_file(data: bytes | None) -> IO[bytes] | None:
    if data is None:
        return None
    # closed by run() once the command has ended
    source = tempfile.TemporaryFile()  # noqa: SIM115
    source.write(data)
    source.seek(0)
    return source


def run(
    argv: list[str],
    timeout: float = DEFAULT_TIMEOUT,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    """Run argv to its end, or kill it after timeout seconds.

    A command that cannot start comes back with status 127 and the reason
    as its stderr; one killed at its deadline with status 124.
    """
    source = _stdin_file(stdin)
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            status = _wait(argv, timeout, source, out, err, env)
        except OSError as error:
            return Result(argv, 127, "", f"{argv[0]}: {error.strerror}", 0.0)
        finally:
            if source is not None:
                source.close()
        seconds = time.monotonic() - started
        return Result(argv, status, _read(out), _read(err), seconds)


def _wait(
    argv: list[str],
    timeout: float,
    source: IO[bytes] | None,
    out: IO[bytes],
    err: IO[bytes],
    env: dict[str, str] | None,
) -> int:
    stdin = subprocess.DEVNULL if source is None else source
    try:
        done = subprocess.run(
            argv, stdin=stdin, stdout=out, stderr=err, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired:
        err.write(f"\n(timed out after {timeout:g} s)".encode())
        return TIMED_OUT
    return done.returncode
