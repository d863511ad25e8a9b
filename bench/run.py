"""Benchmark pyrunc against runc and crun; print and save markdown tables.

usage: python3 bench/run.py [--runs N] [--runtimes pyrunc,runc,crun]
                            [--out bench/RESULTS.md] [--scenario NAME ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchlib import namespace, report
from benchlib.context import Context
from benchlib.runtimes import DEFAULT
from benchlib.scenario import SCENARIOS
from benchlib.session import Session

HERE = Path(__file__).resolve().parent


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, help="measured rounds of every scenario (default: each own)"
    )
    parser.add_argument("--runtimes", default=DEFAULT, help="name or name=path, ...")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument(
        "--scenario",
        nargs="+",
        action="extend",
        choices=list(SCENARIOS),
        help="scenarios to run (default: all)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=50, help="containers in `parallel`"
    )
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main() -> int:
    """Run the chosen scenarios, print the report and write it to --out."""
    args = _parse(sys.argv[1:])
    namespace.enter(__file__)
    with Session(args.runtimes) as session:
        context = Context(
            session.workspace, session.runtimes, args.runs, args.concurrency
        )
        head = report.header(session.runtimes, report.argv_for_report())
        chosen = args.scenario or list(SCENARIOS)
        sections = [SCENARIOS[name](context) for name in SCENARIOS if name in chosen]
    text = report.render(head, sections)
    args.out.write_text(text)
    print(text)
    return 1 if session.left else 0


if __name__ == "__main__":
    sys.exit(main())
