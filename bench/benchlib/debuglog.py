"""Read the JSON debug log of one runtime call and time its steps."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Line:
    """One log line: its time as written, the parsed time and its message."""

    stamp: str
    when: datetime.datetime | None
    msg: str


def _parse_time(stamp: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def read(path: Path) -> list[Line]:
    """Return the JSON lines of a log file; a line that is not JSON is skipped."""
    lines = []
    for text in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(text)
        except ValueError:
            continue
        stamp = str(record.get("time", ""))
        lines.append(Line(stamp, _parse_time(stamp), str(record.get("msg", ""))))
    return lines


def has_subsecond_times(lines: list[Line]) -> bool:
    """Say whether the log's times are finer than whole seconds."""
    return bool(lines) and all(
        line.when is not None and "." in line.stamp for line in lines
    )


def steps(lines: list[Line]) -> list[tuple[str, float]]:
    """Return each line's message with the seconds until the next line."""
    timed = [(line.msg, line.when) for line in lines if line.when is not None]
    return [
        (msg, (following - when).total_seconds())
        for (msg, when), (_, following) in zip(timed, timed[1:], strict=False)
    ]
