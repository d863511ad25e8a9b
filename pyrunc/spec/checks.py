"""Rules for config.json that its schema cannot express.

Each check is a small function taking a config that has already passed
``pyrunc.spec.validate.validate`` (so every field present has the right type)
and raising SpecError naming the offending field. ``check_config`` runs them
all; ``check_runnable`` adds what ``create`` and ``run`` need beyond the spec;
``deprecation_warnings`` lists what is allowed but deprecated.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

from pyrunc.spec.validate import spec_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Config = dict[str, Any]

# getrlimit(2): the resources Linux knows. The spec wants an error for a type
# that cannot be mapped to a kernel interface (runc: "wrong rlimit value").
RLIMIT_TYPES = frozenset(
    {
        "RLIMIT_AS",
        "RLIMIT_CORE",
        "RLIMIT_CPU",
        "RLIMIT_DATA",
        "RLIMIT_FSIZE",
        "RLIMIT_LOCKS",
        "RLIMIT_MEMLOCK",
        "RLIMIT_MSGQUEUE",
        "RLIMIT_NICE",
        "RLIMIT_NOFILE",
        "RLIMIT_NPROC",
        "RLIMIT_RSS",
        "RLIMIT_RTPRIO",
        "RLIMIT_RTTIME",
        "RLIMIT_SIGPENDING",
        "RLIMIT_STACK",
    }
)

OTHER_PLATFORMS = ("windows", "solaris", "zos", "freebsd")
CAPABILITY_SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")
HOOK_KINDS = (
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
)

_CAPABILITY_NAME = re.compile(r"CAP_[A-Z0-9_]+")

# Sysctls the IPC namespace isolates, besides fs.mqueue.* (as runc 1.1 lists them).
IPC_SYSCTLS = frozenset(
    {
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    }
)


def check_config(config: Config) -> None:
    """Run the checks below on a schema-valid config; SpecError on the first failure.

    The Linux rules are skipped for a config written for another platform
    only (one with a windows, solaris, zos or freebsd section and no linux).
    """
    checks = CHECKS if targets_linux(config) else PORTABLE_CHECKS
    for check in checks:
        check(config)


def targets_linux(config: Config) -> bool:
    """Whether config is for Linux: it has a linux section or no other platform's."""
    return "linux" in config or not any(key in config for key in OTHER_PLATFORMS)


def check_runnable(config: Config) -> None:
    """Raise SpecError unless config names a process that can be started.

    The spec makes ``process`` optional for ``create``; pyrunc, like runc,
    needs it, with at least one argument.
    """
    process = config.get("process")
    if process is None:
        raise spec_error("process", "is required to create a container")
    if not process.get("args"):
        raise spec_error("process.args", "must not be empty")
    lsm_labels(config)


def lsm_labels(config: Config) -> None:
    """Refuse an AppArmor profile or SELinux label: pyrunc applies neither.

    Starting the process without the confinement its config asks for would
    weaken it silently; runc, too, refuses a label its host cannot apply.
    """
    process = config.get("process", {})
    labels: list[tuple[list[str | int], Any, str]] = [
        (["process", "apparmorProfile"], process.get("apparmorProfile"), "AppArmor"),
        (["process", "selinuxLabel"], process.get("selinuxLabel"), "SELinux"),
        (["linux", "mountLabel"], _linux(config).get("mountLabel"), "SELinux"),
    ]
    for where, value, module in labels:
        if not value:
            continue
        if not _lsm_enabled(module):
            raise spec_error(where, f"{module} is not enabled on this host")
        raise spec_error(where, f"pyrunc does not apply {module} labels")


def _lsm_enabled(module: str) -> bool:
    if module == "SELinux":
        return os.path.exists("/sys/fs/selinux/enforce")
    try:
        with open("/sys/module/apparmor/parameters/enabled", encoding="ascii") as f:
            return f.read().strip() == "Y"
    except OSError:
        return False


def deprecation_warnings(config: Config) -> list[str]:
    """Messages for what the spec allows but deprecates, in runc 1.1's words."""
    warnings = []
    for mount in config.get("mounts", ()):
        destination = mount["destination"]
        if not destination.startswith("/"):
            warnings.append(
                f"mount destination {destination} is not absolute. Support for "
                "non-absolute mount destinations will be removed in a future release."
            )
    return warnings


# ---- the checks ------------------------------------------------------------


def namespaces_unique(config: Config) -> None:
    """config-linux.md: duplicated namespaces with the same type MUST be an error."""
    first: dict[str, int] = {}
    for index, namespace in enumerate(_linux(config).get("namespaces", ())):
        kind = namespace["type"]
        if kind in first:
            raise spec_error(
                ["linux", "namespaces", index, "type"],
                f"duplicate namespace type {kind!r} "
                f"(also at linux.namespaces[{first[kind]}])",
            )
        first[kind] = index


