"""Show where pyrunc's time goes in `run` and in a containerd shim's calls.

usage: python3 bench/profile.py [--runs N] [--out bench/PROFILE.md]
                                [--pyrunc PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import statistics
import sys
from pathlib import Path

from benchlib import cprofile, debuglog, importtime, namespace, proc
from benchlib.context import force_delete
from benchlib.rounds import Failed
from benchlib.runtimes import Runtime, interpreter, version_line
from benchlib.scenario.shim import wait_stopped
from benchlib.session import Session
from benchlib.tables import NONE, Section, cell, ms, table
from benchlib.workspace import Workspace

HERE = Path(__file__).resolve().parent


@dataclasses.dataclass
class Command:
    """Wall times and import reports gathered for one command."""

    walls: list[float] = dataclasses.field(default_factory=list)
    timed_walls: list[float] = dataclasses.field(default_factory=list)
    imports: importtime.Profile = dataclasses.field(default_factory=importtime.Profile)
    error: str = ""


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per command")
    parser.add_argument("--out", type=Path, default=HERE / "PROFILE.md")
    parser.add_argument("--pyrunc", default="pyrunc", help="pyrunc's path")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def _shim_argv(bundle: Path, container_id: str) -> dict[str, list[str]]:
    pid_file = str(bundle / "init.pid")
    create = ["create", "--bundle", str(bundle), "--pid-file", pid_file]
    return {
        "create": [*create, container_id],
        "start": ["start", container_id],
        "state": ["state", container_id],
        "kill": ["kill", container_id, "KILL"],
        "delete": ["delete", container_id],
    }


def _shim(
    workspace: Workspace, plain: Runtime, runtime: Runtime
) -> dict[str, proc.Outcome]:
    """Run the shim's steps with runtime; wait for the stop with plain.

    A failed step ends the sequence; a container that does not stop shows
    as a failed `wait for stopped` entry.
    """
    container_id = workspace.new_id("prof-shim")
    bundle = workspace.bundle(container_id, ["sleep", "3600"])
    outcomes: dict[str, proc.Outcome] = {}
    try:
        for step, argv in _shim_argv(bundle, container_id).items():
            outcomes[step] = proc.run(runtime.argv(*argv))
            if not outcomes[step].ok:
                break
            if step == "kill":
                wait_stopped(plain, container_id)
    except Failed as err:
        outcomes["wait for stopped"] = proc.Outcome([], 1, 0.0, 0, "", str(err))
    finally:
        deleted = outcomes.get("delete")
        if deleted is None or not deleted.ok:
            force_delete(plain, container_id)
    return outcomes


def _singles(workspace: Workspace, runtime: Runtime) -> dict[str, proc.Outcome]:
    """Run `--version`, `state` of a missing container and a `run` of true."""
    container_id = workspace.new_id("prof-run")
    bundle = workspace.bundle(container_id, ["true"])
    outcomes = {
        "--version": proc.run([*runtime.launcher, runtime.path, "--version"]),
        "state x": proc.run(runtime.argv("state", "x")),
        "run": proc.run(runtime.argv("run", "--bundle", str(bundle), container_id)),
    }
    if not outcomes["run"].ok:
        force_delete(dataclasses.replace(runtime, launcher=()), container_id)
    return outcomes


def _record(
    commands: dict[str, Command], outcomes: dict[str, proc.Outcome], timed: bool
) -> None:
    for name, outcome in outcomes.items():
        command = commands.setdefault(name, Command())
        if timed:
            command.imports.add(outcome.stderr)
            command.timed_walls.append(outcome.seconds)
        else:
            command.walls.append(outcome.seconds)
            command.error = "" if outcome.ok else outcome.error_line()


def _gather(
    workspace: Workspace, plain: Runtime, python: str, runs: int
) -> dict[str, Command]:
    """Run every command runs times plainly and runs times with -X importtime."""
    timed = dataclasses.replace(plain, launcher=(python, "-X", "importtime"))
    commands: dict[str, Command] = {}
    for index in range(runs):
        for runtime, is_timed in ((plain, False), (timed, True)):
            bare = {"python -c pass": _bare(python, is_timed)}
            _record(commands, bare, is_timed)
            _record(commands, _singles(workspace, runtime), is_timed)
            _record(commands, _shim(workspace, plain, runtime), is_timed)
        if sys.stderr.isatty():
            print(f"\rbench: profile: run {index + 1}/{runs}", end="", file=sys.stderr)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"bench: profile: {runs} runs done", file=sys.stderr)
    return commands


def _bare(python: str, timed: bool) -> proc.Outcome:
    flags = ["-X", "importtime"] if timed else []
    return proc.run([python, *flags, "-c", "pass"])


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _overview_rows(commands: dict[str, Command]) -> list[list[str]]:
    rows = []
    for name, command in commands.items():
        wall = _median(command.walls)
        timed_wall = _median(command.timed_walls)
        imports = command.imports.total_us() / 1e6 if command.imports.runs else 0.0
        share = f"{imports / timed_wall:.0%}" if timed_wall else NONE
        result = "ok" if not command.error else cell(f"exit ≠ 0: {command.error}")
        modules = str(command.imports.module_count())
        times = [ms(wall), ms(timed_wall), ms(imports), share]
        rows.append([f"`{name}`", *times, modules, result])
    return rows


def _overview(commands: dict[str, Command], runs: int) -> Section:
    what = (
        f"Median of {runs} runs each. `wall` is measured without profiling;"
        " `imports` is the sum of every module's own time that `-X importtime`"
        " reports, in separate runs whose wall time is the next column (the"
        " share is of that). The shim steps run on a `sleep 3600` container;"
        " `state x` asks about a container that does not exist."
    )
    header = ["command", "wall", "wall, -X importtime", "imports", "share"]
    header += ["modules", "result"]
    rows = _overview_rows(commands)
    return Section("Start-up and imports per command", what, table(header, rows))


def _import_tables(name: str, command: Command) -> Section:
    packages = [
        [f"`{package}`", ms(us / 1e6), str(count)]
        for package, us, count in command.imports.by_package(12)
    ]
    modules = [
        [f"`{module}`", ms(own / 1e6), ms(cumulative / 1e6)]
        for module, own, cumulative in command.imports.by_module(15)
    ]
    lines = table(["top-level package", "self time", "modules"], packages)
    lines += ["", *table(["module", "self", "cumulative"], modules)]
    what = f"Median self time of imports in `pyrunc {name}`, by package and by module."
    return Section(f"Imports of `{name}`", what, lines)


def _profile_rows(entries: list[cprofile.Entry]) -> list[list[str]]:
    return [
        [f"`{cell(entry.where)}`", str(entry.calls), ms(entry.own), ms(entry.total)]
        for entry in entries
    ]


def _cprofile(
    workspace: Workspace, runtime: Runtime, python: str, step: str
) -> Section:
    container_id = workspace.new_id(f"prof-cprofile-{step}")
    bundle = workspace.bundle(container_id, ["true"])
    args = [step, "--bundle", str(bundle), container_id]
    stats = workspace.dir / f"{container_id}.pstats"
    entries, error = cprofile.profile(python, runtime.argv(*args), stats)
    force_delete(runtime, container_id)
    header = ["function", "calls", "own", "cumulative"]
    lines = [f"failed: {error}", ""] if error else []
    lines += table(header, _profile_rows(cprofile.slowest(entries, 20, "total")))
    lines += ["", *table(header, _profile_rows(cprofile.slowest(entries, 12, "own")))]
    what = (
        f"One `pyrunc {step}` of a `true` container under cProfile (which slows"
        " Python code down): the functions with the largest cumulative time,"
        " then those with the largest own time. Import machinery frames are"
        " left out; the import tables above cover them."
    )
    return Section(f"cProfile of `{step}`", what, lines)


def _debug_lines(lines: list[debuglog.Line]) -> list[str]:
    if debuglog.has_subsecond_times(lines):
        rows = [[cell(msg), ms(seconds)] for msg, seconds in debuglog.steps(lines)]
        return table(["step (until the next line)", "time"], rows)
    if not lines:
        return ["No debug lines were logged."]
    example = f"`{lines[0].stamp}`"
    text = [
        f"{len(lines)} debug lines; their times have one-second resolution"
        f" (first: {example}), so per-step times cannot be derived from them."
        " The messages, in order:",
        "",
    ]
    return text + [f"- {cell(line.msg)}" for line in lines[:40]]


def _debug_log(workspace: Workspace, runtime: Runtime) -> Section:
    container_id = workspace.new_id("prof-log")
    bundle = workspace.bundle(container_id, ["true"])
    log = workspace.dir / f"{container_id}.log"
    argv = [runtime.path, "--root", str(runtime.root), "--debug", "--log", str(log)]
    argv += ["--log-format", "json", "create", "--bundle", str(bundle), container_id]
    outcome = proc.run(argv)
    force_delete(runtime, container_id)
    lines = debuglog.read(log) if log.exists() else []
    body = [] if outcome.ok else [f"`create` failed: {outcome.error_line()}", ""]
    what = "`pyrunc --debug --log F --log-format json create ...`: the steps it logs."
    return Section("Debug log of `create`", what, body + _debug_lines(lines))


def _header(runtime: Runtime, python: str, runs: int) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            "# Where pyrunc's time goes",
            "",
            f"{now}; `{runtime.version()}` at `{runtime.path}`, run by"
            f" `{python}` ({version_line([python, '--version'])}); {runs} runs"
            " per command, inside the benchmark's private mount namespace.",
            "",
        ]
    )


def main() -> int:
    """Profile pyrunc, print the markdown and write it to --out."""
    args = _parse(sys.argv[1:])
    namespace.enter(__file__)
    with Session(f"pyrunc={args.pyrunc}") as session:
        runtime = session.runtimes[0]
        python = interpreter(runtime.path)
        if python is None:
            raise SystemExit(f"bench: {runtime.path} has no #! interpreter line")
        commands = _gather(session.workspace, runtime, python, args.runs)
        sections = [_overview(commands, args.runs)]
        sections += [
            _import_tables(name, commands[name]) for name in ("state x", "run")
        ]
        sections += [
            _cprofile(session.workspace, runtime, python, step)
            for step in ("run", "create")
        ]
        sections.append(_debug_log(session.workspace, runtime))
    text = "\n".join(
        [_header(runtime, python, args.runs), *(s.markdown() for s in sections)]
    )
    args.out.write_text(text)
    print(text)
    return 1 if session.left else 0


if __name__ == "__main__":
    sys.exit(main())
