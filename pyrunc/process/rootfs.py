"""The container's root filesystem as executor steps: mounts, /dev, pivot, masks."""

from __future__ import annotations

import os
import posixpath
import stat

from pyrunc._sys import OP, Step
from pyrunc.errors import SpecError
from pyrunc.process import mountopts as mo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# (name, type, major, minor) of the devices every container gets in /dev.
DEFAULT_DEVICES = [
    ("null", "c", 1, 3),
    ("zero", "c", 1, 5),
    ("full", "c", 1, 7),
    ("random", "c", 1, 8),
    ("urandom", "c", 1, 9),
    ("tty", "c", 5, 0),
]

DEFAULT_LINKS = [
    ("/proc/self/fd", "dev/fd"),
    ("/proc/self/fd/0", "dev/stdin"),
    ("/proc/self/fd/1", "dev/stdout"),
    ("/proc/self/fd/2", "dev/stderr"),
]

_DEVICE_TYPES = {
    "c": stat.S_IFCHR,
    "u": stat.S_IFCHR,
    "b": stat.S_IFBLK,
    "p": stat.S_IFIFO,
}

_READONLY_BIND = (
    mo.MS_REMOUNT
    | mo.MS_BIND
    | mo.MS_RDONLY
    | mo.MS_NOSUID
    | mo.MS_NODEV
    | mo.MS_NOEXEC
)

ROOT_PROPAGATION = {
    "private": mo.MS_PRIVATE | mo.MS_REC,
    "rprivate": mo.MS_PRIVATE | mo.MS_REC,
    "slave": mo.MS_SLAVE | mo.MS_REC,
    "rslave": mo.MS_SLAVE | mo.MS_REC,
    "shared": mo.MS_SHARED | mo.MS_REC,
    "rshared": mo.MS_SHARED | mo.MS_REC,
    "unbindable": mo.MS_UNBINDABLE | mo.MS_REC,
    "runbindable": mo.MS_UNBINDABLE | mo.MS_REC,
}


def relative(destination: str) -> str:
    """Return a container path relative to the root, with no way above it."""
    return posixpath.normpath("/" + destination).lstrip("/") or "."


def rootfs_path(spec: dict[str, Any], bundle: str) -> str:
    """Return the absolute host path of the container's root filesystem.

    Raises:
        SpecError: the path does not exist or is not a directory.
    """
    root = spec.get("root", {}).get("path", "rootfs")
    path = os.path.realpath(os.path.join(bundle, root))
    if not os.path.isdir(path):
        raise SpecError(f"root.path: {path}: no such directory")
    return path


def home_directory(rootfs: str, uid: int) -> str:
    """Return uid's home in the rootfs's /etc/passwd, or "/" as runc does without one.

    Known shortcoming: runc reads the file inside the container, after the
    mounts; pyrunc reads it from the host before them, so a passwd that a
    mount provides, or one whose path leaves the rootfs through a symlink, is
    not consulted and HOME is "/".
    """
    path = os.path.realpath(os.path.join(rootfs, "etc", "passwd"))
    if not path.startswith(rootfs.rstrip("/") + "/"):
        return "/"
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.rstrip("\n").split(":")
                if len(fields) >= 6 and fields[2] == str(uid):
                    return fields[5] or "/"
    except OSError:
        pass
    return "/"


