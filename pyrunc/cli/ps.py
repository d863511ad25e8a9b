"""`pyrunc ps`: the processes of a container, as the host's ps shows them."""

from __future__ import annotations

import sys

from pyrunc import jsonio
from pyrunc.cgroups import Manager
from pyrunc.cli import Context
from pyrunc.cli._common import add_container_id
from pyrunc.errors import PyruncError
from pyrunc.state import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.cli.args import Namespace, Parser


def add_arguments(parser: Parser) -> None:
    """Add ps's arguments; options for ps itself come after `--`."""
    parser.add_argument(
        "-f", "--format", default="table", choices=["table", "json"], help="output"
    )
    add_container_id(parser)
    parser.add_argument(
        "ps_options", nargs="*", metavar="PS_OPTIONS", help="options for ps (-ef)"
    )


def run(args: Namespace, ctx: Context) -> int:
    """Print the container's pids as JSON, or ps's lines for them.

    Raises:
        StateError: the container does not exist.
        PyruncError: ps failed or printed no PID column.
    """
    store = Store(ctx.root)
    with store.locked(args.container_id) as record:
        pids = Manager(record.cgroups_path, record.cgroup_paths).pids()
    if args.format == "json":
        sys.stdout.write(jsonio.dumps(pids or None, separators=(",", ":")) + "\n")
        return 0
    sys.stdout.write(filter_ps(run_ps(args.ps_options or ["-ef"]), set(pids)))
    return 0


def run_ps(options: list[str]) -> str:
    """Return the output of the host's ps with options.

    Raises:
        PyruncError: ps could not run or failed.
    """
    import subprocess  # only ps pays for it

    try:
        done = subprocess.run(
            ["ps", *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
    except OSError as err:
        raise PyruncError(f"run ps: {err.strerror}") from err
    if done.returncode != 0:
        raise PyruncError(
            f"ps {' '.join(options)}: exit status {done.returncode}:"
            f" {done.stdout.strip()}"
        )
    return done.stdout


def filter_ps(output: str, pids: set[int]) -> str:
    """Return ps's header and the lines whose PID column is one of pids.

    Raises:
        PyruncError: the header has no PID column, or a line no number in it.
    """
    header, *lines = output.split("\n")
    try:
        column = header.split().index("PID")
    except ValueError:
        raise PyruncError("ps: no PID column in its output") from None
    kept = [header]
    for line in lines:
        if not line:
            continue
        try:
            pid = int(line.split()[column])
        except (IndexError, ValueError):
            raise PyruncError(f"ps: no pid in line {line!r}") from None
        if pid in pids:
            kept.append(line)
    return "".join(f"{line}\n" for line in kept)
