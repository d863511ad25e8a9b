"""`pyrunc list`: the containers under --root."""

from __future__ import annotations

import sys

from pyrunc import jsonio
from pyrunc.cli import Context
from pyrunc.errors import StateError
from pyrunc.state import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pyrunc.cli.args import Namespace, Parser

_COLUMNS = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]


def add_arguments(parser: Parser) -> None:
    """Add list's flags."""
    parser.add_argument("-f", "--format", default="table", choices=["table", "json"])
    parser.add_argument("-q", "--quiet", action="store_true", help="display only IDs")


def _states(store: Store) -> list[dict[str, Any]]:
    states = []
    for container_id in store.ids():
        try:
            states.append(store.oci_state(store.load(container_id)))
        except StateError:
            continue  # deleted while we looked
    return states


def _table(states: list[dict[str, Any]]) -> str:
    rows = [_COLUMNS] + [
        [s["id"], str(s["pid"]), s["status"], s["bundle"], s["created"], s["owner"]]
        for s in states
    ]
    widths = [max(len(row[i]) for row in rows) + 3 for i in range(len(_COLUMNS) - 1)]
    widths = [max(w, 12) for w in widths]
    return "".join(
        "".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False))
        + row[-1]
        + "\n"
        for row in rows
    )


def run(args: Namespace, ctx: Context) -> int:
    """Print the containers as a table, JSON or bare IDs."""
    states = _states(Store(ctx.root))
    if args.quiet:
        sys.stdout.write("".join(s["id"] + "\n" for s in states))
    elif args.format == "json":
        sys.stdout.write(jsonio.dumps(states or None, separators=(",", ":")) + "\n")
    else:
        sys.stdout.write(_table(states))
    return 0
