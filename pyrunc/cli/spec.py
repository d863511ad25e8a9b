"""``pyrunc spec``: write a template config.json into a bundle."""

from __future__ import annotations

import os

from pyrunc import jsonio
from pyrunc.errors import SyscallError, UsageError
from pyrunc.spec.default import default_config

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.cli import Context
    from pyrunc.cli.args import Namespace, Parser


def add_arguments(parser: Parser) -> None:
    """Add runc's flags of ``spec``: --bundle and --rootless."""
    parser.add_argument(
        "-b", "--bundle", default=".", help="path to the root of the bundle directory"
    )
    parser.add_argument(
        "--rootless",
        dest="spec_rootless",
        action="store_true",
        help="generate a configuration for a rootless container",
    )


def run(args: Namespace, ctx: Context) -> int:
    """Write the template config.json into the bundle, tab-indented as runc does.

    Raises UsageError if config.json exists already and SyscallError if it
    cannot be written.
    """
    path = os.path.join(args.bundle, "config.json")
    _create(path, jsonio.dumps(default_config(args.spec_rootless), indent="\t"))
    return 0


def _create(path: str, text: str) -> None:
    try:
        with open(path, "x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError as err:
        raise UsageError(f"write {path}: file exists, remove it first") from err
    except OSError as err:
        raise SyscallError("write", err.errno or 0, path) from err
