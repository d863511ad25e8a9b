"""`pyrunc run`: create and start a container, and by default wait for it.

In the foreground, the signals pyrunc receives go on to the container's
init, and a process with a terminal but no --console-socket gets a pty that
pyrunc relays to its own terminal (see pyrunc.terminal).
"""

from __future__ import annotations

from pyrunc import container
from pyrunc.cli import Context
from pyrunc.cli._common import add_create_flags, check_cgroup_driver, create_options
from pyrunc.errors import PyruncError
from pyrunc.state import Record, Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.cli.args import Namespace, Parser
    from pyrunc.container import CreateOptions
    from pyrunc.foreground import Forwarder
    from pyrunc.terminal import Console


def add_arguments(parser: Parser) -> None:
    """Add run's flags: create's, plus --detach and --keep."""
    parser.add_argument(
        "-d", "--detach", action="store_true", help="do not wait for the container"
    )
    parser.add_argument(
        "--keep", action="store_true", help="do not delete the container on exit"
    )
    add_create_flags(parser)


def run(args: Namespace, ctx: Context) -> int:
    """Run the container; return its exit status (128+N when killed by signal N).

    Raises:
        PyruncError: create or start failed; nothing is left behind.
    """
    check_cgroup_driver(ctx)
    store = Store(ctx.root)
    if args.detach:
        _create(store, args.container_id, create_options(args))
        _start(store, args.container_id)
        return 0
    from pyrunc.foreground import Forwarder

    forwarder = Forwarder()
    console = None if args.console_socket else _console()
    try:
        return _foreground(args, store, forwarder, console)
    finally:
        if console is not None:
            console.close()


def _foreground(
    args: Namespace, store: Store, forwarder: Forwarder, console: Console | None
) -> int:
    from pyrunc import foreground

    opts = create_options(args)
    if console is not None:
        opts.console_fd = console.sender
    record = _create(store, args.container_id, opts)
    if console is not None:
        _take_console(store, record, console)
    _start(store, args.container_id)
    status = foreground.wait(
        record.pid, forwarder, console if record.terminal else None
    )
    if not args.keep:
        container.delete(store, args.container_id, force=True)
    return status


def _create(store: Store, container_id: str, opts: CreateOptions) -> Record:
    try:
        return container.create(store, container_id, opts)
    except PyruncError as err:
        raise PyruncError(f"pyrunc run failed: {err}") from err


def _start(store: Store, container_id: str) -> None:
    try:
        container.start(store, container_id)
    except PyruncError:
        container.delete(store, container_id, force=True)
        raise


def _console() -> Console:
    from pyrunc.terminal import Console

    return Console()


def _take_console(store: Store, record: Record, console: Console) -> None:
    """Receive the init's pty master, or give up the pair if it has no terminal."""
    if not record.terminal:
        console.close()
        return
    try:
        console.receive()
    except PyruncError:
        container.delete(store, record.id, force=True)
        raise
