"""Run requirements against runtimes and print TAP as results come in."""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass

from conflib.case import Case, Failure, Skip
from conflib.registry import Requirement
from conflib.runtimes import Runtime
from conflib.workspace import Workspace

PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass(frozen=True)
class Outcome:
    """How one requirement went for one runtime."""

    status: str
    detail: str = ""


def _suite_error(error: Exception) -> Outcome:
    where = traceback.extract_tb(error.__traceback__)[-1]
    place = f"{where.filename.rsplit('/', 1)[-1]}:{where.lineno}"
    return Outcome(FAIL, f"suite error at {place}: {type(error).__name__}: {error}")


def run_one(
    requirement: Requirement, runtime: Runtime, workspace: Workspace, number: int
) -> Outcome:
    """Check one requirement against one runtime and clean up after it."""
    case = Case(runtime, workspace, number)
    try:
        requirement.check(case)
    except Failure as failure:
        return Outcome(FAIL, str(failure))
    except Skip as skip:
        return Outcome(SKIP, str(skip))
    except Exception as error:  # a bug in a check must not stop the run
        return Outcome(FAIL, _suite_error(error).detail)
    finally:
        case.close()
    return Outcome(PASS)


def tap_line(
    number: int, requirement: Requirement, runtime: Runtime, outcome: Outcome
) -> str:
    """Return the TAP line of one outcome, with failure details as comments."""
    word = "not ok" if outcome.status == FAIL else "ok"
    line = f"{word} {number} - [{runtime.name}] {requirement.title}"
    if outcome.status == SKIP:
        return f"{line} # SKIP {outcome.detail}"
    if outcome.status == FAIL:
        comments = "\n".join(f"#   {text}" for text in outcome.detail.splitlines())
        return f"{line}\n{comments}"
    return line


def run_all(
    requirements: list[Requirement], runtimes: list[Runtime], workspace: Workspace
) -> dict[tuple[int, str], Outcome]:
    """Run every requirement against every runtime, printing TAP.

    Returns outcomes keyed by (requirement index, runtime name).
    """
    print(f"1..{len(requirements) * len(runtimes)}", flush=True)
    outcomes: dict[tuple[int, str], Outcome] = {}
    number = 0
    for index, requirement in enumerate(requirements):
        for runtime in runtimes:
            number += 1
            outcome = run_one(requirement, runtime, workspace, number)
            outcomes[(index, runtime.name)] = outcome
            print(tap_line(number, requirement, runtime, outcome), flush=True)
    sys.stdout.flush()
    return outcomes
