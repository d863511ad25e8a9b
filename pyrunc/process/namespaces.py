"""Namespaces of a container: which to create, which to join, and in what order."""

from __future__ import annotations

import os

from pyrunc._sys import OP, Step
from pyrunc.errors import SpecError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CLONE_NEWTIME = 0x00000080
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

FLAGS = {
    "pid": CLONE_NEWPID,
    "network": CLONE_NEWNET,
    "mount": CLONE_NEWNS,
    "ipc": CLONE_NEWIPC,
    "uts": CLONE_NEWUTS,
    "user": CLONE_NEWUSER,
    "cgroup": CLONE_NEWCGROUP,
    "time": CLONE_NEWTIME,
}

# The file under /proc/PID/ns of each type.
PROC_NAMES = {
    "pid": "pid",
    "network": "net",
    "mount": "mnt",
    "ipc": "ipc",
    "uts": "uts",
    "user": "user",
    "cgroup": "cgroup",
    "time": "time",
}

# Sync codes: the points where the child waits for the parent.
SYNC_PLACE = 1  # put the child in its cgroup
SYNC_USERMAP = 2  # write the user namespace's id maps
SYNC_HOOKS = 3  # run the hooks due before pivot_root

# Types that only the children of the caller enter, so entering needs a fork.
_FOR_CHILDREN = CLONE_NEWPID | CLONE_NEWTIME

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4


class NamespacePlan:
    """How the child gets into its namespaces; fds are the namespace files to join."""

    def __init__(self, clone_flags: int, steps: list[Step], fds: list[int]) -> None:
        self.clone_flags = clone_flags
        self.steps = steps
        self.fds = fds

    def close(self) -> None:
        """Close the namespace files opened for joining."""
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()


def namespace_types(spec: dict[str, Any]) -> dict[str, str | None]:
    """Return {type: path or None} of the spec's namespaces."""
    namespaces = spec.get("linux", {}).get("namespaces", [])
    return {ns["type"]: ns.get("path") or None for ns in namespaces}


def has_namespace(spec: dict[str, Any], kind: str) -> bool:
    """Tell whether the container gets a namespace of this type, new or joined."""
    return kind in namespace_types(spec)


def check_kernel_support(kinds: dict[str, str | None]) -> None:
    """Fail for a namespace type this kernel lacks.

    Raises:
        SpecError: /proc/self/ns has no file for one of the types.
    """
    for kind in kinds:
        if not os.path.exists(f"/proc/self/ns/{PROC_NAMES[kind]}"):
            raise SpecError(
                f"linux.namespaces: {kind} namespace is not supported by this kernel"
            )


def _open_paths(kinds: dict[str, str | None]) -> list[tuple[str, int]]:
    opened: list[tuple[str, int]] = []
    try:
        for kind, path in kinds.items():
            if path:
                opened.append((kind, os.open(path, os.O_RDONLY | os.O_CLOEXEC)))
    except OSError as err:
        for _, fd in opened:
            os.close(fd)
        raise SpecError(
            f"linux.namespaces: open {err.filename}: {err.strerror}"
        ) from err
    return opened


def _join_steps(opened: list[tuple[str, int]]) -> list[Step]:
    # the user namespace last: while we are still the host's root we may
    # enter namespaces that the target user namespace does not own
    ordered = sorted(opened, key=lambda item: item[0] == "user")
    steps = [
        Step(OP.PYRUNC_OP_SETNS, f"join {kind} namespace", fd=fd, num=(FLAGS[kind],))
        for kind, fd in ordered
    ]
    if ordered and ordered[-1][0] == "user":
        steps += _become_root()
    return steps


def _become_root() -> list[Step]:
    # the host's root is not mapped in a user namespace; its root is
    return [
        Step(OP.PYRUNC_OP_SETRESGID, "become root of user namespace", num=(0,)),
        Step(OP.PYRUNC_OP_SETRESUID, "become root of user namespace", num=(0,)),
    ]


def _new_user_steps() -> list[Step]:
    return [
        Step(OP.PYRUNC_OP_UNSHARE, "create user namespace", flags=CLONE_NEWUSER),
        Step(OP.PYRUNC_OP_SYNC, "wait for id maps", num=(SYNC_USERMAP,)),
        *_become_root(),
    ]


def _time_offsets(spec: dict[str, Any]) -> str | None:
    offsets = spec.get("linux", {}).get("timeOffsets")
    if not offsets:
        return None
    lines = []
    for clock, value in offsets.items():
        lines.append(f"{clock} {value.get('secs', 0)} {value.get('nanosecs', 0)}\n")
    return "".join(lines)


