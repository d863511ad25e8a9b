"""Measure several runtimes in alternating rounds and keep their samples."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class Failed(Exception):
    """A runtime failed a step of a scenario; the message names the failure."""


@dataclass(frozen=True)
class Summary:
    """Median and 10th/90th percentiles of a list of samples."""

    median: float
    p10: float
    p90: float
    count: int


def summarize(values: list[float]) -> Summary:
    """Return the median and p10/p90 of values (all three equal for one value)."""
    if len(values) < 2:
        return Summary(values[0], values[0], values[0], len(values))
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    return Summary(statistics.median(values), deciles[0], deciles[8], len(values))


@dataclass
class Results:
    """Samples per runtime and metric, and the failure of each failed runtime."""

    names: list[str]
    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, sample: dict[str, float]) -> None:
        """Record one round's sample of every metric for a runtime."""
        metrics = self.samples.setdefault(name, {})
        for metric, value in sample.items():
            metrics.setdefault(metric, []).append(value)

    def values(self, name: str, metric: str) -> list[float]:
        """Return the samples of one metric, or none if the runtime failed."""
        if name in self.failures:
            return []
        return self.samples.get(name, {}).get(metric, [])

    def summary(self, name: str, metric: str) -> Summary | None:
        """Summarize one metric of one runtime, if it has samples."""
        values = self.values(name, metric)
        return summarize(values) if values else None

    def median(self, name: str, metric: str) -> float | None:
        """Return the median of one metric of one runtime, if it has samples."""
        summary = self.summary(name, metric)
        return summary.median if summary else None


def _rotated(names: list[str], start: int) -> list[str]:
    start %= len(names)
    return names[start:] + names[:start]


def round_robin(
    names: list[str],
    rounds: int,
    warmup: int,
    measure: Callable[[str], dict[str, float]],
    label: str,
) -> Results:
    """Measure every runtime once per round, alternating, after warm-up rounds.

    Each round starts with the next runtime in turn, so none is always
    first. A runtime whose measure raises Failed is dropped from later
    rounds and keeps its failure message.
    """
    results = Results(list(names))
    started = time.monotonic()
    for index in range(warmup + rounds):
        active = [name for name in names if name not in results.failures]
        for name in _rotated(active, index) if active else []:
            try:
                sample = measure(name)
            except Failed as err:
                results.failures[name] = str(err)
                continue
            if index >= warmup:
                results.add(name, sample)
        _progress(label, index + 1, warmup + rounds, started)
    return results


def _progress(label: str, done: int, total: int, started: float) -> None:
    line = f"bench: {label}: round {done}/{total}, {time.monotonic() - started:.1f} s"
    if sys.stderr.isatty():
        end = "\n" if done == total else ""
        print(f"\r{line}", end=end, file=sys.stderr, flush=True)
    elif done == total:
        print(line, file=sys.stderr, flush=True)
