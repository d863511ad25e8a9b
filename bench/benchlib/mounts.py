"""Read the mount table of a process's mount namespace."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class Mount:
    """One line of a mountinfo file."""

    root: str
    mountpoint: str
    options: frozenset[str]
    tags: frozenset[str]
    fstype: str
    super_options: frozenset[str]


def _unescape(field: str) -> str:
    return _ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), field)


def parse_line(line: str) -> Mount:
    """Parse one mountinfo line (see proc(5))."""
    fields = line.split()
    separator = fields.index("-")
    return Mount(
        root=_unescape(fields[3]),
        mountpoint=_unescape(fields[4]),
        options=frozenset(fields[5].split(",")),
        tags=frozenset(fields[6:separator]),
        fstype=fields[separator + 1],
        super_options=frozenset(fields[separator + 3].split(",")),
    )


def parse(text: str) -> list[Mount]:
    """Parse a whole mountinfo file, in mount order."""
    return [parse_line(line) for line in text.splitlines() if line.strip()]


def mounts(pid: str = "self") -> list[Mount]:
    """Return the mounts of a process's mount namespace, in mount order."""
    with open(f"/proc/{pid}/mountinfo", encoding="utf-8") as mountinfo:
        return parse(mountinfo.read())


def mounted_under(path: str) -> list[str]:
    """Return the mount points at or below path in our namespace, in mount order."""
    prefix = path.rstrip("/") + "/"
    return [
        mount.mountpoint
        for mount in mounts()
        if mount.mountpoint == path or mount.mountpoint.startswith(prefix)
    ]
