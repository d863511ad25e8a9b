"""The container lifecycle of runtime.md: create, start, kill, delete, and exec.

Which operation each status allows:

    status    start  kill  delete            delete --force   exec             pause
    created   yes    yes   yes (kills init)  yes              yes              yes
    running   no     yes   no                yes (kills all)  yes              yes
    paused    no     yes   no                yes (kills all)  --ignore-paused  no
    stopped   no     no    yes               yes              no               no

resume takes a paused container only, update any but a stopped one.
"""

from __future__ import annotations

import os
import time
from _signal import SIGKILL, pidfd_send_signal  # signal's C half; no enum import

from pyrunc import SPEC_VERSION
from pyrunc.cgroups import Manager
from pyrunc.errors import PyruncError, StateError
from pyrunc.log import get_logger
from pyrunc.state import Record, Status, Store, process_start_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


log = get_logger(__name__)

ALLOWED = {
    "start": {Status.CREATED},
    "kill": {Status.CREATED, Status.RUNNING, Status.PAUSED},
    "delete": {Status.CREATED, Status.STOPPED},
    "exec": {Status.CREATED, Status.RUNNING},
    "pause": {Status.CREATED, Status.RUNNING},
    "resume": {Status.PAUSED},
    "update": {Status.CREATED, Status.RUNNING, Status.PAUSED},
}


class CreateOptions:
    """The flags of `create` and `run` that shape the container.

    console_fd, when not -1, is a socket of the caller's that stands in for
    --console-socket: a foreground `run` relays the terminal itself.
    """

    def __init__(
        self,
        bundle: str,
        console_socket: str | None = None,
        pid_file: str | None = None,
        no_pivot: bool = False,
        no_new_keyring: bool = False,
        preserve_fds: int = 0,
        console_fd: int = -1,
    ) -> None:
        self.bundle = bundle
        self.console_socket = console_socket
        self.console_fd = console_fd
        self.pid_file = pid_file
        self.no_pivot = no_pivot
        self.no_new_keyring = no_new_keyring
        self.preserve_fds = preserve_fds


class ExecOptions:
    """What `exec` starts: a whole process object, and how the caller attaches to it.

    console_fd, when not -1, receives the master of the process's pty;
    preserve_fds counts the caller's fds from 3 up that the process inherits;
    sub_cgroups maps controllers to existing cgroups below the container's
    that the process joins instead ("" for every other controller).
    """

    def __init__(
        self,
        process: dict[str, Any],
        console_fd: int = -1,
        preserve_fds: int = 0,
        ignore_paused: bool = False,
        sub_cgroups: dict[str, str] | None = None,
    ) -> None:
        self.process = process
        self.console_fd = console_fd
        self.preserve_fds = preserve_fds
        self.ignore_paused = ignore_paused
        self.sub_cgroups = sub_cgroups or {}


def hook_state(record: Record, status: str) -> dict[str, Any]:
    """Return the state document hooks get on stdin."""
    return {
        "ociVersion": SPEC_VERSION,
        "id": record.id,
        "status": status,
        "pid": record.pid,
        "bundle": record.bundle,
        "annotations": record.annotations,
    }


def run_hooks(
    record: Record, kind: str, status: str, enter_pid: int | None = None
) -> None:
    """Run the container's hooks of one kind, if it has any.

    poststart and poststop hooks only warn when they fail (runtime.md).

    Raises:
        HookError: a hook of another kind failed.
    """
    if not record.hooks.get(kind):
        return
    from pyrunc import hooks  # only containers with hooks pay for it

    state = hook_state(record, status)
    if kind in ("poststart", "poststop"):
        hooks.run_hooks_warning(record.hooks, kind, state)
    else:
        hooks.run_hooks(record.hooks, kind, state, enter_pid)


def check_allowed(operation: str, record: Record, status: str) -> None:
    """Refuse an operation the container's status does not allow.

    Raises:
        StateError: the status forbids the operation.
    """
    if status in ALLOWED[operation]:
        return
    if operation in ("kill", "pause", "update"):
        raise StateError("container not running")
    if operation == "resume":
        raise StateError("container not paused")
    if operation == "exec":
        raise StateError(
            "cannot exec in a paused container (use --ignore-paused to override)"
            if status == Status.PAUSED
            else f"cannot exec in a {status} container"
        )
    if operation == "start":
        raise StateError(
            f"cannot start a container that has {status}"
            if status == Status.STOPPED
            else f"cannot start an already {status} container"
            if status == Status.RUNNING
            else f"cannot start a container in the {status} state"
        )
    raise StateError(
        f"cannot delete container {record.id} that is not stopped: {status}"
    )


def create(store: Store, container_id: str, opts: CreateOptions) -> Record:
    """Create a container and leave it waiting for start.

    Raises:
        PyruncError: anything failed; nothing of the container is left.
    """
    from pyrunc.process.creator import Creator

    return Creator(store, container_id, opts).create()


