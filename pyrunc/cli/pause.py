"""`pyrunc pause`: freeze every process of a container."""

from __future__ import annotations

from pyrunc import container
from pyrunc.cli import Context
from pyrunc.cli._common import add_container_id
from pyrunc.state import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.cli.args import Namespace, Parser


def add_arguments(parser: Parser) -> None:
    """Add pause's arguments."""
    add_container_id(parser)


def run(args: Namespace, ctx: Context) -> int:
    """Pause the container.

    Raises:
        StateError: the container does not exist or is not running.
        CgroupError: its processes did not freeze.
    """
    container.pause(Store(ctx.root), args.container_id)
    return 0
