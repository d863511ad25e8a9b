"""The parent's side of `exec`: a new process that joins a container's init.

The process is started by the same C executor as the init, and runs no
Python either. It waits at a sync point while this side writes it into the
container's cgroup in every hierarchy (or a cgroup below it that exec's
--cgroup names), so it runs nothing outside; it then
joins every namespace of the init, the user namespace last, forks into the
pid namespace, and takes on the rlimits, terminal, identity, no_new_privs
and seccomp filter of its process object before it executes. It stays
non-dumpable until execve, so the container's processes can neither ptrace
it nor open its files in /proc while it still holds the runtime's.
"""

from __future__ import annotations

import os

from pyrunc.cgroups import Manager
from pyrunc.errors import SyscallError
from pyrunc.log import get_logger
from pyrunc.process import launcher
from pyrunc.process.namespaces import SYNC_PLACE, enter_steps, first_steps
from pyrunc.process.plan import (
    InitOptions,
    console_steps,
    exec_steps,
    identity_steps,
    keeps_admin_for_seccomp,
    privilege_steps,
    rlimit_steps,
    session_steps,
)
from pyrunc.process.rootfs import home_directory
from pyrunc.state import Status

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pyrunc._sys import Step
    from pyrunc.container import ExecOptions
    from pyrunc.seccomp import Filter
    from pyrunc.state import Record

log = get_logger(__name__)


class Joiner:
    """One `exec`: a process started in the namespaces and cgroup of an init."""

    def __init__(self, record: Record, opts: ExecOptions) -> None:
        self.record = record
        self.opts = opts
        self.process: dict[str, Any] = opts.process
        self.enter: list[Step] = []
        self.fds: list[int] = []

    def open_namespaces(self) -> None:
        """Open the init's namespaces, which the process joins even if the init dies.

        Raises:
            SyscallError: a namespace file of the init cannot be opened.
        """
        try:
            self.enter, self.fds = enter_steps(self.record.pid)
        except OSError as err:
            raise SyscallError("open", err.errno or 0, err.filename or "") from err

    def close(self) -> None:
        """Close the namespace files."""
        for fd in self.fds:
            os.close(fd)
        self.fds = []

    def launch(self) -> int:
        """Start the process; return its pid once it is about to execute.

        Raises:
            InitError: a step of the process failed; it is killed and reaped.
            PyruncError: the seccomp profile or the cgroup placement failed.
        """
        try:
            seccomp = self._seccomp_filter()
            if seccomp is not None and seccomp.notifies:
                return self._launch_notifying(seccomp)
            return self._start(self._options(seccomp))
        finally:
            self.close()

    def _start(self, opts: InitOptions) -> int:
        child = launcher.start(0, self.plan(opts), {SYNC_PLACE: self._place})
        log.debug("exec: process %d started in container %s", child.pid, self.record.id)
        return child.pid

    def _launch_notifying(self, seccomp: Filter) -> int:
        from contextlib import ExitStack

        from pyrunc.process.creator import SeccompChannel

        with ExitStack() as closing:
            channel = SeccompChannel(seccomp, closing)
            opts = self._options(seccomp, channel.socket_fd, channel.read_fd)
            pid = self._start(opts)
            channel.send_state(self.record, pid, Status.RUNNING)
        return pid

    def _seccomp_filter(self) -> Filter | None:
        if not self.record.seccomp:
            return None
        from pyrunc.seccomp import compile_filter

        return compile_filter(self.record.seccomp)

    def _options(
        self, seccomp: Filter | None, listener_fd: int = -1, message_fd: int = -1
    ) -> InitOptions:
        uid = self.process.get("user", {}).get("uid", 0)
        return InitOptions(
            start_fd=-1,
            console_fd=self.opts.console_fd,
            extra_fds=self.opts.preserve_fds,
            keyring=self.record.id,
            home=home_directory(self.record.rootfs, uid),
            seccomp=seccomp,
            listener_fd=listener_fd,
            message_fd=message_fd,
        )

    def plan(self, opts: InitOptions) -> list[Step]:
        """Return the process's steps, from cgroup placement to execve.

        Unlike the init's, a missing cwd is an error, and without user.umask
        the umask is the caller's, as in runc.
        """
        process = self.process
        return [
            *first_steps(),
            *self.enter,
            *session_steps(opts),
            *rlimit_steps(process),
            *console_steps(process, opts.console_fd, None),
            *identity_steps(process, keeps_admin_for_seccomp(process, opts)),
            *privilege_steps(process, None),
            *exec_steps(process, opts),
        ]

    def _place(self, pid: int) -> None:
        manager = Manager(self.record.cgroups_path, self.record.cgroup_paths)
        manager.add(pid, self.opts.sub_cgroups)