class RootfsPlanner:
    """Build the steps that assemble a root filesystem and switch to it."""

    def __init__(
        self, spec: dict[str, Any], bundle: str, rootfs: str, cgroup_mounts: list[Step]
    ) -> None:
        self.spec = spec
        self.linux: dict[str, Any] = spec.get("linux", {})
        self.bundle = bundle
        self.rootfs = rootfs
        self.cgroup_mounts = cgroup_mounts
        self.userns = any(
            ns["type"] == "user" for ns in self.linux.get("namespaces", [])
        )

    def before_pivot(self) -> list[Step]:
        """Return the steps run in the new mount namespace before pivot_root.

        Raises:
            SpecError, NotSupportedError: a mount cannot be expressed.
        """
        steps = [
            Step(
                OP.PYRUNC_OP_MOUNT,
                "make / a slave mount",
                target="/",
                flags=mo.MS_SLAVE | mo.MS_REC,
            ),
            Step(
                OP.PYRUNC_OP_MOUNT,
                f"bind mount rootfs {self.rootfs}",
                source=self.rootfs,
                target=self.rootfs,
                flags=mo.MS_BIND | mo.MS_REC,
            ),
        ]
        for index, mount in enumerate(self.spec.get("mounts", [])):
            steps += self._mount(index, mount)
        if self._needs_dev():
            steps += self._devices()
        return steps

    def _mount(self, index: int, mount: dict[str, Any]) -> list[Step]:
        where = f"mounts[{index}]"
        if mount.get("type") == "cgroup":
            return self._cgroup_mount(mount)
        raw_options = list(mount.get("options", []))
        if mount.get("type") == "bind" and not {"bind", "rbind"} & set(raw_options):
            raw_options.append("bind")  # a "bind" type alone means a bind mount
        options = mo.parse(raw_options)
        source = mount.get("source")
        if options.is_bind:
            if not source:
                raise SpecError(f"{where}.source: a bind mount needs a source")
            source = os.path.join(self.bundle, source)
            kind = "d" if os.path.isdir(source) else "f"
        else:
            kind = "d"
        destination = relative(mount["destination"])
        flags = options.flags
        if options.is_bind:
            flags &= mo.MS_BIND | mo.MS_REC
        steps = [
            Step(
                OP.PYRUNC_OP_MOUNT_IN_ROOT,
                f"mount {source or mount.get('type')} to {mount['destination']}",
                root=self.rootfs,
                target=destination,
                source=source,
                fstype=mount.get("type") or None,
                flags=flags,
                data=options.data or None,
                num=(ord(kind), options.remount_flags(), options.propagation),
            )
        ]
        if options.attr_set or options.attr_clr:
            steps.append(
                Step(
                    OP.PYRUNC_OP_SETATTR_IN_ROOT,
                    f"set recursive attributes of {mount['destination']}",
                    root=self.rootfs,
                    target=destination,
                    num=(options.attr_set, options.attr_clr),
                )
            )
        return steps

    def _cgroup_mount(self, mount: dict[str, Any]) -> list[Step]:
        # a tmpfs holding one bind mount per hierarchy, read-only if asked
        options = mo.parse(mount.get("options", []))
        destination = relative(mount["destination"])
        steps = [
            Step(
                OP.PYRUNC_OP_MOUNT_IN_ROOT,
                f"mount tmpfs to {mount['destination']}",
                root=self.rootfs,
                target=destination,
                source="tmpfs",
                fstype="tmpfs",
                flags=options.flags & (mo.MS_NOSUID | mo.MS_NODEV | mo.MS_NOEXEC),
                data="mode=755",
                num=(ord("d"), 0, 0),
            )
        ]
        remount = _READONLY_BIND if options.flags & mo.MS_RDONLY else 0
        for step in self.cgroup_mounts:
            steps.append(
                step.copy(
                    root=self.rootfs,
                    target=posixpath.join(destination, step.target or ""),
                    num=(ord("d"), remount, 0),
                )
            )
        if options.flags & mo.MS_RDONLY:
            steps.append(
                Step(
                    OP.PYRUNC_OP_MOUNT_IN_ROOT,
                    f"remount {mount['destination']} read-only",
                    root=self.rootfs,
                    target=destination,
                    # MS_BIND: this mount alone; on v2 it is the host's cgroup2,
                    # which a superblock remount would make read-only host-wide
                    flags=mo.MS_REMOUNT
                    | mo.MS_BIND
                    | mo.MS_RDONLY
                    | mo.MS_NOSUID
                    | mo.MS_NODEV,
                    num=(0, 0, 0),
                )
            )
        return steps

    def _needs_dev(self) -> bool:
        # as runc: /dev is populated unless the host's /dev is bind mounted there
        for mount in self.spec.get("mounts", []):
            if relative(mount["destination"]) == "dev":
                return not mo.parse(mount.get("options", [])).is_bind
        return True

    def _devices(self) -> list[Step]:
        steps = [
            self._device(f"/dev/{n}", t, ma, mi, 0o666, 0, 0)
            for n, t, ma, mi in DEFAULT_DEVICES
        ]
        for device in self.linux.get("devices", []):
            steps.append(
                self._device(
                    device["path"],
                    device["type"],
                    device.get("major", 0),
                    device.get("minor", 0),
                    device.get("fileMode", 0o666),
                    device.get("uid", 0),
                    device.get("gid", 0),
                )
            )
        for target, link in DEFAULT_LINKS:
            steps.append(self._symlink(target, link))
        if os.path.exists("/proc/kcore"):
            steps.append(self._symlink("/proc/kcore", "dev/core"))
        if any(
            relative(m["destination"]) == "dev/pts" for m in self.spec.get("mounts", [])
        ):
            steps.append(self._symlink("pts/ptmx", "dev/ptmx"))
        return steps

    def _symlink(self, target: str, link: str) -> Step:
        return Step(
            OP.PYRUNC_OP_SYMLINK_IN_ROOT,
            f"symlink /{link} to {target}",
            root=self.rootfs,
            target=link,
            source=target,
        )

    def _device(
        self,
        path: str,
        kind: str,
        major: int,
        minor: int,
        mode: int,
        uid: int,
        gid: int,
    ) -> Step:
        if kind not in _DEVICE_TYPES:
            raise SpecError(f"linux.devices: {path}: unknown device type {kind!r}")
        if self.userns:
            # a user namespace may not mknod: bind the host's node instead
            return Step(
                OP.PYRUNC_OP_MOUNT_IN_ROOT,
                f"bind mount device {path}",
                root=self.rootfs,
                target=relative(path),
                source=path,
                flags=mo.MS_BIND,
                num=(ord("f"), 0, 0),
            )
        return Step(
            OP.PYRUNC_OP_MKNOD_IN_ROOT,
            f"create device {path}",
            root=self.rootfs,
            target=relative(path),
            num=(
                _DEVICE_TYPES[kind] | (mode & 0o7777),
                os.makedev(major, minor),
                uid,
                gid,
            ),
        )

    def pivot(self, no_pivot: bool) -> list[Step]:
        """Return the step that makes the rootfs the container's /."""
        op = OP.PYRUNC_OP_MOVE_ROOT if no_pivot else OP.PYRUNC_OP_PIVOT_ROOT
        what = "move rootfs to /" if no_pivot else "pivot_root"
        return [Step(op, f"{what} {self.rootfs}", root=self.rootfs)]

    def after_pivot(self) -> list[Step]:
        """Return the steps that finish the root: propagation, masks, read-only."""
        steps: list[Step] = []
        propagation = self.linux.get("rootfsPropagation")
        if propagation:
            if propagation not in ROOT_PROPAGATION:
                raise SpecError(
                    f"linux.rootfsPropagation: unknown value {propagation!r}"
                )
            steps.append(
                Step(
                    OP.PYRUNC_OP_MOUNT,
                    f"set / propagation {propagation}",
                    target="/",
                    flags=ROOT_PROPAGATION[propagation],
                )
            )
        return steps

    def protect(self) -> list[Step]:
        """Return the steps for readonlyPaths, maskedPaths and a read-only root.

        These come after sysctl writes, which need /proc/sys writable.
        """
        steps = [
            Step(OP.PYRUNC_OP_READONLY, f"make {path} read-only", target=path)
            for path in self.linux.get("readonlyPaths", [])
        ]
        steps += [
            Step(OP.PYRUNC_OP_MASK, f"mask {path}", target=path)
            for path in self.linux.get("maskedPaths", [])
        ]
        if self.spec.get("root", {}).get("readonly"):
            steps.append(
                Step(
                    OP.PYRUNC_OP_REMOUNT,
                    "remount / read-only",
                    target="/",
                    flags=mo.MS_REMOUNT | mo.MS_BIND | mo.MS_RDONLY,
                )
            )
        return steps
