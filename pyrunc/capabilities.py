"""Name Linux capabilities by number and turn lists of names into bit masks."""

from __future__ import annotations

from pyrunc.errors import SpecError, SyscallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

CAP_LAST_CAP_PATH = "/proc/sys/kernel/cap_last_cap"

# Position in this tuple is the capability's number in linux/capability.h.
_NAMES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)

CAPABILITIES: dict[str, int] = {name: number for number, name in enumerate(_NAMES)}


def last_cap() -> int:
    """Return the number of the highest capability the running kernel knows.

    Raises SyscallError if /proc/sys/kernel/cap_last_cap cannot be read.
    """
    try:
        with open(CAP_LAST_CAP_PATH, encoding="utf-8") as file:
            return int(file.read())
    except OSError as err:
        raise SyscallError("read", err.errno or 0, CAP_LAST_CAP_PATH) from err


def known() -> list[str]:
    """Return, in number order, the names of the capabilities the kernel knows.

    A capability newer than this module's table has no name here and is left
    out. Raises SyscallError as last_cap does.
    """
    highest = last_cap()
    return [name for name, number in CAPABILITIES.items() if number <= highest]


def mask(names: Iterable[str]) -> int:
    """Return the bit mask with the bit of each named capability set.

    Raises SpecError for a name that is not in the table.
    """
    bits = 0
    for name in names:
        if name not in CAPABILITIES:
            raise SpecError(f"unknown capability {name}")
        bits |= 1 << CAPABILITIES[name]
    return bits
