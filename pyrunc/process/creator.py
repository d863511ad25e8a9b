"""The parent's side of `create`: build the container, serve its init, or undo it all.

The init runs the steps compiled from the spec; at each sync point it stops
and this side does what must happen from outside the container: cgroup
placement, user namespace id maps, the hooks due before pivot_root.
"""

from __future__ import annotations

import os
import pwd
from contextlib import ExitStack

from pyrunc import SPEC_VERSION, _sys, hooks, jsonio
from pyrunc.cgroups import Manager, check_free
from pyrunc.container import CreateOptions, hook_state
from pyrunc.errors import HookError, PyruncError, SeccompError, SyscallError, UsageError
from pyrunc.process import launcher, namespaces
from pyrunc.process.plan import InitOptions, init_plan
from pyrunc.process.rootfs import RootfsPlanner, home_directory, rootfs_path
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
        cgroup = Manager(linux.get("cgroupsPath") or self.container_id)
        check_free(cgroup, self.store, self.container_id)
        self.cgroup = cgroup
        self.cgroup.create()
        # limits go in before the init joins, so they hold from its first page
        self.cgroup.apply(linux.get("resources") or {})
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
        if self.opts.console_fd >= 0:
            return self.opts.console_fd
        if not self.opts.console_socket:
            raise UsageError("--console-socket: required when process.terminal is true")
        try:
            fd = _sys.unix_connect(self.opts.console_socket)
        except SyscallError as err:
            raise UsageError(f"--console-socket: {err}") from err
        closing.callback(os.close, fd)
        return fd

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
            process=self.spec["process"],
            seccomp=self.spec.get("linux", {}).get("seccomp"),
            resources=self.spec.get("linux", {}).get("resources"),
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
        state = hook_state(self.record, Status.CREATING)
        spec_hooks = self.spec.get("hooks", {})
        try:
            hooks.run_hooks(spec_hooks, "prestart", state)
            hooks.run_hooks(spec_hooks, "createRuntime", state)
            hooks.run_hooks(spec_hooks, "createContainer", state, enter_pid=pid)
        except HookError:
            # runtime.md: after a failed hook the container is stopped and
            # deleted, and the poststop hooks still run
            hooks.run_hooks_warning(
                spec_hooks, "poststop", {**state, "status": "stopped"}
            )
            raise


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
        try:
            self.socket_fd = _sys.unix_connect(path)
        except SyscallError as err:
            raise SeccompError(f"linux.seccomp.listenerPath: {err}") from err
        closing.callback(os.close, self.socket_fd)
        self.read_fd, self.write_fd = os.pipe()
        closing.callback(os.close, self.read_fd)
        closing.callback(self._close_write)

    def _close_write(self) -> None:
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def send_state(
        self, record: Record, pid: int = 0, status: str = Status.CREATED
    ) -> None:
        """Leave the agent's message for the filtered process to send.

        pid is that process's, the init's when 0; status is the container's.
        """
        if self.filter is None or self.write_fd < 0:
            return
        message = {
            "ociVersion": SPEC_VERSION,
            "fds": ["seccompFd"],
            "pid": pid or record.pid,
            "metadata": self.filter.listener_metadata,
            "state": hook_state(record, status),
        }
        os.write(self.write_fd, jsonio.dumps(message).encode())
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
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as err:
        raise PyruncError(f"write {path}: {err.strerror}") from err
