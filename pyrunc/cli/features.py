"""``pyrunc features``: print the features document as runc does."""

from __future__ import annotations

from pyrunc import jsonio
from pyrunc.features import features

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.cli import Context
    from pyrunc.cli.args import Namespace, Parser


def add_arguments(parser: Parser) -> None:
    """Add nothing: ``features`` takes no flags."""


def run(args: Namespace, ctx: Context) -> int:
    """Print the features document, indented by four spaces.

    Raises SyscallError if the kernel's capabilities cannot be read.
    """
    print(jsonio.dumps(features(), indent=4))
    return 0