def id_mappings_need_user_namespace(config: Config) -> None:
    """uidMappings and gidMappings describe a user namespace: one must be asked for."""
    linux = _linux(config)
    if "user" in _namespace_types(config):
        return
    for field in ("uidMappings", "gidMappings"):
        if linux.get(field):
            raise spec_error(
                ["linux", field],
                "needs a user namespace (linux.namespaces has no user)",
            )


def uts_fields_need_uts_namespace(config: Config) -> None:
    """hostname and domainname would change the host's own without a UTS namespace."""
    if "uts" in _namespace_types(config):
        return
    for field in ("hostname", "domainname"):
        if config.get(field):
            raise spec_error(
                field,
                "cannot be set without a UTS namespace (linux.namespaces has no uts)",
            )


def rlimits_known_and_unique(config: Config) -> None:
    """config.md: each rlimit type maps to a kernel resource and appears once."""
    first: dict[str, int] = {}
    for index, rlimit in enumerate(config.get("process", {}).get("rlimits", ())):
        kind = rlimit["type"]
        where: list[str | int] = ["process", "rlimits", index, "type"]
        if kind not in RLIMIT_TYPES:
            raise spec_error(where, f"unknown rlimit type {kind!r}")
        if kind in first:
            raise spec_error(
                where,
                f"duplicate rlimit type {kind!r} "
                f"(also at process.rlimits[{first[kind]}])",
            )
        first[kind] = index


def capability_names(config: Config) -> None:
    """Capabilities are named CAP_* as in capabilities(7).

    A well-formed name the kernel does not know is not an error here: the
    spec wants a warning for capabilities that cannot be granted.
    """
    capabilities = config.get("process", {}).get("capabilities", {})
    for field in CAPABILITY_SETS:
        for index, name in enumerate(capabilities.get(field, ())):
            if not _CAPABILITY_NAME.fullmatch(name):
                raise spec_error(
                    ["process", "capabilities", field, index],
                    f"{name!r} is not a capability name (CAP_*)",
                )


def sysctl_namespaces(config: Config) -> None:
    """A sysctl is set only in a namespace the container does not share (runc's rules).

    A network namespace joined by path is accepted here; whether that path is
    the host's namespace can only be told at run time.
    """
    kinds = _namespace_types(config)
    for key in _linux(config).get("sysctl", {}):
        name = key.replace("/", ".")
        where: list[str | int] = ["linux", "sysctl", key]
        if name in IPC_SYSCTLS or name.startswith("fs.mqueue."):
            if "ipc" not in kinds:
                raise spec_error(where, "is not allowed in the host's IPC namespace")
        elif name.startswith("net."):
            if "network" not in kinds:
                raise spec_error(
                    where, "is not allowed in the host's network namespace"
                )
        elif name == "kernel.domainname" and "uts" in kinds:
            continue
        elif name == "kernel.hostname" and "uts" in kinds:
            raise spec_error(
                where, "is not allowed: it conflicts with the hostname field"
            )
        else:
            raise spec_error(where, "is not in a separate kernel namespace")


def absolute_paths(config: Config) -> None:
    """Paths the spec says MUST be absolute."""
    for where, path in _absolute_path_fields(config):
        if not path.startswith("/"):
            raise spec_error(where, f"must be an absolute path, not {path!r}")


def process_env(config: Config) -> None:
    """process.env entries are KEY=value, as in environ(7)."""
    for index, entry in enumerate(config.get("process", {}).get("env", ())):
        name, equals, value = entry.partition("=")
        where: list[str | int] = ["process", "env", index]
        if not equals or not name:
            raise spec_error(where, f"{entry!r} is not of the form KEY=value")
        if "\0" in entry:
            raise spec_error(where, "must not contain a NUL byte")


PORTABLE_CHECKS: tuple[Callable[[Config], None], ...] = (process_env,)
CHECKS: tuple[Callable[[Config], None], ...] = (
    namespaces_unique,
    id_mappings_need_user_namespace,
    uts_fields_need_uts_namespace,
    rlimits_known_and_unique,
    capability_names,
    sysctl_namespaces,
    absolute_paths,
    *PORTABLE_CHECKS,
)


# ---- helpers ---------------------------------------------------------------


def _linux(config: Config) -> dict[str, Any]:
    linux: dict[str, Any] = config.get("linux", {})
    return linux


def _namespace_types(config: Config) -> set[str]:
    return {namespace["type"] for namespace in _linux(config).get("namespaces", ())}


def _absolute_path_fields(config: Config) -> Iterator[tuple[list[str | int], str]]:
    process = config.get("process")
    if process is not None:
        yield ["process", "cwd"], process["cwd"]
    for kind in HOOK_KINDS:
        for index, hook in enumerate(config.get("hooks", {}).get(kind, ())):
            yield ["hooks", kind, index, "path"], hook["path"]
    linux = _linux(config)
    for index, namespace in enumerate(linux.get("namespaces", ())):
        if namespace.get("path"):  # runc, too, reads "" as no path
            yield ["linux", "namespaces", index, "path"], namespace["path"]
    for field in ("maskedPaths", "readonlyPaths"):
        for index, path in enumerate(linux.get(field, ())):
            yield ["linux", field, index], path
