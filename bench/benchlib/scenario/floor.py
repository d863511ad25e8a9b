"""Scenario `floor`: the same isolation without a runtime, as a lower bound."""

from __future__ import annotations

from benchlib import proc
from benchlib.context import Context, checked
from benchlib.rounds import round_robin, summarize
from benchlib.tables import NONE, Section, ms, ratio, table

ROUNDS = 20
WARMUP = 3
NAME = "floor"


def _command(rootfs: str) -> list[str]:
    namespaces = ["--pid", "--fork", "--mount", "--uts", "--ipc", "--net"]
    return ["unshare", *namespaces, f"--root={rootfs}", "/bin/true"]


def _floor_table(values: list[float]) -> list[str]:
    summary = summarize(values)
    row = [ms(summary.median), ms(summary.p10), ms(summary.p90), str(summary.count)]
    return table(["median", "p10", "p90", "runs"], [row])


def _against_run(context: Context, floor: float) -> list[str]:
    medians = context.medians.get("run", {})
    rows = []
    for name in context.names:
        median = medians.get(name)
        rows.append([name, ms(median) if median else NONE, ratio(median, floor)])
    return ["", *table(["runtime", "`run` median", "× floor"], rows)]


def section(context: Context) -> Section:
    """Measure the no-runtime floor and return its section."""
    argv = _command(str(context.workspace.rootfs))

    def measure(_: str) -> dict[str, float]:
        return {"seconds": checked(proc.run(argv), "floor").seconds}

    results = round_robin([NAME], context.rounds(ROUNDS), WARMUP, measure, NAME)
    what = (
        f"`{' '.join(argv[:-2])} --root=ROOTFS /bin/true`: new pid, mount, uts,"
        " ipc and net namespaces, chroot (unshare's --root) into the same"
        " rootfs and exec of `true`, with no runtime, no config, no cgroup."
    )
    section = Section("floor: namespaces and chroot, no runtime", what)
    if NAME in results.failures:
        section.lines = [f"failed: {results.failures[NAME]}"]
        return section
    values = results.values(NAME, "seconds")
    section.lines = _floor_table(values)
    if "run" in context.medians:
        section.lines += _against_run(context, summarize(values).median)
    return section
