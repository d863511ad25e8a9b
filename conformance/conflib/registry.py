"""The list of requirements, each a function named after the spec text it checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conflib.case import Case

Check = Callable[[Case], None]


@dataclass(frozen=True)
class Requirement:
    """One MUST or SHOULD of the runtime spec and the function that checks it."""

    spec: str
    section: str
    text: str
    check: Check

    @property
    def title(self) -> str:
        """Return `FILE SECTION: text`, as TAP lines and the table show it."""
        return f"{self.spec} {self.section}: {self.text}"


REQUIREMENTS: list[Requirement] = []


def requirement(spec: str, section: str, text: str) -> Callable[[Check], Check]:
    """Register the decorated function as the check of one requirement.

    Args:
        spec: the spec file, such as `runtime.md`.
        section: the section of that file, such as `Create`.
        text: the requirement, keeping the spec's MUST or SHOULD.
    """

    def register(check: Check) -> Check:
        REQUIREMENTS.append(Requirement(spec, section, text, check))
        return check

    return register


def select(pattern: str | None) -> list[Requirement]:
    """Return the requirements whose title contains pattern (any case)."""
    if not pattern:
        return list(REQUIREMENTS)
    wanted = pattern.lower()
    return [item for item in REQUIREMENTS if wanted in item.title.lower()]