def exec_process(store: Store, container_id: str, opts: ExecOptions) -> int:
    """Start a new process in a container's namespaces and cgroup; return its pid.

    The container is locked while its init's namespaces are opened and its
    status checked, and released before the process starts: a process that
    joins a paused container waits, frozen, for a `resume` that needs the lock.

    Raises:
        StateError: the container does not exist, is stopped, or is paused
            without opts.ignore_paused.
        PyruncError: a step of the new process failed; nothing of it is left.
    """
    from pyrunc.process.joiner import Joiner  # only exec pays for it

    with store.locked(container_id) as record:
        joiner = Joiner(record, opts)
        joiner.open_namespaces()
        try:
            status = store.status(record)
            if not (status == Status.PAUSED and opts.ignore_paused):
                check_allowed("exec", record, status)
        except BaseException:
            joiner.close()
            raise
    return joiner.launch()


def start(store: Store, container_id: str) -> Record:
    """Let a created container's init execute the user process.

    Raises:
        StateError: the container is not created.
        HookError: a startContainer hook failed; the container is killed.
    """
    with store.locked(container_id) as record:
        status = store.status(record)
        check_allowed("start", record, status)
        try:
            run_hooks(record, "startContainer", Status.CREATED, enter_pid=record.pid)
        except PyruncError:
            _signal(record, SIGKILL)
            raise
        _release(store, record)
        _poststart(record)
        return record


def _release(store: Store, record: Record) -> None:
    fifo = store.fifo(record.id)
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        raise StateError(
            f"start container {record.id}: init is not waiting ({err.strerror})"
        ) from err
    try:
        os.write(fd, b"0")
    finally:
        os.close(fd)
    os.unlink(fifo)


def _poststart(record: Record) -> None:
    try:
        run_hooks(record, "poststart", Status.RUNNING)
    except PyruncError as err:
        # runtime.md: a failing poststart hook is a warning, the container runs on
        log.warning("%s", err)


def _signal(record: Record, sig: int) -> None:
    try:
        pidfd = os.pidfd_open(record.pid)
    except ProcessLookupError:
        return
    try:
        if process_start_time(record.pid) == record.pid_start:
            pidfd_send_signal(pidfd, sig)
    finally:
        os.close(pidfd)


def kill(
    store: Store, container_id: str, sig: int, all_processes: bool = False
) -> None:
    """Send sig to the container's init, or with all_processes to every process in it.

    Raises:
        StateError: the container does not exist or is stopped.
    """
    with store.locked(container_id) as record:
        status = store.status(record)
        if all_processes and status == Status.STOPPED:
            _kill_cgroup(record, sig)
            return
        check_allowed("kill", record, status)
        if all_processes:
            _kill_cgroup(record, sig)
        else:
            _signal(record, sig)
            if status == Status.PAUSED and sig == SIGKILL:
                # a v1 frozen process dies of SIGKILL only once thawed
                Manager(record.cgroups_path, record.cgroup_paths).thaw()


def pause(store: Store, container_id: str) -> None:
    """Freeze every process of a created or running container.

    Raises:
        StateError: the container does not exist or is not running.
        CgroupError: the processes did not freeze.
    """
    with store.locked(container_id) as record:
        check_allowed("pause", record, store.status(record))
        Manager(record.cgroups_path, record.cgroup_paths).freeze()


def update(store: Store, container_id: str, resources: dict[str, Any]) -> None:
    """Change a container's limits and remember them in its state.

    Raises:
        StateError: the container does not exist or is stopped.
        PyruncError: a value is invalid or refused.
    """
    with store.locked(container_id) as record:
        check_allowed("update", record, store.status(record))
        check = (resources.get("memory") or {}).get(
            "checkBeforeUpdate",
            (record.resources.get("memory") or {}).get("checkBeforeUpdate", False),
        )
        Manager(record.cgroups_path, record.cgroup_paths).update(resources, check)
        for section, values in resources.items():
            old = record.resources.get(section)
            merged = {**old, **values} if isinstance(old, dict) else values
            record.resources[section] = merged
        store.save(record)


def resume(store: Store, container_id: str) -> None:
    """Thaw a paused container.

    Raises:
        StateError: the container does not exist or is not paused.
        CgroupError: the processes did not thaw.
    """
    with store.locked(container_id) as record:
        check_allowed("resume", record, store.status(record))
        Manager(record.cgroups_path, record.cgroup_paths).thaw()


def _kill_cgroup(record: Record, sig: int) -> None:
    Manager(record.cgroups_path, record.cgroup_paths).kill_all(sig)


def _wait_stopped(store: Store, record: Record, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while store.status(record) != Status.STOPPED:
        if time.monotonic() > deadline:
            raise StateError(f"container {record.id} did not stop after SIGKILL")
        time.sleep(0.005)


def delete(store: Store, container_id: str, force: bool = False) -> None:
    """Remove a container: kill what is left when allowed, run poststop hooks, free all.

    Raises:
        StateError: the container does not exist or is running without force.
    """
    with store.locked(container_id) as record:
        status = store.status(record)
        if not force:
            check_allowed("delete", record, status)
        if status != Status.STOPPED:
            _kill_cgroup(record, SIGKILL)
            _signal(record, SIGKILL)
            _wait_stopped(store, record)
        destroy(store, record)


def destroy(store: Store, record: Record) -> None:
    """Free a stopped container's cgroup and state, then run its poststop hooks."""
    manager = Manager(record.cgroups_path, record.cgroup_paths)
    _kill_cgroup(record, SIGKILL)
    manager.destroy()
    store.remove(record.id)
    try:
        run_hooks(record, "poststop", Status.STOPPED)
    except PyruncError as err:
        # runtime.md: a failing poststop hook is a warning, deletion goes on
        log.warning("%s", err)
