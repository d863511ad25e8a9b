"""Scenario `shim`: the command sequence a containerd shim issues."""

from __future__ import annotations

import json
import time
from functools import partial

from benchlib import proc
from benchlib.context import Context, checked, force_delete
from benchlib.rounds import Failed, Results, round_robin
from benchlib.runtimes import Runtime
from benchlib.tables import NONE, Section, cell, ms, summary_table, table

ROUNDS = 20
WARMUP = 3
STOP_TIMEOUT = 10.0
STEPS = ["create", "start", "state", "kill", "stopped", "delete"]
WHAT = (
    "`create --bundle B --pid-file P ID`, `start ID`, `state ID`,"
    " `kill ID KILL`, then `state ID` until it says stopped, then `delete ID`,"
    " on a container running `sleep 3600`. Total wall time of the sequence;"
    " the second table gives each step's median (`stopped` is the polling"
    " with `state` after kill)."
)


def _status(runtime: Runtime, container_id: str) -> str:
    outcome = checked(
        proc.run(runtime.argv("state", container_id), capture=True), "state"
    )
    try:
        return str(json.loads(outcome.stdout)["status"])
    except (ValueError, KeyError, TypeError) as err:
        raise Failed(f"state: unreadable output: {outcome.stdout[:60]!r}") from err


def wait_stopped(runtime: Runtime, container_id: str) -> int:
    """Call `state` until it says stopped; return how many calls it took.

    Raises:
        Failed: `state` failed, or the container did not stop in time.
    """
    polls = 0
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        polls += 1
        if _status(runtime, container_id) == "stopped":
            return polls
    raise Failed(f"state: not stopped {STOP_TIMEOUT:g} s after kill")


class _Laps:
    """Time the steps of a sequence, each from the end of the one before."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.times[step] = now - self._last
        self._last = now


def _sequence(runtime: Runtime, bundle: str, container_id: str) -> dict[str, float]:
    laps = _Laps()
    pid_file = f"{bundle}/init.pid"
    create = ["create", "--bundle", bundle, "--pid-file", pid_file, container_id]
    checked(proc.run(runtime.argv(*create)), "create")
    laps.lap("create")

    checked(proc.run(runtime.argv("start", container_id)), "start")
    laps.lap("start")

    status = _status(runtime, container_id)
    if status != "running":
        raise Failed(f"state: says {status!r} after start")
    laps.lap("state")

    checked(proc.run(runtime.argv("kill", container_id, "KILL")), "kill")
    laps.lap("kill")

    polls = wait_stopped(runtime, container_id)
    laps.lap("stopped")

    checked(proc.run(runtime.argv("delete", container_id)), "delete")
    laps.lap("delete")
    return {**laps.times, "polls": polls}


def _measure(context: Context, name: str) -> dict[str, float]:
    runtime = context.runtime(name)
    container_id = context.workspace.new_id(f"shim-{name}")
    bundle = context.workspace.bundle(container_id, ["sleep", "3600"])
    started = time.perf_counter()
    try:
        times = _sequence(runtime, str(bundle), container_id)
    except Failed:
        force_delete(runtime, container_id)
        raise
    times["total"] = time.perf_counter() - started
    return times


def _steps_table(results: Results) -> list[str]:
    header = ["runtime", *STEPS, "state polls"]
    rows = []
    for name in results.names:
        if name in results.failures:
            rows.append([name, cell(f"failed: {results.failures[name]}")])
            rows[-1] += [NONE] * (len(header) - 2)
            continue
        medians = [results.median(name, step) for step in STEPS]
        polls = results.median(name, "polls")
        rows.append([name, *(ms(m) if m is not None else NONE for m in medians)])
        rows[-1].append(f"{polls:g}" if polls is not None else NONE)
    return table(header, rows)


def section(context: Context) -> Section:
    """Measure the shim sequence for every runtime and return its section."""
    measure = partial(_measure, context)
    rounds = context.rounds(ROUNDS)
    results = round_robin(context.names, rounds, WARMUP, measure, "shim")
    lines = summary_table(results, "total", ms) + ["", *_steps_table(results)]
    return Section("shim: create, start, state, kill, delete", WHAT, lines)
