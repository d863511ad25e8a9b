"""Argument helpers shared by several subcommands."""

from __future__ import annotations

from pyrunc.container import CreateOptions
from pyrunc.errors import NotSupportedError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.cli import Context
    from pyrunc.cli.args import Namespace, Parser


def add_container_id(parser: Parser) -> None:
    """Add the positional container ID."""
    parser.add_argument(
        "container_id", metavar="CONTAINER_ID", help="the container's unique name"
    )


def add_create_flags(parser: Parser) -> None:
    """Add the flags that `create` and `run` share."""
    parser.add_argument(
        "-b", "--bundle", default=".", help="path to the root of the bundle"
    )
    parser.add_argument(
        "--console-socket", help="unix socket that receives the pty master"
    )
    parser.add_argument("--pid-file", help="file to write the init's pid to")
    parser.add_argument("--no-pivot", action="store_true", help="do not use pivot_root")
    parser.add_argument(
        "--no-new-keyring", action="store_true", help="keep the caller's keyring"
    )
    parser.add_argument("--preserve-fds", type=int, default=0, help="extra fds to pass")
    add_container_id(parser)


def check_cgroup_driver(ctx: Context) -> None:
    """Refuse --systemd-cgroup, whose driver pyrunc does not have.

    Raises:
        NotSupportedError: --systemd-cgroup was given.
    """
    if ctx.systemd_cgroup:
        raise NotSupportedError(
            "--systemd-cgroup: the systemd cgroup driver is not supported by pyrunc;"
            " leave the flag out to manage cgroups through cgroupfs"
        )


def create_options(args: Namespace) -> CreateOptions:
    """Return the CreateOptions the parsed flags ask for."""
    return CreateOptions(
        bundle=args.bundle,
        console_socket=args.console_socket,
        pid_file=args.pid_file,
        no_pivot=args.no_pivot,
        no_new_keyring=args.no_new_keyring,
        preserve_fds=args.preserve_fds,
    )
