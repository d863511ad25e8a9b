"""`pyrunc kill`: send a signal to a container."""

from __future__ import annotations

from pyrunc import container
from pyrunc.cli import Context
from pyrunc.cli._common import add_container_id
from pyrunc.signals import parse_signal
from pyrunc.state import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.cli.args import Namespace, Parser


def add_arguments(parser: Parser) -> None:
    """Add kill's arguments."""
    parser.add_argument("-a", "--all", action="store_true", help="signal every process")
    add_container_id(parser)
    parser.add_argument("signal", nargs="?", default="SIGTERM", help="name or number")


def run(args: Namespace, ctx: Context) -> int:
    """Send the signal.

    Raises:
        UsageError: the signal is unknown.
        StateError: the container does not exist or is not running.
    """
    sig = parse_signal(args.signal)
    container.kill(Store(ctx.root), args.container_id, sig, args.all)
    return 0
