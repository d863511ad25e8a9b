"""`pyrunc update`: change a live container's resource limits.

The new values come from --resources (a linux.resources object, from a file
or "-" for stdin; the flags are then ignored) or from runc's flags. Values
not given stay as they are; device rules are never changed.
"""

from __future__ import annotations

import sys

from pyrunc import container, jsonio
from pyrunc.cli import Context
from pyrunc.cli._common import add_container_id
from pyrunc.errors import NotSupportedError, UsageError
from pyrunc.state import Store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pyrunc.cli.args import Namespace, Parser

# (flag's dest, linux.resources section, key, kind of value), runc's flags
_FLAGS = (
    ("memory", "memory", "limit", "bytes"),
    ("memory_swap", "memory", "swap", "bytes"),
    ("memory_reservation", "memory", "reservation", "bytes"),
    ("cpu_shares", "cpu", "shares", "uint"),
    ("cpu_quota", "cpu", "quota", "int"),
    ("cpu_period", "cpu", "period", "uint"),
    ("cpu_rt_runtime", "cpu", "realtimeRuntime", "int"),
    ("cpu_rt_period", "cpu", "realtimePeriod", "uint"),
    ("cpuset_cpus", "cpu", "cpus", "text"),
    ("cpuset_mems", "cpu", "mems", "text"),
    ("blkio_weight", "blockIO", "weight", "uint"),
    ("pids_limit", "pids", "limit", "int"),
)

_HELP = {
    "resources": "path to a linux.resources JSON file, or '-' for stdin",
    "blkio_weight": "per cgroup weight, from 10 to 1000",
    "cpu_period": "CPU CFS period (in usecs); 0 keeps the current one",
    "cpu_quota": "CPU CFS hardcap limit (in usecs) per period",
    "cpu_shares": "CPU shares (relative weight vs. other containers)",
    "cpu_rt_period": "CPU realtime period (in usecs)",
    "cpu_rt_runtime": "CPU realtime hardcap limit (in usecs) per period",
    "cpuset_cpus": "CPU(s) to use",
    "cpuset_mems": "memory node(s) to use",
    "memory": "memory limit (in bytes, or with k, m, g suffixes)",
    "memory_reservation": "memory reservation or soft limit (in bytes)",
    "memory_swap": "total memory usage (memory + swap); -1 for unlimited swap",
    "pids_limit": "maximum number of pids in the container",
}

_MULTIPLIERS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_MULTIPLIERS["p"] = 1 << 50


def add_arguments(parser: Parser) -> None:
    """Add update's flags, runc's names (and --cpu-shares beside --cpu-share)."""
    parser.add_argument("-r", "--resources", help=_HELP["resources"])
    for dest, *_ in _FLAGS:
        names = ["--" + dest.replace("_", "-")]
        if dest == "cpu_shares":
            names = ["--cpu-share", "--cpu-shares"]
        parser.add_argument(*names, dest=dest, help=_HELP[dest])
    parser.add_argument("--l3-cache-schema", help="Intel RDT/CAT L3 cache schema")
    parser.add_argument("--mem-bw-schema", help="Intel RDT/MBA memory bandwidth schema")
    add_container_id(parser)


def run(args: Namespace, ctx: Context) -> int:
    """Apply the new limits.

    Raises:
        UsageError: a flag's value or the resources file is invalid.
        StateError: the container does not exist or is stopped.
        PyruncError: the kernel refused a value.
    """
    if args.l3_cache_schema or args.mem_bw_schema:
        raise NotSupportedError(
            "--l3-cache-schema, --mem-bw-schema: pyrunc does not manage Intel RDT"
        )
    resources = read_resources(args.resources) if args.resources else from_flags(args)
    container.update(Store(ctx.root), args.container_id, resources)
    return 0


def read_resources(source: str) -> dict[str, Any]:
    """Return the linux.resources object in a file, or on stdin for "-".

    Raises:
        UsageError: the file cannot be read or holds no JSON object.
    """
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as f:
                text = f.read()
        resources = jsonio.loads(text)
    except OSError as err:
        raise UsageError(f"--resources {source}: {err.strerror}") from err
    except ValueError as err:
        raise UsageError(f"--resources {source}: {err}") from err
    if not isinstance(resources, dict):
        raise UsageError(f"--resources {source}: not a JSON object")
    return resources


def from_flags(args: Namespace) -> dict[str, Any]:
    """Return the linux.resources the flags ask for; a flag left out, or 0, is kept.

    Raises:
        UsageError: a value does not parse.
    """
    resources: dict[str, Any] = {}
    for dest, section, key, kind in _FLAGS:
        text = getattr(args, dest)
        if text is None or text == "":
            continue
        value = _value(text, kind, "--" + dest.replace("_", "-"))
        if value != 0:
            resources.setdefault(section, {})[key] = value
    return resources


def _value(text: str, kind: str, flag: str) -> int | str:
    if kind == "text":
        return text
    if kind == "bytes":
        return parse_bytes(text, flag)
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{flag}: invalid value {text!r}") from None
    if kind == "uint" and value < 0:
        raise UsageError(f"{flag}: invalid value {text!r}")
    return value


def parse_bytes(text: str, flag: str) -> int:
    """Return a size such as "64m", "1.5g", "512KiB" or "-1" in bytes, as runc reads it.

    Raises:
        UsageError: the text is not a size.
    """
    if text == "-1":
        return -1
    body = text.strip().lower().removesuffix("b").removesuffix("i")
    unit = body[-1:] if body[-1:] and body[-1:] in "kmgtp" else ""
    number = body[: len(body) - len(unit)].rstrip(" ")
    try:
        value = float(number)
    except ValueError:
        raise UsageError(f"{flag}: invalid size {text!r}") from None
    if value < 0:
        raise UsageError(f"{flag}: invalid size {text!r}")
    return int(value * _MULTIPLIERS[unit])
