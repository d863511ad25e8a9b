#!/usr/bin/env python3
"""Check OCI runtimes against the runtime spec through their command line.

Each requirement of runtime.md, runtime-linux.md, config.md and
config-linux.md that a black box can observe is one small check; every
check runs against every runtime, results stream as TAP and a markdown
table goes to --out. Needs root; runs in a private mount namespace.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
from pathlib import Path
from types import FrameType

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# the mount table, cgroup, clean-up and namespace helpers are the benchmark's
sys.path.insert(1, str(HERE.parent / "bench"))

from benchlib import cleanup, namespace  # noqa: E402
from conflib import (  # noqa: E402
    checks,
    config,
    registry,
    report,
    runtimes,
    suite,
)
from conflib.workspace import Workspace  # noqa: E402


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runtime",
        action="append",
        default=[],
        metavar="PATH",
        help="a runtime to test, by path or name on PATH (repeatable; "
        "default: pyrunc, runc and crun)",
    )
    parser.add_argument(
        "--global-flag",
        action="append",
        default=[],
        metavar="FLAG",
        help="a flag put before every subcommand, after --root (repeatable)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE / "RESULTS.md",
        help="where the markdown table goes (default: conformance/RESULTS.md)",
    )
    parser.add_argument(
        "-k", dest="pattern", help="only requirements whose title contains this"
    )
    return parser.parse_args()


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _command() -> str:
    script = os.path.relpath(__file__, Path.cwd())
    return shlex.join(["python3", script, *sys.argv[1:]])


def _requirements(pattern: str | None) -> list[registry.Requirement]:
    checks.load()
    chosen = registry.select(pattern)
    if not chosen:
        raise SystemExit(f"conformance: no requirement matches {pattern!r}")
    return chosen


def _write(args: argparse.Namespace, text: str) -> None:
    args.out.write_text(text)
    print(f"# report written to {args.out}", flush=True)


def main() -> int:
    """Parse the arguments, enter a private mount namespace, run and report."""
    args = _arguments()
    requirements = _requirements(args.pattern)
    namespace.enter(__file__, "conformance")
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    os.environ[config.LEAK_MARKER] = "leaked"

    workspace = Workspace()
    chosen: list[runtimes.Runtime] = []
    try:
        workspace.make_rootfs()
        chosen += runtimes.resolve(
            args.runtime, workspace.state_dir(), args.global_flag
        )
        outcomes = suite.run_all(requirements, chosen, workspace)
    finally:
        cleanup.clean(workspace, chosen, "conformance")
        for line in cleanup.leftovers(workspace):
            print(f"conformance: left behind: {line}", file=sys.stderr)

    run = report.Run(requirements, chosen, outcomes, _command(), str(workspace.dir))
    _write(args, report.markdown(run))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        # cleanup already ran in main's finally
        sys.exit("conformance: interrupted")
