"""Parse and summarize the `python -X importtime` report of several runs."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field

_PREFIX = "import time:"


@dataclass(frozen=True)
class Import:
    """One module's line of an -X importtime report."""

    name: str
    self_us: int
    cumulative_us: int
    depth: int

    @property
    def package(self) -> str:
        """Return the top-level package the module belongs to."""
        return self.name.split(".")[0]


def parse(stderr: str) -> list[Import]:
    """Return the imports listed in one run's stderr, in report order."""
    found = []
    for line in stderr.splitlines():
        if not line.startswith(_PREFIX):
            continue
        own, cumulative, name = line[len(_PREFIX) :].split("|", 2)
        if not own.strip().isdigit():
            continue
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        found.append(Import(name.strip(), int(own), int(cumulative), depth))
    return found


@dataclass
class Profile:
    """The import reports of several runs of one command."""

    runs: list[list[Import]] = field(default_factory=list)

    def add(self, stderr: str) -> None:
        """Add the report found in one run's stderr."""
        self.runs.append(parse(stderr))

    def total_us(self) -> float:
        """Return the median over runs of the summed self time of all imports."""
        return statistics.median(sum(i.self_us for i in run) for run in self.runs)

    def module_count(self) -> int:
        """Return how many modules the last run imported."""
        return len(self.runs[-1]) if self.runs else 0

    def by_module(self, count: int) -> list[tuple[str, float, float]]:
        """Return the count slowest modules: name, median self and cumulative us."""
        own: dict[str, list[int]] = defaultdict(list)
        cumulative: dict[str, list[int]] = defaultdict(list)
        for run in self.runs:
            for item in run:
                own[item.name].append(item.self_us)
                cumulative[item.name].append(item.cumulative_us)
        rows = [
            (name, statistics.median(own[name]), statistics.median(cumulative[name]))
            for name in own
        ]
        return sorted(rows, key=lambda row: row[1], reverse=True)[:count]

    def by_package(self, count: int) -> list[tuple[str, float, int]]:
        """Return the count costliest top-level packages: median self us, modules."""
        totals: dict[str, list[int]] = defaultdict(list)
        modules: dict[str, set[str]] = defaultdict(set)
        for run in self.runs:
            per_run: dict[str, int] = defaultdict(int)
            for item in run:
                per_run[item.package] += item.self_us
                modules[item.package].add(item.name)
            for package, total in per_run.items():
                totals[package].append(total)
        rows = [
            (package, statistics.median(values), len(modules[package]))
            for package, values in totals.items()
        ]
        return sorted(rows, key=lambda row: row[1], reverse=True)[:count]
