"""Read the mount table of this process's mount namespace."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class Mount:
    """One line of /proc/self/mountinfo."""

    root: str
    mountpoint: str
    fstype: str
    super_options: frozenset[str]


def _unescape(field: str) -> str:
    return _ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), field)


def _parse(line: str) -> Mount:
    fields = line.split()
    separator = fields.index("-")
    return Mount(
        root=_unescape(fields[3]),
        mountpoint=_unescape(fields[4]),
        fstype=fields[separator + 1],
        super_options=frozenset(fields[separator + 3].split(",")),
    )


def mounts() -> list[Mount]:
    """Return the mounts of this process's mount namespace, in mount order."""
    with open("/proc/self/mountinfo", encoding="utf-8") as mountinfo:
        return [_parse(line) for line in mountinfo]


def mounted_under(path: str) -> list[str]:
    """Return the mount points at or below path, in mount order."""
    prefix = path.rstrip("/") + "/"
    return [
        mount.mountpoint
        for mount in mounts()
        if mount.mountpoint == path or mount.mountpoint.startswith(prefix)
    ]
