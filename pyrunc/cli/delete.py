"""`pyrunc delete`: remove a container and everything it holds."""

from __future__ import annotations

from pyrunc import container
from pyrunc.cli import Context
from pyrunc.cli._common import add_container_id
from pyrunc.errors import StateError
from pyrunc.state import Store, remove_folder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.cli.args import Namespace, Parser


def add_arguments(parser: Parser) -> None:
    """Add delete's flags."""
    parser.add_argument(
        "-f", "--force", action="store_true", help="kill a running container"
    )
    add_container_id(parser)


def run(args: Namespace, ctx: Context) -> int:
    """Delete the container; with --force a missing one is not an error.

    Raises:
        StateError: the container does not exist, or runs and --force is absent.
    """
    store = Store(ctx.root)
    try:
        container.delete(store, args.container_id, args.force)
    except StateError as err:
        if str(err) != "container does not exist":
            raise
        # a create that died before writing its state leaves a bare folder
        remove_folder(store.dir(args.container_id))
        if not args.force:
            raise
    return 0
