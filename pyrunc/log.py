"""Log lines in runc's text and JSON formats, to the --log file or stderr.

pyrunc starts anew for every command, so what it imports is paid on every
call. The standard logging module costs more to import than a whole
`pyrunc state`; this module gives the small part of its interface pyrunc
uses (``get_logger(__name__)`` with debug, warning and error) and formats
the lines itself.
"""

from __future__ import annotations

import sys
import time

from pyrunc import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

DEBUG, WARNING, ERROR = 10, 30, 40
_NAMES = {DEBUG: "debug", WARNING: "warning", ERROR: "error"}


def _timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def format_json(level: int, message: str) -> str:
    """Return a line as runc writes it with --log-format json."""
    line = {"level": _NAMES[level], "msg": message, "time": _timestamp()}
    return jsonio.dumps(line, separators=(",", ":"))


def format_text(level: int, message: str) -> str:
    """Return a line as runc writes it with the default text format."""
    return f'time="{_timestamp()}" level={_NAMES[level]} msg={jsonio.dumps(message)}'


class _Sink:
    """Where lines go and from which level, as the global flags chose."""

    def __init__(self) -> None:
        self.stream: IO[str] = sys.stderr
        self.level = WARNING
        self.format = format_text

    def emit(self, level: int, message: str) -> None:
        if level >= self.level:
            self.stream.write(self.format(level, message) + "\n")
            self.stream.flush()


_sink = _Sink()


class Logger:
    """A named source of log lines; the name shows in debug output."""

    def __init__(self, name: str) -> None:
        self.name = name

    def debug(self, message: str, *args: object) -> None:
        """Log a step of the work, shown with --debug."""
        if _sink.level <= DEBUG:
            _sink.emit(DEBUG, f"{self.name}: {message % args if args else message}")

    def warning(self, message: str, *args: object) -> None:
        """Log a fallback or a failure that does not stop the command."""
        _sink.emit(WARNING, message % args if args else message)


def get_logger(name: str) -> Logger:
    """Return the logger of a module."""
    return Logger(name)


class Logging:
    """This invocation's log destination, set from --log, --log-format and --debug."""

    def __init__(self, path: str | None, fmt: str, debug: bool) -> None:
        self.to_file = bool(path)
        if path:
            # the file stays open for the life of this short process
            _sink.stream = open(path, "a", encoding="utf-8")  # noqa: SIM115
        else:
            _sink.stream = sys.stderr
        _sink.format = format_json if fmt == "json" else format_text
        _sink.level = DEBUG if debug else WARNING

    def error(self, message: str) -> None:
        """Report the one error of this invocation, as runc does.

        The line goes to the log; when the log is a file, the bare message
        goes to stderr as well, for a person at a terminal.
        """
        _sink.emit(ERROR, message)
        if self.to_file:
            print(message, file=sys.stderr)
