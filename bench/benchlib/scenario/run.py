"""Scenario `run`: the wall time of one foreground `run` of `true`."""

from __future__ import annotations

from functools import partial

from benchlib import proc
from benchlib.context import Context, checked, force_delete
from benchlib.rounds import Failed, round_robin
from benchlib.tables import Section, ms, summary_table

ROUNDS = 20
WARMUP = 3
WHAT = (
    "`RUNTIME --root R run --bundle B ID` of a busybox container running `true`:"
    " wall time from spawning the runtime to reaping it, which covers create,"
    " start, the container's life, wait and delete."
)


def run_true(
    context: Context, name: str, prefix: str, wrapper: list[str] | None = None
) -> proc.Outcome:
    """Run a fresh `true` container in the foreground and return the outcome.

    wrapper, if given, goes before the runtime's command line.

    Raises:
        Failed: the runtime failed; its container is force-deleted first.
    """
    runtime = context.runtime(name)
    container_id = context.workspace.new_id(f"{prefix}-{name}")
    bundle = context.workspace.bundle(container_id, ["true"])
    argv = runtime.argv("run", "--bundle", str(bundle), container_id)
    outcome = proc.run([*(wrapper or []), *argv])
    try:
        return checked(outcome, "run")
    except Failed:
        force_delete(runtime, container_id)
        raise


def _measure(context: Context, name: str) -> dict[str, float]:
    return {"seconds": run_true(context, name, "run").seconds}


def section(context: Context) -> Section:
    """Measure `run` for every runtime and return its report section."""
    rounds = context.rounds(ROUNDS)
    measure = partial(_measure, context)
    results = round_robin(context.names, rounds, WARMUP, measure, "run")
    context.medians["run"] = {
        name: median
        for name in context.names
        if (median := results.median(name, "seconds")) is not None
    }
    return Section(
        "run: one container running `true`", WHAT, summary_table(results, "seconds", ms)
    )
