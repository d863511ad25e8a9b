"""Scenario `memory`: peak RSS of runtime calls, and what a created container costs.

A child's ru_maxrss starts at the RSS of the process it was forked from:
the kernel carries the old memory's high-water mark into the new program at
execve. Children of this Python process would all show Python's RSS as a
floor, so the peak is read by GNU time, a small C parent, from its own wait4.
"""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path

from benchlib import cgroups, proc
from benchlib.context import Context, checked, force_delete
from benchlib.rounds import Failed, Results, round_robin
from benchlib.runtimes import Runtime, version_line
from benchlib.scenario.run import run_true
from benchlib.tables import NONE, Section, cell, mib, ratio, table

ROUNDS = 10
WARMUP = 1
METRICS = [
    ("run_maxrss", "`run` peak RSS"),
    ("create_maxrss", "`create` peak RSS"),
    ("init_rss", "waiting process VmRSS"),
    ("cgroup_kib", "container cgroup memory usage"),
]
WHAT = (
    "`run` peak RSS: ru_maxrss of the `run` process from wait4, taken by GNU"
    " `time -f %M` (it includes the descendants the runtime reaped itself;"
    " the runtime starts as a copy of GNU time, whose RSS is the floor:"
    " static busybox's `true` measures 1.3 MiB this way)."
    " `create` peak RSS: the same for `create`. After `create` returns, before"
    " `start`: VmRSS of the process in the pid file (the one that waits for"
    " `start`), and memory.usage_in_bytes of the memory cgroup that process"
    " is in (pages charged since it joined the cgroup; pages it shares"
    " copy-on-write with its parent are charged to the parent's cgroup)."
)


def gnu_time() -> str | None:
    """Return the path of GNU time, if it is installed."""
    path = shutil.which("time")
    if path is None or "GNU" not in version_line([path, "--version"]):
        return None
    return path


class _Peak:
    """Wrap commands in GNU time and read the peak RSS it wrote."""

    def __init__(self, time_path: str, directory: Path) -> None:
        self.file = directory / "maxrss"
        self.prefix = [time_path, "--quiet", "--format=%M", f"--output={self.file}"]

    def read(self) -> float:
        try:
            return float(self.file.read_text().split()[-1])
        except (OSError, ValueError, IndexError) as err:
            raise Failed(f"time: no peak RSS in {self.file.name}") from err


def _vmrss_kib(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError as err:
        raise Failed(f"pid {pid} from the pid file is gone before start") from err
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return float(line.split()[1])
    raise Failed(f"pid {pid} has no VmRSS (a kernel thread or a zombie)")


def _waiting(pid: int) -> tuple[dict[str, float], str]:
    rss = _vmrss_kib(pid)
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except FileNotFoundError:
        comm = "?"
    usage = cgroups.memory_usage_bytes(pid)
    if usage is None:
        raise Failed(f"no memory cgroup found for pid {pid}")
    return {"init_rss": rss, "cgroup_kib": usage / 1024}, comm


def _read_pid(pid_file: Path) -> int:
    try:
        return int(pid_file.read_text())
    except (OSError, ValueError) as err:
        raise Failed(f"pid file {pid_file.name}: {err}") from err


def _created(
    context: Context, runtime: Runtime, peak: _Peak
) -> tuple[dict[str, float], str]:
    container_id = context.workspace.new_id(f"mem-{runtime.name}")
    bundle = context.workspace.bundle(container_id, ["true"])
    pid_file = bundle / "init.pid"
    create = ["create", "--bundle", str(bundle), "--pid-file", str(pid_file)]
    argv = [*peak.prefix, *runtime.argv(*create, container_id)]
    try:
        checked(proc.run(argv), "create")
        sample, comm = _waiting(_read_pid(pid_file))
    finally:
        force_delete(runtime, container_id)
    return {"create_maxrss": peak.read(), **sample}, comm


def _measure(
    context: Context, time_path: str, comms: dict[str, str], name: str
) -> dict[str, float]:
    peak = _Peak(time_path, context.workspace.dir)
    run_true(context, name, "mem", peak.prefix)
    run_maxrss = peak.read()
    sample, comms[name] = _created(context, context.runtime(name), peak)
    return {"run_maxrss": run_maxrss, **sample}


def _column(results: Results, name: str, comm: str) -> list[str]:
    if name in results.failures:
        failure = cell(f"failed: {results.failures[name]}")
        return [failure] + [NONE] * len(METRICS)
    cells = []
    for metric, _ in METRICS:
        value = results.median(name, metric)
        base = results.median("runc", metric)
        shown = mib(value) if value is not None else NONE
        cells.append(f"{shown} ({ratio(value, base)})")
    return cells + [f"`{comm}`"]


def section(context: Context) -> Section:
    """Measure memory for every runtime and return its section."""
    title = "memory: peak and resting memory"
    time_path = gnu_time()
    if time_path is None:
        return Section(title, WHAT, ["skipped: needs GNU time (Debian package `time`)"])
    comms: dict[str, str] = {}
    measure = partial(_measure, context, time_path, comms)
    rounds = context.rounds(ROUNDS)
    results = round_robin(context.names, rounds, WARMUP, measure, "memory")
    columns = [_column(results, name, comms.get(name, "?")) for name in results.names]
    labels = [label for _, label in METRICS] + ["waiting process (comm)"]
    rows = [[label, *(col[n] for col in columns)] for n, label in enumerate(labels)]
    lines = table(["median (× runc)", *results.names], rows)
    return Section(title, WHAT, lines)
