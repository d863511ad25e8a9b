"""Build the template config.json that ``pyrunc spec`` writes, as runc's."""

from __future__ import annotations

import os

from pyrunc import SPEC_VERSION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

HOSTNAME = "pyrunc"
ENV = (
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "TERM=xterm",
)
CAPABILITIES = ("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE")
CAPABILITY_SETS = ("bounding", "effective", "permitted", "ambient")
MASKED_PATHS = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
)
READONLY_PATHS = (
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
)
_LOCKED = ("nosuid", "noexec", "nodev")


def default_config(rootless: bool = False) -> dict[str, Any]:
    """Return a new template config, for an unprivileged user if rootless."""
    return {
        "ociVersion": SPEC_VERSION,
        "process": _process(),
        "root": {"path": "rootfs", "readonly": True},
        "hostname": HOSTNAME,
        "mounts": _mounts(rootless),
        "linux": _linux(rootless),
    }


def _process() -> dict[str, Any]:
    return {
        "terminal": True,
        "user": {"uid": 0, "gid": 0},
        "args": ["sh"],
        "env": list(ENV),
        "cwd": "/",
        "capabilities": {kind: list(CAPABILITIES) for kind in CAPABILITY_SETS},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": True,
    }


def _mount(destination: str, kind: str, source: str, *options: str) -> dict[str, Any]:
    mount: dict[str, Any] = {"destination": destination, "type": kind, "source": source}
    if options:
        mount["options"] = list(options)
    return mount


def _mounts(rootless: bool) -> list[dict[str, Any]]:
    return [
        _mount("/proc", "proc", "proc"),
        _mount(
            "/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"
        ),
        _devpts(rootless),
        _mount("/dev/shm", "tmpfs", "shm", *_LOCKED, "mode=1777", "size=65536k"),
        _mount("/dev/mqueue", "mqueue", "mqueue", *_LOCKED),
        _sysfs(rootless),
        _mount("/sys/fs/cgroup", "cgroup", "cgroup", *_LOCKED, "relatime", "ro"),
    ]


def _devpts(rootless: bool) -> dict[str, Any]:
    options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
    # A rootless user namespace maps one group only, so the tty group (gid 5)
    # does not exist there and devpts would refuse the option.
    if not rootless:
        options.append("gid=5")
    return _mount("/dev/pts", "devpts", "devpts", *options)


def _sysfs(rootless: bool) -> dict[str, Any]:
    # sysfs may only be mounted from the user namespace that owns the network
    # namespace; a rootless container keeps the host's, so it binds /sys.
    if rootless:
        return _mount("/sys", "none", "/sys", "rbind", *_LOCKED, "ro")
    return _mount("/sys", "sysfs", "sysfs", *_LOCKED, "ro")


def _linux(rootless: bool) -> dict[str, Any]:
    linux = _rootless_linux() if rootless else _privileged_linux()
    linux["maskedPaths"] = list(MASKED_PATHS)
    linux["readonlyPaths"] = list(READONLY_PATHS)
    return linux


def _privileged_linux() -> dict[str, Any]:
    kinds = ("pid", "network", "ipc", "uts", "mount")
    return {
        "resources": {"devices": [{"allow": False, "access": "rwm"}]},
        "namespaces": [{"type": kind} for kind in kinds],
    }


def _rootless_linux() -> dict[str, Any]:
    kinds = ("pid", "ipc", "uts", "mount", "user")
    return {
        "uidMappings": [{"containerID": 0, "hostID": os.geteuid(), "size": 1}],
        "gidMappings": [{"containerID": 0, "hostID": os.getegid(), "size": 1}],
        "namespaces": [{"type": kind} for kind in kinds],
    }
