"""Logging set-up: runc's text and JSON line formats, to a file or stderr."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import IO

_LEVELS = {"CRITICAL": "fatal", "ERROR": "error", "WARNING": "warning", "INFO": "info"}


def _timestamp(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created))


def _level(record: logging.LogRecord) -> str:
    return _LEVELS.get(record.levelname, "debug")


class JsonFormatter(logging.Formatter):
    """Format a record as runc does with --log-format json."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"level": _level(record), "msg": record.getMessage()}
        line["time"] = _timestamp(record.created)
        return json.dumps(line)


class TextFormatter(logging.Formatter):
    """Format a record as runc's default logfmt-style text line."""

    def format(self, record: logging.LogRecord) -> str:
        msg = json.dumps(record.getMessage())
        return f'time="{_timestamp(record.created)}" level={_level(record)} msg={msg}'


class Logging:
    """Where this invocation's log lines go, as the global flags chose."""

    def __init__(self, path: str | None, fmt: str, debug: bool) -> None:
        self.to_file = bool(path)
        # the log file stays open for the life of this short process
        stream: IO[str] = open(path, "a", encoding="utf-8") if path else sys.stderr  # noqa: SIM115
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
        root = logging.getLogger("pyrunc")
        root.handlers[:] = [handler]
        root.setLevel(logging.DEBUG if debug else logging.WARNING)
        root.propagate = False

    def error(self, message: str) -> None:
        """Report the one error of this invocation, as runc does.

        The line goes to the log; when the log is a file, the bare message
        goes to stderr as well, for a person at a terminal.
        """
        logging.getLogger("pyrunc").error(message)
        if self.to_file:
            print(message, file=sys.stderr)
