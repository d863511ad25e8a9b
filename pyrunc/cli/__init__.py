"""The runc-compatible command line: global flags, dispatch and the error boundary.

Each subcommand lives in its own module with ``add_arguments(parser)`` and
``run(args, ctx)``. Only the module of the command being run is imported, so
the cost of starting pyrunc does not grow with the number of commands.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from pyrunc import SPEC_VERSION, __version__
from pyrunc.errors import PyruncError, UsageError

DEFAULT_ROOT = "/run/pyrunc"

# name: (module, one-line help)
COMMANDS = {
    "checkpoint": ("checkpoint", "checkpoint a running container"),
    "create": ("create", "create a container"),
    "delete": ("delete", "delete any resources held by the container"),
    "features": ("features", "show the enabled features"),
    "kill": ("kill", "kill sends the specified signal to the container's init process"),
    "list": ("list", "lists containers started by pyrunc with the given root"),
    "restore": ("checkpoint", "restore a container from a previous checkpoint"),
    "run": ("run", "create and run a container"),
    "spec": ("spec", "create a new specification file"),
    "start": ("start", "executes the user defined process in a created container"),
    "state": ("state", "output the state of a container"),
}

GLOBAL_VALUE_FLAGS = {"--root", "--log", "--log-format", "--criu"}


class Context:
    """The global flags, as every subcommand sees them."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.root: str = args.root
        self.log: str | None = args.log
        self.log_format: str = args.log_format
        self.debug: bool = args.debug
        self.systemd_cgroup: bool = args.systemd_cgroup
        self.rootless: str = args.rootless
        self.criu: str = args.criu


TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    class Command(Protocol):
        """What a subcommand module provides."""

        def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

        def run(self, args: argparse.Namespace, ctx: Context) -> int: ...


class _Parser(argparse.ArgumentParser):
    """An argument parser that raises instead of printing usage and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


class _Version(argparse.Action):
    """Print pyrunc's and the spec's versions on two lines, as runc does."""

    def __call__(self, *args: object, **kwargs: object) -> None:
        sys.stdout.write(f"pyrunc version {__version__}\nspec: {SPEC_VERSION}\n")
        raise SystemExit(0)


def _find_command(argv: list[str]) -> str | None:
    """Return the subcommand named in argv, skipping the global flags."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in GLOBAL_VALUE_FLAGS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _build_parser(command: str | None) -> _Parser:
    parser = _Parser(prog="pyrunc", description="an OCI container runtime")
    parser.add_argument(
        "--root", default=DEFAULT_ROOT, help="root directory for container state"
    )
    parser.add_argument("--log", help="set the log file to write pyrunc logs to")
    parser.add_argument("--log-format", default="text", choices=["text", "json"])
    parser.add_argument("--debug", action="store_true", help="enable debug logging")
    parser.add_argument(
        "--systemd-cgroup", action="store_true", help="use systemd for cgroups"
    )
    parser.add_argument(
        "--rootless", default="auto", help="ignore cgroup permission errors"
    )
    parser.add_argument("--criu", default="criu", help="path to the criu binary")
    parser.add_argument(
        "-v", "--version", action=_Version, nargs=0, help="print the version"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if name == command:
            _load(module_name).add_arguments(sub)
    return parser


def _load(module_name: str) -> Command:
    module = importlib.import_module(f"pyrunc.cli.{module_name}")
    command: Command = module
    return command


def main(argv: list[str] | None = None) -> int:
    """Run one pyrunc command; return the process exit status."""
    argv = sys.argv[1:] if argv is None else argv
    command = _find_command(argv)
    from pyrunc.log import Logging

    logs = Logging(None, "text", False)
    try:
        parser = _build_parser(command if command in COMMANDS else None)
        args = parser.parse_args(argv)
        logs = Logging(args.log, args.log_format, args.debug)
        if args.command is None:
            parser.print_help()
            return 0
        ctx = Context(args)
        return _load(COMMANDS[args.command][0]).run(args, ctx)
    except PyruncError as err:
        logs.error(str(err))
        return 1
    except KeyboardInterrupt:
        return 130
