"""Assemble the report: a header naming machine and versions, then sections."""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import sys

from benchlib.runtimes import Runtime, interpreter, version_line
from benchlib.tables import Section, table


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _versions(runtimes: list[Runtime]) -> list[list[str]]:
    rows = [[runtime.name, f"`{runtime.version()}`"] for runtime in runtimes]
    for runtime in runtimes:
        python = interpreter(runtime.path)
        if python is not None:
            version = version_line([python, "--version"])
            rows.append([f"{runtime.name}'s interpreter", f"`{python}`: {version}"])
    rows.append(["benchmark's python", platform.python_version()])
    rows.append(["unshare", f"`{version_line(['unshare', '--version'])}`"])
    return rows


def header(runtimes: list[Runtime], argv: list[str]) -> str:
    """Return the report's title, machine description and version table."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = (
        f"{now} on `{platform.node()}`: nproc {os.cpu_count()},"
        f" kernel {platform.release()}, {_cpu_model()}."
    )
    lines = [
        "# pyrunc benchmark",
        "",
        machine,
        "",
        "cgroup v1 hybrid host; the benchmark runs in a private mount namespace"
        " with /sys/fs/cgroup/unified unmounted, and calls each runtime directly.",
        "",
        f"Command: `{shlex.join(['python3', *argv])}`",
        "",
        *table(["program", "version"], _versions(runtimes)),
        "",
        "Times are wall clock; each table shows medians over the measured"
        " rounds (warm-up rounds are not counted), and `× runc` is a runtime's"
        " median over runc's from the same rounds, which alternate runtimes.",
        "",
    ]
    return "\n".join(lines)


def render(head: str, sections: list[Section]) -> str:
    """Return the whole report as markdown."""
    return "\n".join([head, *(section.markdown() for section in sections)])


def argv_for_report() -> list[str]:
    """Return the command line as typed, relative to the working directory."""
    script = os.path.relpath(sys.argv[0])
    return [script, *sys.argv[1:]]
