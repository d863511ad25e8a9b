"""Format numbers and markdown tables for the report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from benchlib.rounds import Results

BASELINE = "runc"
NONE = "—"


def ms(seconds: float) -> str:
    """Format seconds as milliseconds, with one decimal below 100 ms."""
    value = seconds * 1000
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def mib(kib: float) -> str:
    """Format KiB as MiB with one decimal."""
    return f"{kib / 1024:.1f} MiB"


def ratio(value: float | None, base: float | None) -> str:
    """Format value / base as `1.23×`, or a dash when either is missing."""
    if value is None or not base:
        return NONE
    return f"{value / base:.2f}×"


def cell(text: str) -> str:
    """Make text safe inside a markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")[:160]


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Return a markdown table with its columns padded to equal width."""
    widths = [len(title) for title in header]
    for row in rows:
        widths = [
            max(width, len(text)) for width, text in zip(widths, row, strict=True)
        ]

    def line(cells: list[str]) -> str:
        return (
            "| "
            + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
            + " |"
        )

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return [line(header), rule, *(line(row) for row in rows)]


def failed(message: str, columns: int) -> list[str]:
    """Return row cells after the name for a runtime that failed."""
    return [cell(f"failed: {message}")] + [NONE] * (columns - 1)


def summary_table(
    results: Results, metric: str, fmt: Callable[[float], str]
) -> list[str]:
    """Tabulate one metric: median, p10, p90, ratio to runc, sample count."""
    header = ["runtime", "median", "p10", "p90", f"× {BASELINE}", "runs"]
    base = results.median(BASELINE, metric)
    rows = []
    for name in results.names:
        summary = results.summary(name, metric)
        if name in results.failures or summary is None:
            message = results.failures.get(name, "no samples")
            rows.append([name, *failed(message, len(header) - 1)])
            continue
        rows.append(
            [
                name,
                fmt(summary.median),
                fmt(summary.p10),
                fmt(summary.p90),
                ratio(summary.median, base),
                str(summary.count),
            ]
        )
    return table(header, rows)


@dataclass
class Section:
    """One scenario's part of the report: a title, what it measures, tables."""

    title: str
    what: str
    lines: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        """Return the section as markdown."""
        return "\n".join([f"## {self.title}", "", self.what, "", *self.lines, ""])
