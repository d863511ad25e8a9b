"""`pyrunc events`: a container's statistics and OOM notices, as JSON lines.

Each line is one event in runc's shape: ``{"type":"stats","id":ID,"data":
{...}}`` every --interval, and ``{"type":"oom","id":ID}`` as an OOM happens.
With --stats one stats event is printed and the command ends; otherwise it
runs until the container is deleted.
"""

from __future__ import annotations

import os
import sys
import time

from pyrunc import jsonio
from pyrunc.cgroups import Manager
from pyrunc.cli import Context
from pyrunc.cli._common import add_container_id
from pyrunc.errors import PyruncError, StateError, UsageError
from pyrunc.log import get_logger
from pyrunc.state import STATE_FILE, Status, Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pyrunc.cli.args import Namespace, Parser

log = get_logger(__name__)

# Go's time.ParseDuration units, in seconds
_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def add_arguments(parser: Parser) -> None:
    """Add events' flags."""
    parser.add_argument(
        "--interval", default="5s", help="set the stats collection interval"
    )
    parser.add_argument(
        "--stats", action="store_true", help="display the container's stats then exit"
    )
    add_container_id(parser)


def parse_duration(text: str) -> float:
    """Return the seconds of a Go duration such as "5s", "1m30s" or "250ms".

    Raises:
        UsageError: the text is not a duration, or not above zero.
    """
    rest, total = text, 0.0
    while rest:
        number = len(rest) - len(rest.lstrip("0123456789."))
        unit = len(rest) - number - len(rest[number:].lstrip("nuµμmsh"))
        value, name = rest[:number], rest[number : number + unit]
        if not value or name not in _UNITS:
            raise UsageError(f"--interval: invalid duration {text!r}")
        try:
            total += float(value) * _UNITS[name]
        except ValueError:
            raise UsageError(f"--interval: invalid duration {text!r}") from None
        rest = rest[number + unit :]
    if total <= 0:
        raise UsageError("--interval: duration interval must be greater than 0")
    return total


def run(args: Namespace, ctx: Context) -> int:
    """Print the events of the container.

    Raises:
        UsageError: the interval is not a positive duration.
        StateError: the container does not exist or is stopped.
    """
    interval = parse_duration(args.interval)
    store = Store(ctx.root)
    with store.locked(args.container_id) as record:
        if store.status(record) == Status.STOPPED:
            raise StateError(f"container with id {record.id} is not running")
    manager = Manager(record.cgroups_path, record.cgroup_paths)
    if args.stats:
        emit("stats", record.id, manager.stats())
        return 0
    watch(store, record.id, manager, interval)
    return 0


def emit(kind: str, container_id: str, data: dict[str, Any] | None = None) -> None:
    """Print one event as a JSON line."""
    event: dict[str, Any] = {"type": kind, "id": container_id}
    if data is not None:
        event["data"] = data
    sys.stdout.write(jsonio.dumps(event, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def watch(store: Store, container_id: str, manager: Manager, interval: float) -> None:
    """Print OOM events as they come and stats every interval, until deletion."""
    import select  # only a watching `events` pays for it

    poller = select.poll()
    notifier = _notifier(manager)
    if notifier is not None:
        poller.register(notifier.fileno(), select.POLLIN | select.POLLPRI)
    due = time.monotonic() + interval
    state_file = os.path.join(store.dir(container_id), STATE_FILE)
    while True:
        wait = max(due - time.monotonic(), 0.0)
        if poller.poll(int(wait * 1000) + 1) and notifier is not None:
            count = notifier.read()
            if count < 0:
                poller.unregister(notifier.fileno())
                notifier.close()
                notifier = None
            elif count:
                emit("oom", container_id)
        if time.monotonic() >= due:
            due += interval
            stats = _stats(manager)
            if stats is None or not os.path.exists(state_file):
                return
            emit("stats", container_id, stats)


def _stats(manager: Manager) -> dict[str, Any] | None:
    """Return the container's statistics, or None once its cgroup is gone.

    A delete that runs meanwhile removes the cgroup before the state, so a
    failed read with no cgroup left means the container is being deleted.
    """
    try:
        return manager.stats()
    except (OSError, PyruncError):
        if any(os.path.isdir(path) for path in manager.paths.values()):
            raise
        return None


def _notifier(manager: Manager) -> Any:
    try:
        return manager.oom_notifier()
    except PyruncError as err:
        log.warning("no OOM events: %s", err)
        return None
