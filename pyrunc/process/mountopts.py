"""Mount options of config.json mapped to mount(2) flags and data, as pure functions."""

from __future__ import annotations

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

MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
MOUNT_ATTR_NOEXEC = 0x8
MOUNT_ATTR_ATIME_MASK = 0x70
MOUNT_ATTR_RELATIME = 0x0
MOUNT_ATTR_NOATIME = 0x10
MOUNT_ATTR_STRICTATIME = 0x20
MOUNT_ATTR_NODIRATIME = 0x80
MOUNT_ATTR_NOSYMFOLLOW = 0x200000

# Recursive attributes, applied to a mount and all below it with
# mount_setattr(2): option -> (attributes set, attributes cleared). The kernel
# takes an atime mode only with the whole atime mask cleared.
RECURSIVE: dict[str, tuple[int, int]] = {
    "rro": (MOUNT_ATTR_RDONLY, 0),
    "rrw": (0, MOUNT_ATTR_RDONLY),
    "rnosuid": (MOUNT_ATTR_NOSUID, 0),
    "rsuid": (0, MOUNT_ATTR_NOSUID),
    "rnodev": (MOUNT_ATTR_NODEV, 0),
    "rdev": (0, MOUNT_ATTR_NODEV),
    "rnoexec": (MOUNT_ATTR_NOEXEC, 0),
    "rexec": (0, MOUNT_ATTR_NOEXEC),
    "rnodiratime": (MOUNT_ATTR_NODIRATIME, 0),
    "rdiratime": (0, MOUNT_ATTR_NODIRATIME),
    "rrelatime": (MOUNT_ATTR_RELATIME, MOUNT_ATTR_ATIME_MASK),
    "rnorelatime": (MOUNT_ATTR_STRICTATIME, MOUNT_ATTR_ATIME_MASK),
    "rnoatime": (MOUNT_ATTR_NOATIME, MOUNT_ATTR_ATIME_MASK),
    "ratime": (MOUNT_ATTR_RELATIME, MOUNT_ATTR_ATIME_MASK),
    "rstrictatime": (MOUNT_ATTR_STRICTATIME, MOUNT_ATTR_ATIME_MASK),
    "rnostrictatime": (MOUNT_ATTR_RELATIME, MOUNT_ATTR_ATIME_MASK),
    "rnosymfollow": (MOUNT_ATTR_NOSYMFOLLOW, 0),
    "rsymfollow": (0, MOUNT_ATTR_NOSYMFOLLOW),
}

# Flags that a bind mount ignores on its first mount call and needs a remount for.
_BIND_IGNORED = ~(MS_BIND | MS_REC | MS_REMOUNT)


class MountOptions:
    """A mount's options, split into what each mount(2) call takes."""

    def __init__(
        self, flags: int, propagation: int, data: str, attr_set: int, attr_clr: int
    ) -> None:
        self.flags = flags
        self.propagation = propagation
        self.data = data
        self.attr_set = attr_set
        self.attr_clr = attr_clr

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
    flags = propagation = attr_set = attr_clr = 0
    data: list[str] = []
    for option in options:
        if option in FLAGS:
            flag, setting = FLAGS[option]
            flags = flags | flag if setting else flags & ~flag
        elif option in PROPAGATION:
            propagation |= PROPAGATION[option]
        elif option in RECURSIVE:
            set_bits, clear_bits = RECURSIVE[option]
            attr_set = (attr_set & ~clear_bits) | set_bits
            attr_clr = (attr_clr & ~set_bits) | clear_bits
        else:
            data.append(option)
    return MountOptions(flags, propagation, ",".join(data), attr_set, attr_clr)


def known_options() -> list[str]:
    """Return every option name this table understands, sorted."""
    return sorted({*FLAGS, *PROPAGATION, *RECURSIVE})
