"""Scenario `parallel`: many foreground `run`s of `true` started at once."""

from __future__ import annotations

from functools import partial

from benchlib import proc
from benchlib.context import Context, force_delete
from benchlib.rounds import Failed, round_robin
from benchlib.tables import Section, ms, summary_table

ROUNDS = 3
WARMUP = 1
TIMEOUT = 300.0


def _measure(context: Context, name: str) -> dict[str, float]:
    runtime = context.runtime(name)
    ids = [context.workspace.new_id(f"par-{name}") for _ in range(context.concurrency)]
    argvs = [
        runtime.argv(
            "run", "--bundle", str(context.workspace.bundle(cid, ["true"])), cid
        )
        for cid in ids
    ]
    seconds, outcomes = proc.run_all(argvs, timeout=TIMEOUT)
    failures = [(cid, o) for cid, o in zip(ids, outcomes, strict=True) if not o.ok]
    for container_id, _ in failures:
        force_delete(runtime, container_id)
    if failures:
        first = failures[0][1].error_line()
        raise Failed(f"{len(failures)}/{len(ids)} runs failed, first: {first}")
    return {"seconds": seconds}


def section(context: Context) -> Section:
    """Measure parallel starts for every runtime and return its section."""
    measure = partial(_measure, context)
    rounds = context.rounds(ROUNDS)
    results = round_robin(context.names, rounds, WARMUP, measure, "parallel")
    what = (
        f"{context.concurrency} processes `RUNTIME run --bundle B_i ID_i` of `true`"
        " spawned back to back, each with its own container and cgroup: wall"
        " time from the first spawn to the last reap."
    )
    title = f"parallel: {context.concurrency} containers at once"
    return Section(title, what, summary_table(results, "seconds", ms))
