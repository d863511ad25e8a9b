"""`pyrunc state`: print a container's OCI state."""

from __future__ import annotations

import sys

from pyrunc import jsonio
from pyrunc.cli import Context
from pyrunc.cli._common import add_container_id
from pyrunc.state import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.cli.args import Namespace, Parser


def add_arguments(parser: Parser) -> None:
    """Add state's arguments."""
    add_container_id(parser)


def run(args: Namespace, ctx: Context) -> int:
    """Print the state document.

    Raises:
        StateError: the container does not exist.
    """
    store = Store(ctx.root)
    with store.locked(args.container_id) as record:
        document = store.oci_state(record)
    sys.stdout.write(jsonio.dumps(document, indent=2) + "\n")
    return 0
