"""What every scenario needs: the workspace, the runtimes and the run's settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from benchlib import proc
from benchlib.rounds import Failed
from benchlib.runtimes import Runtime
from benchlib.workspace import Workspace


@dataclass
class Context:
    """Settings and shared state of one benchmark run."""

    workspace: Workspace
    runtimes: list[Runtime]
    runs: int | None
    concurrency: int
    medians: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Return the runtimes' names in the order given on the command line."""
        return [runtime.name for runtime in self.runtimes]

    def runtime(self, name: str) -> Runtime:
        """Return the runtime called name."""
        return next(runtime for runtime in self.runtimes if runtime.name == name)

    def rounds(self, default: int) -> int:
        """Return --runs if it was given, else the scenario's default."""
        return self.runs if self.runs is not None else default


def checked(outcome: proc.Outcome, step: str) -> proc.Outcome:
    """Return outcome if its command succeeded.

    Raises:
        Failed: the command failed; the message names the step.
    """
    if not outcome.ok:
        raise Failed(f"{step}: {outcome.error_line()}")
    return outcome


def force_delete(runtime: Runtime, container_id: str) -> None:
    """Delete a container whatever its status, ignoring a missing one."""
    proc.run(runtime.argv("delete", "--force", container_id), timeout=30)
