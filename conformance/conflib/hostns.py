"""Namespaces made by the suite for one case, for containers to join by path.

Most are bound to a file in the case's directory with util-linux unshare,
so they outlive the command that made them. A pid namespace needs a live
init as well, a `sleep` that dies with its unshare parent; a user namespace
is made by a helper, mapped and bound by the suite; a mount namespace is
joined through /proc/PID/ns/mnt of a helper. close() kills the helpers
and unmounts the files.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

# namespace type in config.json -> unshare option and /proc/PID/ns name
KINDS = {
    "network": ("--net", "net"),
    "ipc": ("--ipc", "ipc"),
    "uts": ("--uts", "uts"),
    "mount": ("--mount", "mnt"),
    "cgroup": ("--cgroup", "cgroup"),
    "time": ("--time", "time"),
    "user": ("--user", "user"),
    "pid": ("--pid", "pid"),
}
_HELPER_SECONDS = "600"
# container ID, host ID, size: the mapping of user namespaces the suite makes
USER_MAPPING = "0 100000 65536"


class HostNamespaces:
    """The namespaces one case made, and the helper processes that hold them."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.files: list[Path] = []
        self.helpers: list[subprocess.Popen[bytes]] = []

    def make(self, kind: str) -> Path:
        """Make a namespace of a config.json type and return its file.

        Raises:
            OSError, subprocess.CalledProcessError: unshare or mount failed.
        """
        option, name = KINDS[kind]
        if kind == "mount":
            return self._mount_namespace()
        path = self.dir / f"ns-{name}"
        path.touch()
        self.files.append(path)
        if kind == "pid":
            self._start_pid_holder(path)
        elif kind == "user":
            self._bind_user_namespace(path)
        else:
            _unshare([f"{option}={path}", "true"])
        return path

    def _helper(self, argv: list[str]) -> subprocess.Popen[bytes]:
        helper = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.helpers.append(helper)
        return helper

    def _mount_namespace(self) -> Path:
        # the kernel refuses to bind a newer mount namespace into an older
        # one (EINVAL), so the path is that of a live helper in it
        helper = self._helper(["unshare", "--mount", "sleep", _HELPER_SECONDS])
        _await_new(helper.pid, "mnt")
        return Path(f"/proc/{helper.pid}/ns/mnt")

    def _bind_user_namespace(self, path: Path) -> None:
        # unshare --user=FILE cannot bind the namespace here (EPERM), so a
        # helper makes one, the suite maps it (setgroups stays allowed) and
        # binds it to path
        helper = self._helper(["unshare", "--user", "sleep", _HELPER_SECONDS])
        _await_new(helper.pid, "user")
        for name in ("uid_map", "gid_map"):
            Path(f"/proc/{helper.pid}/{name}").write_text(USER_MAPPING + "\n")
        source = f"/proc/{helper.pid}/ns/user"
        subprocess.run(["mount", "--bind", source, str(path)], check=True)

    def _start_pid_holder(self, path: Path) -> None:
        before = os.stat(path).st_dev
        argv = ["unshare", f"--pid={path}", "--fork", "--kill-child"]
        self._helper([*argv, "sleep", _HELPER_SECONDS])
        deadline = time.monotonic() + 5
        while os.stat(path).st_dev == before and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        """Kill the helpers this case started and unmount its namespace files."""
        for helper in self.helpers:
            helper.kill()
            helper.wait()
        for path in reversed(self.files):
            subprocess.run(["umount", str(path)], capture_output=True, check=False)
        self.helpers.clear()
        self.files.clear()


def _unshare(args: list[str]) -> None:
    done = subprocess.run(["unshare", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise OSError(f"unshare {' '.join(args)}: {done.stderr.strip()}")


def _same_namespace(pid: int, name: str) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/ns/{name}") == own_link(name)
    except OSError:
        return True


def _await_new(pid: int, name: str) -> None:
    """Wait until a helper has left the suite's namespace of that name."""
    deadline = time.monotonic() + 5
    while _same_namespace(pid, name) and time.monotonic() < deadline:
        time.sleep(0.01)


def inode(path: Path | str) -> int:
    """Return the inode number that identifies the namespace bound at path."""
    return os.stat(path).st_ino


def own_link(name: str) -> str:
    """Return readlink /proc/self/ns/NAME of the suite itself."""
    return os.readlink(f"/proc/self/ns/{name}")
