"""The container lifecycle of runtime.md: create, start, kill, delete.

Which operation each status allows:

    status    start  kill  delete            delete --force
    created   yes    yes   yes (kills init)  yes
    running   no     yes   no                yes (kills all)
    paused    no     yes   no                yes (kills all)
    stopped   no     no    yes               yes
"""

from __future__ import annotations

import json
import os
import pwd
import signal
import socket
import time
from contextlib import ExitStack, suppress

from pyrunc import SPEC_VERSION, hooks
from pyrunc.cgroups import Manager
from pyrunc.errors import PyruncError, SeccompError, StateError, UsageError
from pyrunc.log import get_logger
from pyrunc.process import launcher, namespaces
from pyrunc.process.plan import InitOptions, init_plan
from pyrunc.process.rootfs import RootfsPlanner, home_directory, rootfs_path
from pyrunc.signals import terminates
from pyrunc.spec.checks import check_runnable
from pyrunc.spec.load import load_config
from pyrunc.state import (
    Record,
    Status,
    Store,
    now_rfc3339,
    process_start_time,
    write_atomic,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pyrunc.seccomp import Filter

log = get_logger(__name__)

ALLOWED = {
    "start": {Status.CREATED},
    "kill": {Status.CREATED, Status.RUNNING, Status.PAUSED},
    "delete": {Status.CREATED, Status.STOPPED},
}


class CreateOptions:
    """The flags of `create` and `run` that shape the container."""

    def __init__(
        self,
        bundle: str,
        console_socket: str | None = None,
        pid_file: str | None = None,
        no_pivot: bool = False,
        no_new_keyring: bool = False,
        preserve_fds: int = 0,
    ) -> None:
        self.bundle = bundle
        self.console_socket = console_socket
        self.pid_file = pid_file
        self.no_pivot = no_pivot
        self.no_new_keyring = no_new_keyring
        self.preserve_fds = preserve_fds


def _hook_state(record: Record, status: Status) -> dict[str, Any]:
    return {
        "ociVersion": SPEC_VERSION,
        "id": record.id,
        "status": status.value,
        "pid": record.pid,
        "bundle": record.bundle,
        "annotations": record.annotations,
    }


def check_allowed(operation: str, record: Record, status: Status) -> None:
    """Refuse an operation the container's status does not allow.

    Raises:
        StateError: the status forbids the operation.
    """
    if status in ALLOWED[operation]:
        return
    if operation == "kill":
        raise StateError("container not running")
    if operation == "start":
        raise StateError(
            f"cannot start a container that has {status.value}"
            if status == Status.STOPPED
            else f"cannot start an already {status.value} container"
        )
    raise StateError(
        f"cannot delete container {record.id} that is not stopped: {status.value}"
    )


class Creator:
    """One `create`: builds the container and its record, or leaves nothing behind."""

    def __init__(self, store: Store, container_id: str, opts: CreateOptions) -> None:
        self.store = store
        self.container_id = container_id
        self.opts = opts
        self.bundle = os.path.abspath(opts.bundle)
        self.spec: dict[str, Any] = {}
        self.record: Record | None = None
        self.cgroup: Manager | None = None

    def create(self) -> Record:
        """Create the container; on failure remove all it made.

        Raises:
            PyruncError: the spec, the state or a step of the init failed.
        """
        if not os.path.isdir(self.bundle):
            raise UsageError(f"bundle {self.opts.bundle}: no such directory")
        self.spec = load_config(self.bundle)
        check_runnable(self.spec)
        with (
            self.store.new(self.container_id),
            ExitStack() as undo,
            ExitStack() as closing,
        ):
            undo.callback(self._destroy_cgroup)
            record = self._launch(undo, closing)
            self.store.save(record)
            if self.opts.pid_file:
                write_atomic(os.path.abspath(self.opts.pid_file), str(record.pid))
            undo.pop_all()
        return record

    def _destroy_cgroup(self) -> None:
        if self.cgroup is not None:
            self.cgroup.destroy()

    def _launch(self, undo: ExitStack, closing: ExitStack) -> Record:
        rootfs = rootfs_path(self.spec, self.bundle)
        linux = self.spec.get("linux", {})
        self.cgroup = Manager(linux.get("cgroupsPath") or self.container_id)
        self.cgroup.create()
        fifo = self.store.fifo(self.container_id)
        os.mkfifo(fifo, 0o600)
        start_fd = os.open(fifo, os.O_RDWR | os.O_CLOEXEC)
        closing.callback(os.close, start_fd)
        console = self._console(closing)
        ns_plan = namespaces.plan_namespaces(self.spec)
        closing.callback(ns_plan.close)
        planner = RootfsPlanner(
            self.spec, self.bundle, rootfs, self.cgroup.mount_steps()
        )
        listen = listen_fds()
        notify = self._seccomp_notify(closing)
        init_opts = InitOptions(
            start_fd=start_fd,
            console_fd=console,
            extra_fds=listen + self.opts.preserve_fds,
            listen_fds=listen,
            keyring=None if self.opts.no_new_keyring else self.container_id,
            no_pivot=self.opts.no_pivot,
            home=home_directory(
                rootfs, self.spec["process"].get("user", {}).get("uid", 0)
            ),
            seccomp=notify.filter,
            listener_fd=notify.socket_fd,
            message_fd=notify.read_fd,
        )
        steps = init_plan(self.spec, ns_plan, planner, init_opts)
        self.record = self._new_record(rootfs)
        handlers: dict[int, launcher.SyncHandler] = {
            namespaces.SYNC_PLACE: self._place,
            namespaces.SYNC_USERMAP: self._write_id_maps,
            namespaces.SYNC_HOOKS: self._create_hooks,
        }
        child = launcher.start(ns_plan.clone_flags, steps, handlers)
        undo.callback(launcher.kill, child)
        self.record.pid = child.pid
        self.record.pid_start = process_start_time(child.pid) or 0
        notify.send_state(self.record)
        return self.record

    def _seccomp_notify(self, closing: ExitStack) -> SeccompChannel:
        profile = self.spec.get("linux", {}).get("seccomp")
        if not profile:
            return SeccompChannel(None, closing)
        from pyrunc.seccomp import compile_filter

        return SeccompChannel(compile_filter(profile), closing)

    def _console(self, closing: ExitStack) -> int:
        process = self.spec["process"]
        if not process.get("terminal"):
            if self.opts.console_socket:
                raise UsageError(
                    "--console-socket: the process does not use a terminal"
                )
            return -1
        if not self.opts.console_socket:
            raise UsageError("--console-socket: required when process.terminal is true")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        closing.callback(sock.close)
        try:
            sock.connect(self.opts.console_socket)
        except OSError as err:
            raise UsageError(
                f"--console-socket {self.opts.console_socket}: {err.strerror}"
            ) from err
        return sock.fileno()

    def _new_record(self, rootfs: str) -> Record:
        assert self.cgroup is not None
        return Record(
            id=self.container_id,
            pid=0,
            pid_start=0,
            bundle=self.bundle,
            rootfs=rootfs,
            created=now_rfc3339(),
            owner=pwd.getpwuid(os.geteuid()).pw_name,
            annotations=self.spec.get("annotations", {}),
            hooks=self.spec.get("hooks", {}),
            cgroup_paths=self.cgroup.paths,
            cgroups_path=self.cgroup.cgroups_path,
            namespaces=namespaces.namespace_types(self.spec),
            terminal=bool(self.spec["process"].get("terminal")),
        )

    def _place(self, pid: int) -> None:
        assert self.cgroup is not None
        self.cgroup.add(pid)
        score = self.spec["process"].get("oomScoreAdj")
        if score is not None:
            write_proc(pid, "oom_score_adj", str(score))

    def _write_id_maps(self, pid: int) -> None:
        linux = self.spec.get("linux", {})
        write_proc(pid, "gid_map", namespaces.id_map(linux.get("gidMappings", [])))
        write_proc(pid, "uid_map", namespaces.id_map(linux.get("uidMappings", [])))

    def _create_hooks(self, pid: int) -> None:
        assert self.record is not None
        self.record.pid = pid
        state = _hook_state(self.record, Status.CREATING)
        spec_hooks = self.spec.get("hooks", {})
        hooks.run_hooks(spec_hooks, "prestart", state)
        hooks.run_hooks(spec_hooks, "createRuntime", state)
        hooks.run_hooks(spec_hooks, "createContainer", state, enter_pid=pid)


class SeccompChannel:
    """A compiled filter and, when it notifies, the way to its agent.

    runtime.md's seccomp listener gets the notify fd and the container's
    state in one message. The init sends it when it loads the filter, long
    after create has returned, so create connects to listenerPath now and
    leaves the message in a pipe for the init to read.
    """

    def __init__(self, seccomp_filter: Filter | None, closing: ExitStack) -> None:
        self.filter = seccomp_filter
        self.socket_fd = self.read_fd = self.write_fd = -1
        if seccomp_filter is None or not seccomp_filter.notifies:
            return
        path = seccomp_filter.listener_path or ""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        closing.callback(sock.close)
        try:
            sock.connect(path)
        except OSError as err:
            reason = (err.strerror or str(err)).lower()
            raise SeccompError(
                f"linux.seccomp.listenerPath: connect {path}: {reason}"
            ) from err
        self.socket_fd = sock.fileno()
        self.read_fd, self.write_fd = os.pipe()
        closing.callback(os.close, self.read_fd)
        closing.callback(self._close_write)

    def _close_write(self) -> None:
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def send_state(self, record: Record) -> None:
        """Leave the agent's message, with the init's pid, for the init to send."""
        if self.filter is None or self.write_fd < 0:
            return
        message = {
            "ociVersion": SPEC_VERSION,
            "fds": ["seccompFd"],
            "pid": record.pid,
            "metadata": self.filter.listener_metadata,
            "state": _hook_state(record, Status.CREATED),
        }
        os.write(self.write_fd, json.dumps(message).encode())
        self._close_write()


def listen_fds() -> int:
    """Return how many sockets systemd-style activation passed to this process."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return 0
    try:
        return max(int(os.environ.get("LISTEN_FDS", "0")), 0)
    except ValueError:
        return 0


def write_proc(pid: int, name: str, text: str) -> None:
    """Write to /proc/PID/name.

    Raises:
        PyruncError: the write failed.
    """
    path = f"/proc/{pid}/{name}"
    try:
        with open(path, "w", encoding="ascii") as f:
            f.write(text)
    except OSError as err:
        raise PyruncError(f"write {path}: {err.strerror}") from err


def create(store: Store, container_id: str, opts: CreateOptions) -> Record:
    """Create a container and leave it waiting for start.

    Raises:
        PyruncError: anything failed; nothing of the container is left.
    """
    return Creator(store, container_id, opts).create()


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
            hooks.run_hooks(
                record.hooks,
                "startContainer",
                _hook_state(record, Status.CREATED),
                enter_pid=record.pid,
            )
        except PyruncError:
            _signal(record, signal.SIGKILL)
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
        hooks.run_hooks(record.hooks, "poststart", _hook_state(record, Status.RUNNING))
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
            signal.pidfd_send_signal(pidfd, sig)
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
        if status == Status.CREATED and terminates(sig):
            # the init waits for start with default handlers, and the kernel drops
            # such a signal to a pid namespace's init; runc's waiting init dies of it
            sig = signal.SIGKILL
        if all_processes:
            _kill_cgroup(record, sig)
        else:
            _signal(record, sig)


def _kill_cgroup(record: Record, sig: int) -> None:
    manager = Manager(record.cgroups_path, record.cgroup_paths)
    for pid in manager.pids():
        with suppress(ProcessLookupError):
            os.kill(pid, sig)


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
            _kill_cgroup(record, signal.SIGKILL)
            _signal(record, signal.SIGKILL)
            _wait_stopped(store, record)
        destroy(store, record)


def destroy(store: Store, record: Record) -> None:
    """Free a stopped container's cgroup and state, then run its poststop hooks."""
    manager = Manager(record.cgroups_path, record.cgroup_paths)
    _kill_cgroup(record, signal.SIGKILL)
    manager.destroy()
    store.remove(record.id)
    try:
        hooks.run_hooks(record.hooks, "poststop", _hook_state(record, Status.STOPPED))
    except PyruncError as err:
        # runtime.md: a failing poststop hook is a warning, deletion goes on
        log.warning("%s", err)
