"""Build the one config.json that all runtimes under test receive."""

from __future__ import annotations

from typing import Any

# crun 1.8 rejects ociVersion 1.2.0 ("unknown version specified"); 1.0.2 is
# the newest version string that runc 1.1, crun 1.8 and pyrunc all accept.
OCI_VERSION = "1.0.2"

_CAPABILITIES = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

_MOUNTS: list[dict[str, Any]] = [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {
        "destination": "/dev",
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
        "destination": "/dev/pts",
        "type": "devpts",
        "source": "devpts",
        "options": [
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ],
    },
    {
        "destination": "/dev/shm",
        "type": "tmpfs",
        "source": "shm",
        "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    {
        "destination": "/dev/mqueue",
        "type": "mqueue",
        "source": "mqueue",
        "options": ["nosuid", "noexec", "nodev"],
    },
    {
        "destination": "/sys",
        "type": "sysfs",
        "source": "sysfs",
        "options": ["nosuid", "noexec", "nodev", "ro"],
    },
    {
        "destination": "/sys/fs/cgroup",
        "type": "cgroup",
        "source": "cgroup",
        "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
    },
]

_MASKED = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
]

_READONLY = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
]

_NAMESPACES = ["pid", "network", "ipc", "uts", "mount"]


def _process(args: list[str]) -> dict[str, Any]:
    return {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": args,
        "env": ["PATH=/bin", "TERM=xterm"],
        "cwd": "/",
        "capabilities": {
            kind: list(_CAPABILITIES)
            for kind in ("bounding", "effective", "permitted", "ambient")
        },
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": True,
    }


def _linux(cgroups_path: str) -> dict[str, Any]:
    return {
        "cgroupsPath": cgroups_path,
        "resources": {"devices": [{"allow": False, "access": "rwm"}]},
        "namespaces": [{"type": kind} for kind in _NAMESPACES],
        "maskedPaths": list(_MASKED),
        "readonlyPaths": list(_READONLY),
    }


def container_config(rootfs: str, args: list[str], cgroups_path: str) -> dict[str, Any]:
    """Return a config.json document for a busybox container running args.

    The root filesystem is shared by every container of a run, so it is
    read-only; cgroups_path is relative, which places the container's
    cgroups under the benchmark's own.
    """
    return {
        "ociVersion": OCI_VERSION,
        "process": _process(args),
        "root": {"path": rootfs, "readonly": True},
        "hostname": "bench",
        "mounts": [dict(mount) for mount in _MOUNTS],
        "linux": _linux(cgroups_path),
    }
