"""Write the markdown report: versions, totals, the requirement table, failures."""

from __future__ import annotations

import platform
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone

from conflib.registry import Requirement
from conflib.runtimes import Runtime
from conflib.suite import FAIL, PASS, SKIP, Outcome

_DETAIL_LINES = 12
_LEGEND = (
    "Each row is one MUST or SHOULD of the named spec file and section, "
    "checked through the runtime's command line only. **FAIL** details are "
    "under Failures; `$WORK` stands for the run's temporary directory. A skip "
    "says why the host cannot show the requirement; for cgroup resources the "
    "suite skips only when it cannot write the value into a cgroup itself."
)


@dataclass(frozen=True)
class Run:
    """Everything one report is made from."""

    requirements: list[Requirement]
    runtimes: list[Runtime]
    outcomes: dict[tuple[int, str], Outcome]
    command: str
    work: str

    def outcome(self, index: int, runtime: Runtime) -> Outcome:
        """Return how requirement number index went for runtime."""
        return self.outcomes[(index, runtime.name)]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _word(outcome: Outcome) -> str:
    if outcome.status == PASS:
        return "pass"
    if outcome.status == FAIL:
        return "**FAIL**"
    return f"skip: {_cell(outcome.detail)}"


def _versions(run: Run) -> list[str]:
    lines = ["| runtime | path | `--version` |", "|---|---|---|"]
    for runtime in run.runtimes:
        version = _cell(runtime.version())
        lines.append(f"| {runtime.name} | `{runtime.path}` | {version} |")
    return lines


def _totals(run: Run) -> list[str]:
    lines = ["| runtime | pass | FAIL | skip |", "|---|---|---|---|"]
    for runtime in run.runtimes:
        counts = Counter(
            run.outcome(index, runtime).status for index in range(len(run.requirements))
        )
        lines.append(
            f"| {runtime.name} | {counts[PASS]} | {counts[FAIL]} | {counts[SKIP]} |"
        )
    return lines


def _table(run: Run) -> list[str]:
    names = " | ".join(runtime.name for runtime in run.runtimes)
    rule = "|---|---" + "|---" * len(run.runtimes) + "|"
    lines = [f"| # | requirement | {names} |", rule]
    for index, requirement in enumerate(run.requirements):
        cells = " | ".join(_word(run.outcome(index, rt)) for rt in run.runtimes)
        lines.append(f"| {index + 1} | {_cell(requirement.title)} | {cells} |")
    return lines


def _failures_of(run: Run, runtime: Runtime) -> list[str]:
    lines: list[str] = []
    for index, requirement in enumerate(run.requirements):
        outcome = run.outcome(index, runtime)
        if outcome.status != FAIL:
            continue
        detail = outcome.detail.replace(run.work, "$WORK").splitlines()
        lines += [f"**{index + 1}.** {requirement.title}", "", "```"]
        lines += [*detail[:_DETAIL_LINES], "```", ""]
    return lines


def _failures(run: Run) -> list[str]:
    lines: list[str] = []
    for runtime in run.runtimes:
        failed = _failures_of(run, runtime)
        if failed:
            lines += ["", f"### {runtime.name}", "", *failed]
    return lines or ["", "None."]


def markdown(run: Run) -> str:
    """Return the whole report as markdown text."""
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# OCI runtime-spec conformance",
        "",
        f"Run on {today}, Linux {platform.release()}, with:",
        "",
        "```sh",
        run.command,
        "```",
        "",
        *_versions(run),
        "",
        f"{len(run.requirements)} requirements.",
        "",
        *_totals(run),
        "",
        "## Requirements",
        "",
        _LEGEND,
        "",
        *_table(run),
        "",
        "## Failures",
        *_failures(run),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"
