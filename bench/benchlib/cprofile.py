"""Run a Python program under cProfile and list where its time went."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from benchlib import proc

# Runs in the profiled program's own interpreter, so the stats file is read
# by the same Python version that wrote it.
_READ_STATS = """
import pstats, sys
stats = pstats.Stats(sys.argv[1]).stats
for (path, line, func), (_, calls, own, total, _) in stats.items():
    print(f"{total}\\t{own}\\t{calls}\\t{path}:{line}({func})")
"""
_LIBRARY = re.compile(
    r"^.*?/(?:site-packages|dist-packages)/|^/usr/lib/python3[.0-9]*/"
)


@dataclass(frozen=True)
class Entry:
    """One function's line of the profile."""

    where: str
    calls: int
    own: float
    total: float

    @property
    def internal(self) -> bool:
        """Say whether this is import machinery or a built-in's wrapper frame."""
        return self.where.startswith(("<frozen", "~:0(<built-in method builtins.exec"))


def _entry(line: str) -> Entry:
    total, own, calls, where = line.split("\t", 3)
    return Entry(_LIBRARY.sub("", where), int(calls), float(own), float(total))


def profile(interpreter: str, argv: list[str], stats: Path) -> tuple[list[Entry], str]:
    """Run argv (a script and its arguments) under cProfile.

    Returns the profile's entries (empty if it could not be read) and the
    program's error line ("" when it exited 0).
    """
    # -P keeps the working directory off sys.path, so a source tree there
    # cannot stand in for the installed package
    profiled = [interpreter, "-P", "-m", "cProfile", "-o", str(stats), *argv]
    outcome = proc.run(profiled)
    error = "" if outcome.ok else outcome.error_line()
    reader = [interpreter, "-P", "-c", _READ_STATS, str(stats)]
    listing = proc.run(reader, capture=True)
    if not listing.ok:
        return [], error or listing.error_line()
    return [_entry(line) for line in listing.stdout.splitlines()], error


def slowest(entries: list[Entry], count: int, key: str) -> list[Entry]:
    """Return the count entries with the largest total or own time."""
    kept = [entry for entry in entries if not entry.internal]
    kept.sort(key=lambda entry: getattr(entry, key), reverse=True)
    return kept[:count]
