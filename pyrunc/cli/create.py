"""`pyrunc create`: build a container and leave it waiting for `start`."""

from __future__ import annotations

from pyrunc import container
from pyrunc.cli import Context
from pyrunc.cli._common import add_create_flags, check_cgroup_driver, create_options
from pyrunc.errors import PyruncError
from pyrunc.state import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.cli.args import Namespace, Parser


def add_arguments(parser: Parser) -> None:
    """Add create's flags."""
    add_create_flags(parser)


def run(args: Namespace, ctx: Context) -> int:
    """Create the container.

    Raises:
        PyruncError: creation failed; the message says why.
    """
    check_cgroup_driver(ctx)
    try:
        container.create(Store(ctx.root), args.container_id, create_options(args))
    except PyruncError as err:
        raise PyruncError(f"pyrunc create failed: {err}") from err
    return 0
