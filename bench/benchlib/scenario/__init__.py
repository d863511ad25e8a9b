"""The benchmark's scenarios, in the order they run."""

from __future__ import annotations

from collections.abc import Callable

from benchlib.context import Context
from benchlib.scenario import floor, memory, parallel, run, shim
from benchlib.tables import Section

SCENARIOS: dict[str, Callable[[Context], Section]] = {
    "run": run.section,
    "shim": shim.section,
    "parallel": parallel.section,
    "memory": memory.section,
    "floor": floor.section,
}
