"""Build the config.json that a requirement starts from.

It is small on purpose, so that a failure points at the field a
requirement adds: busybox in a shared read-only root, the usual mounts,
the host directory of the case at /out, pid/network/ipc/uts/mount
namespaces; the case adds a relative cgroupsPath under the suite's cgroup.
"""

from __future__ import annotations

from typing import Any

# crun 1.8 rejects ociVersion 1.2.0 ("unknown version specified"); 1.0.2 is
# the newest version string that runc 1.1, crun 1.8 and pyrunc all accept.
OCI_VERSION = "1.0.2"
HOSTNAME = "conformance"
NAMESPACES = ("pid", "network", "ipc", "uts", "mount")
CAPABILITIES = ("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE")
CAP_SETS = ("bounding", "effective", "permitted")

# set in the suite's environment: containers and hooks must not see it
LEAK_MARKER = "CONFORMANCE_CALLER_ONLY"

Config = dict[str, Any]


def mount(destination: str, kind: str, source: str, *options: str) -> dict[str, Any]:
    """Return one entry of `mounts`."""
    entry: dict[str, Any] = {"destination": destination, "type": kind}
    entry["source"] = source
    if options:
        entry["options"] = list(options)
    return entry


def bind(source: str, destination: str, *options: str) -> dict[str, Any]:
    """Return a bind mount entry; options default to `rbind`, `rw`."""
    return mount(destination, "bind", source, *(options or ("rbind", "rw")))


def standard_mounts(out_dir: str) -> list[dict[str, Any]]:
    """Return proc, a tmpfs /dev, devpts, shm, mqueue, sysfs and /out."""
    return [
        mount("/proc", "proc", "proc"),
        mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755"),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            *("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"),
        ),
        mount("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777"),
        mount("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
        mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
        bind(out_dir, "/out"),
    ]


def _process(args: list[str]) -> dict[str, Any]:
    return {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": args,
        "env": ["PATH=/bin"],
        "cwd": "/",
        "capabilities": {kind: list(CAPABILITIES) for kind in CAP_SETS},
    }


def _linux() -> dict[str, Any]:
    return {
        "resources": {"devices": [{"allow": False, "access": "rwm"}]},
        "namespaces": [{"type": kind} for kind in NAMESPACES],
    }


def base(rootfs: str, args: list[str], out_dir: str) -> Config:
    """Return the starting config.json of a case whose process runs args.

    linux.cgroupsPath is left out: the case fills it in per container.
    """
    return {
        "ociVersion": OCI_VERSION,
        "process": _process(args),
        "root": {"path": rootfs, "readonly": True},
        "hostname": HOSTNAME,
        "mounts": standard_mounts(out_dir),
        "linux": _linux(),
    }


def set_namespace(config: Config, kind: str, path: str | None = None) -> None:
    """Add a namespace of kind, or replace the entry of that kind."""
    entry: dict[str, Any] = {"type": kind}
    if path is not None:
        entry["path"] = path
    spaces = [ns for ns in config["linux"]["namespaces"] if ns["type"] != kind]
    config["linux"]["namespaces"] = [*spaces, entry]


def drop_namespace(config: Config, kind: str) -> None:
    """Remove the namespace entry of kind."""
    spaces = config["linux"]["namespaces"]
    config["linux"]["namespaces"] = [ns for ns in spaces if ns["type"] != kind]


def hook(path: str, *args: str, **fields: Any) -> dict[str, Any]:
    """Return one hook entry; args include argv[0]."""
    entry: dict[str, Any] = {"path": path}
    if args:
        entry["args"] = list(args)
    entry.update(fields)
    return entry
