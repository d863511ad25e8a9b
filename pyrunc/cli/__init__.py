"""The runc-compatible command line: global flags, dispatch and the error boundary.

Each subcommand lives in its own module with ``add_arguments(parser)`` and
``run(args, ctx)``. Only the module of the command being run is imported, so
the cost of starting pyrunc does not grow with the number of commands.
"""

from __future__ import annotations

import sys

from pyrunc import SPEC_VERSION, __version__
from pyrunc.cli.args import HelpShown, Namespace, Parser
from pyrunc.errors import PyruncError, UsageError
from pyrunc.log import Logging

DEFAULT_ROOT = "/run/pyrunc"

# name: (module, one-line help)
COMMANDS = {
    "checkpoint": ("checkpoint", "checkpoint a running container"),
    "create": ("create", "create a container"),
    "delete": ("delete", "delete any resources held by the container"),
    "events": (
        "events",
        "display container events such as OOM notifications, cpu, memory, and IO"
        " usage statistics",
    ),
    "exec": ("exec", "execute new process inside the container"),
    "features": ("features", "show the enabled features"),
    "kill": ("kill", "kill sends the specified signal to the container's init process"),
    "list": ("list", "lists containers started by pyrunc with the given root"),
    "pause": ("pause", "pause suspends all processes inside the container"),
    "ps": ("ps", "ps displays the processes running inside a container"),
    "restore": ("checkpoint", "restore a container from a previous checkpoint"),
    "resume": ("resume", "resumes all processes that have been previously paused"),
    "run": ("run", "create and run a container"),
    "spec": ("spec", "create a new specification file"),
    "start": ("start", "executes the user defined process in a created container"),
    "state": ("state", "output the state of a container"),
    "update": ("update", "update container resource constraints"),
}


class Context:
    """The global flags, as every subcommand sees them."""

    def __init__(self, args: Namespace) -> None:
        self.root: str = args.root
        self.log: str | None = args.log
        self.log_format: str = args.log_format
        self.debug: bool = args.debug
        self.systemd_cgroup: bool = args.systemd_cgroup
        self.rootless: str = args.rootless
        if self.rootless not in ("auto", "true", "false"):
            raise UsageError(
                f"--rootless: {self.rootless!r} is not auto, true or false"
            )
        self.criu: str = args.criu


TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    class Command(Protocol):
        """What a subcommand module provides."""

        def add_arguments(self, parser: Parser) -> None: ...

        def run(self, args: Namespace, ctx: Context) -> int: ...


_GLOBAL_VALUE_FLAGS = {"--root", "--log", "--log-format", "--criu", "--rootless"}


def _global_parser() -> Parser:
    parser = Parser("pyrunc", "an OCI container runtime")
    parser.commands = {name: text for name, (_, text) in COMMANDS.items()}
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
        "-v", "--version", action="store_true", help="print the version"
    )
    parser.add_argument("words", nargs="*", metavar="COMMAND")
    return parser


def _early_log(argv: list[str]) -> Logging:
    """Return the log the global flags ask for, read before full parsing.

    An error in the arguments themselves must still reach the --log file.
    """
    values: dict[str, str] = {}
    words = iter(argv)
    for word in words:
        name, has_value, text = word.partition("=")
        if not word.startswith("-"):
            break
        if name in _GLOBAL_VALUE_FLAGS and not has_value:
            text = next(words, "")
        values[name] = text
    return Logging(values.get("--log"), values.get("--log-format", "text"), False)


def _load(module_name: str) -> Command:
    module = __import__(f"pyrunc.cli.{module_name}", fromlist=["run"])
    command: Command = module
    return command


def main(argv: list[str] | None = None) -> int:
    """Run one pyrunc command; return the process exit status."""
    argv = sys.argv[1:] if argv is None else argv
    logs = _early_log(argv)
    try:
        parser = _global_parser()
        args = parser.parse_args(argv)
        logs = Logging(args.log, args.log_format, args.debug)
        if args.version:
            sys.stdout.write(f"pyrunc version {__version__}\nspec: {SPEC_VERSION}\n")
            return 0
        if not args.words:
            sys.stdout.write(parser.format_help())
            return 0
        return _run_command(args.words[0], args.words[1:], Context(args))
    except HelpShown:
        return 0
    except PyruncError as err:
        logs.error(str(err))
        return err.exit_status
    except KeyboardInterrupt:
        return 130


def parse(argv: list[str]) -> tuple[Namespace, Namespace]:
    """Parse a whole pyrunc command line as main would, without running it.

    Returns the global flags and the subcommand's arguments (whose
    ``command`` names the subcommand). Raises UsageError for an unknown
    command or flag, or a bad value; HelpShown after printing --help.
    """
    global_args = _global_parser().parse_args(argv)
    if not global_args.words:
        raise UsageError("no command given")
    name, *rest = global_args.words
    return global_args, _parse_command(name, rest)[1]


def _parse_command(name: str, argv: list[str]) -> tuple[Command, Namespace]:
    if name not in COMMANDS:
        raise UsageError(f"no such command: {name}")
    module_name, help_text = COMMANDS[name]
    command = _load(module_name)
    parser = Parser(f"pyrunc {name}", help_text)
    command.add_arguments(parser)
    args = parser.parse_args(argv)
    args.command = name
    return command, args


def _run_command(name: str, argv: list[str], ctx: Context) -> int:
    command, args = _parse_command(name, argv)
    return command.run(args, ctx)
