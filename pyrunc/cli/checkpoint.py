"""`pyrunc checkpoint` and `restore`: accepted, and refused with a clear reason."""

from __future__ import annotations

from pyrunc.cli import Context
from pyrunc.errors import NotSupportedError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.cli.args import Namespace, Parser


def add_arguments(parser: Parser) -> None:
    """Accept runc's usual flags so callers can probe the command."""
    parser.add_argument("--image-path")
    parser.add_argument("--work-path")
    parser.add_argument("container_id", nargs="?", metavar="CONTAINER_ID")


def run(args: Namespace, ctx: Context) -> int:
    """Refuse: checkpoint and restore through CRIU are not implemented.

    Raises:
        NotSupportedError: always.
    """
    raise NotSupportedError(
        f"{args.command}: checkpoint/restore is not supported by pyrunc"
    )
