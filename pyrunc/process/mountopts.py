"""Mount options of config.json mapped to mount(2) flags and data, as pure functions."""

from __future__ import annotations

from dataclasses import dataclass

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_SYNCHRONOUS = 16
MS_REMOUNT = 32
MS_MANDLOCK = 64
MS_DIRSYNC = 128
MS_NOSYMFOLLOW = 256
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_SILENT = 32768
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_I_VERSION = 1 << 23
MS_STRICTATIME = 1 << 24
MS_LAZYTIME = 1 << 25

# option: (flag, set it?) -- an option either sets or clears a flag
FLAGS: dict[str, tuple[int, bool]] = {
    "async": (MS_SYNCHRONOUS, False),
    "atime": (MS_NOATIME, False),
    "bind": (MS_BIND, True),
    "defaults": (0, True),
    "dev": (MS_NODEV, False),
    "diratime": (MS_NODIRATIME, False),
    "dirsync": (MS_DIRSYNC, True),
    "exec": (MS_NOEXEC, False),
    "iversion": (MS_I_VERSION, True),
    "lazytime": (MS_LAZYTIME, True),
    "loud": (MS_SILENT, False),
    "mand": (MS_MANDLOCK, True),
    "noatime": (MS_NOATIME, True),
    "nodev": (MS_NODEV, True),
    "nodiratime": (MS_NODIRATIME, True),
    "noexec": (MS_NOEXEC, True),
    "noiversion": (MS_I_VERSION, False),
    "nolazytime": (MS_LAZYTIME, False),
    "nomand": (MS_MANDLOCK, False),
    "norelatime": (MS_RELATIME, False),
    "nostrictatime": (MS_STRICTATIME, False),
    "nosuid": (MS_NOSUID, True),
    "nosymfollow": (MS_NOSYMFOLLOW, True),
    "rbind": (MS_BIND | MS_REC, True),
    "relatime": (MS_RELATIME, True),
    "remount": (MS_REMOUNT, True),
    "ro": (MS_RDONLY, True),
    "rw": (MS_RDONLY, False),
    "silent": (MS_SILENT, True),
    "strictatime": (MS_STRICTATIME, True),
    "suid": (MS_NOSUID, False),
    "sync": (MS_SYNCHRONOUS, True),
    "symfollow": (MS_NOSYMFOLLOW, False),
}

PROPAGATION: dict[str, int] = {
    "private": MS_PRIVATE,
    "rprivate": MS_PRIVATE | MS_REC,
    "shared": MS_SHARED,
    "rshared": MS_SHARED | MS_REC,
    "slave": MS_SLAVE,
    "rslave": MS_SLAVE | MS_REC,
    "unbindable": MS_UNBINDABLE,
    "runbindable": MS_UNBINDABLE | MS_REC,
}

# Recursive per-mount attributes, applied with mount_setattr(2) by runc.
RECURSIVE = frozenset(
    [
        "rro",
        "rrw",
        "rnosuid",
        "rsuid",
        "rnodev",
        "rdev",
        "rnoexec",
        "rexec",
        "rnodiratime",
        "rdiratime",
        "rrelatime",
        "rnorelatime",
        "rnoatime",
        "ratime",
        "rstrictatime",
        "rnostrictatime",
        "rnosymfollow",
        "rsymfollow",
    ]
)

# Flags that a bind mount ignores on its first mount call and needs a remount for.
_BIND_IGNORED = ~(MS_BIND | MS_REC | MS_REMOUNT)


@dataclass(frozen=True)
class MountOptions:
    """A mount's options, split into what each mount(2) call takes."""

    flags: int
    propagation: int
    data: str
    recursive: tuple[str, ...]

    @property
    def is_bind(self) -> bool:
        """Whether the mount is a bind mount."""
        return bool(self.flags & MS_BIND)

    def remount_flags(self) -> int:
        """Return the flags of the remount a bind mount needs, or 0."""
        if not self.is_bind or not self.flags & _BIND_IGNORED:
            return 0
        return (self.flags & ~MS_REC) | MS_REMOUNT | MS_BIND


def parse(options: list[str]) -> MountOptions:
    """Split a mount's options into flags, propagation, data and recursive attributes.

    Options this table does not know are passed to the filesystem as data,
    as mount(8) does.
    """
    flags = propagation = 0
    data: list[str] = []
    recursive: list[str] = []
    for option in options:
        if option in FLAGS:
            flag, setting = FLAGS[option]
            flags = flags | flag if setting else flags & ~flag
        elif option in PROPAGATION:
            propagation |= PROPAGATION[option]
        elif option in RECURSIVE:
            recursive.append(option)
        else:
            data.append(option)
    return MountOptions(flags, propagation, ",".join(data), tuple(recursive))


def known_options() -> list[str]:
    """Return every option name this table understands, sorted."""
    return sorted({*FLAGS, *PROPAGATION, *RECURSIVE})
