"""`pyrunc run`: create and start a container, and by default wait for it."""

from __future__ import annotations

import contextlib
import os
import signal
from types import FrameType

from pyrunc import container
from pyrunc.cli import Context
from pyrunc.cli._common import add_create_flags, check_cgroup_driver, create_options
from pyrunc.errors import PyruncError
from pyrunc.process import launcher
from pyrunc.state import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.cli.args import Namespace, Parser

# Signals a foreground run passes on to the container's init.
_FORWARDED = [
    signal.SIGHUP,
    signal.SIGINT,
    signal.SIGQUIT,
    signal.SIGTERM,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGWINCH,
    signal.SIGCONT,
]


def add_arguments(parser: Parser) -> None:
    """Add run's flags: create's, plus --detach and --keep."""
    parser.add_argument(
        "-d", "--detach", action="store_true", help="do not wait for the container"
    )
    parser.add_argument(
        "--keep", action="store_true", help="do not delete the container on exit"
    )
    add_create_flags(parser)


def _forward_signals(pid: int) -> None:
    def forward(signum: int, _frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for sig in _FORWARDED:
        signal.signal(sig, forward)


def run(args: Namespace, ctx: Context) -> int:
    """Run the container; return its exit status (128+N when killed by signal N).

    Raises:
        PyruncError: create or start failed; nothing is left behind.
    """
    check_cgroup_driver(ctx)
    store = Store(ctx.root)
    try:
        record = container.create(store, args.container_id, create_options(args))
    except PyruncError as err:
        raise PyruncError(f"pyrunc run failed: {err}") from err
    try:
        container.start(store, args.container_id)
    except PyruncError:
        container.delete(store, args.container_id, force=True)
        raise
    if args.detach:
        return 0
    _forward_signals(record.pid)
    status = launcher.wait(record.pid)
    if not args.keep:
        container.delete(store, args.container_id, force=True)
    return status