def first_steps() -> list[Step]:
    """Return the steps every new child starts with, up to its cgroup placement."""
    return [
        Step(OP.PYRUNC_OP_RESET_SIGNALS, "reset signal handlers"),
        # if the runtime dies during set-up, so does the child
        Step(OP.PYRUNC_OP_PRCTL, "set parent death signal", num=(PR_SET_PDEATHSIG, 9)),
        Step(OP.PYRUNC_OP_PRCTL, "make init non-dumpable", num=(PR_SET_DUMPABLE, 0)),
        Step(OP.PYRUNC_OP_SYNC, "wait to be placed in cgroup", num=(SYNC_PLACE,)),
    ]


def _unshare_steps(flags: int, offsets: str | None) -> list[Step]:
    steps = []
    if flags:
        steps.append(Step(OP.PYRUNC_OP_UNSHARE, "create namespaces", flags=flags))
    if offsets:
        # a time namespace takes its offsets before any process enters it
        steps.append(
            Step(
                OP.PYRUNC_OP_WRITE_FILE,
                "write time namespace offsets",
                target="/proc/self/timens_offsets",
                data=offsets,
            )
        )
    return steps


def plan_namespaces(spec: dict[str, Any]) -> NamespacePlan:
    """Compile the spec's namespaces into clone flags and the child's first steps.

    The child always stops once at the start so the parent can put it in its
    cgroup before it creates a cgroup namespace or forks. Without a user
    namespace or a namespace to join, clone itself makes the new namespaces;
    otherwise the child joins, then unshares, then forks into a new pid or
    time namespace, which only a child of the caller enters.

    Raises:
        SpecError: a namespace path cannot be opened or the kernel lacks a type.
    """
    kinds = namespace_types(spec)
    check_kernel_support(kinds)
    new = {kind for kind, path in kinds.items() if path is None}
    opened = _open_paths(kinds)
    fast = not opened and "user" not in new and "time" not in new
    clone_flags = _flags(new - {"cgroup"}) if fast else 0
    steps = first_steps() + _join_steps(opened)
    if "user" in new and not fast:
        steps += _new_user_steps()
    rest = _flags(new - {"user"}) & ~clone_flags
    steps += _unshare_steps(rest, _time_offsets(spec))
    joined_for_children = {k for k, _ in opened} & {"pid", "time"}
    if rest & _FOR_CHILDREN or joined_for_children:
        steps.append(Step(OP.PYRUNC_OP_FORK, "fork into the pid namespace"))
    steps.append(Step(OP.PYRUNC_OP_REPORT_PID, "report pid"))
    return NamespacePlan(clone_flags, steps, [fd for _, fd in opened])


# The order in which a process joins a running container's namespaces.
ENTER_ORDER = ["ipc", "uts", "network", "pid", "time", "cgroup", "mount", "user"]


def enter_steps(pid: int) -> tuple[list[Step], list[int]]:
    """Return the steps that join every namespace of pid we are not in, and their fds.

    The user namespace comes last (see _join_steps); a fork follows when the
    pid or time namespace changes, as only children enter those. The caller
    closes the fds once the child has run the steps.

    Raises:
        OSError: a namespace file of pid cannot be read.
    """
    steps: list[Step] = []
    fds: list[int] = []
    for kind in ENTER_ORDER:
        ours = f"/proc/self/ns/{PROC_NAMES[kind]}"
        theirs = f"/proc/{pid}/ns/{PROC_NAMES[kind]}"
        try:
            if os.stat(ours).st_ino == os.stat(theirs).st_ino:
                continue
            fd = os.open(theirs, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        fds.append(fd)
        steps.append(
            Step(
                OP.PYRUNC_OP_SETNS,
                f"join {kind} namespace of {pid}",
                fd=fd,
                num=(FLAGS[kind],),
            )
        )
    if any(s.num[0] & _FOR_CHILDREN for s in steps):
        steps.append(Step(OP.PYRUNC_OP_FORK, "fork into the pid namespace"))
    steps.append(Step(OP.PYRUNC_OP_REPORT_PID, "report pid"))
    return steps, fds


def _flags(kinds: set[str]) -> int:
    flags = 0
    for kind in kinds:
        flags |= FLAGS[kind]
    return flags


def id_map(mappings: list[dict[str, int]]) -> str:
    """Format uidMappings or gidMappings as a /proc/PID/uid_map document."""
    return "".join(f"{m['containerID']} {m['hostID']} {m['size']}\n" for m in mappings)
