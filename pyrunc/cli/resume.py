"""`pyrunc resume`: thaw a paused container."""

from __future__ import annotations

from pyrunc import container
from pyrunc.cli import Context
from pyrunc.cli._common import add_container_id
from pyrunc.state import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.cli.args import Namespace, Parser


def add_arguments(parser: Parser) -> None:
    """Add resume's arguments."""
    add_container_id(parser)


def run(args: Namespace, ctx: Context) -> int:
    """Resume the container.

    Raises:
        StateError: the container does not exist or is not paused.
        CgroupError: its processes did not thaw.
    """
    container.resume(Store(ctx.root), args.container_id)
    return 0
