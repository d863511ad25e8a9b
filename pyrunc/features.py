"""Describe what this runtime implements: the OCI features document."""

from __future__ import annotations

from pyrunc import SPEC_VERSION, __version__, capabilities
from pyrunc.process import mountopts
from pyrunc.spec.checks import HOOK_KINDS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

OCI_VERSION_MIN = "1.0.0"
NAMESPACES = ("cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts")
CGROUP = {"v1": True, "v2": True, "systemd": False, "systemdUser": False, "rdma": True}
VERSION_ANNOTATION = "io.github.pyrunc.version"


def features() -> dict[str, Any]:
    """Return the features document of features.md for this runtime.

    Raises SyscallError if the kernel's highest capability cannot be read.
    """
    return {
        "ociVersionMin": OCI_VERSION_MIN,
        "ociVersionMax": SPEC_VERSION,
        "hooks": list(HOOK_KINDS),
        "mountOptions": mountopts.known_options(),
        "linux": _linux(),
        "annotations": {VERSION_ANNOTATION: __version__},
    }


def _linux() -> dict[str, Any]:
    # AppArmor, SELinux, Intel RDT and id-mapped mounts are not implemented,
    # so each reports enabled false.
    return {
        "namespaces": list(NAMESPACES),
        "capabilities": capabilities.known(),
        "cgroup": dict(CGROUP),
        "seccomp": _seccomp(),
        "apparmor": _disabled(),
        "selinux": _disabled(),
        "intelRdt": _disabled(),
        "mountExtensions": {"idmap": _disabled()},
    }


def _seccomp() -> dict[str, Any]:
    from pyrunc import seccomp

    return {
        "enabled": True,
        "actions": sorted(seccomp.ACTIONS),
        "operators": sorted(seccomp.OPERATORS),
        "archs": sorted(f"SCMP_ARCH_{arch.upper()}" for arch in seccomp.ARCHITECTURES),
        "knownFlags": sorted(seccomp.FLAGS),
        "supportedFlags": sorted(seccomp.FLAGS),
    }


def _disabled() -> dict[str, Any]:
    return {"enabled": False}
