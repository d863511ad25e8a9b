"""Remove everything a run made, even after a failure, and report leftovers.

Order matters: containers are deleted through their runtime first, then
any process still in the suite's cgroups is killed (cgroups named after
this run hold only containers it started), then the cgroups, the mounts
under the workspace and the workspace itself go.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchlib import cgroups
from benchlib.mounts import mounted_under

from conflib.runtimes import Runtime
from conflib.workspace import Workspace


def delete_containers(runtimes: list[Runtime]) -> None:
    """Force-delete every container left in each runtime's state root."""
    for runtime in runtimes:
        if not runtime.root.is_dir():
            continue
        for entry in sorted(runtime.root.iterdir()):
            if entry.is_dir():
                runtime.call("delete", "--force", entry.name, timeout=30)


def _start_time(pid: int) -> str:
    # fields after "pid (comm)", which may itself hold spaces and parentheses
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


def _kill_same(pid: int, start_time: str) -> None:
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        # the pidfd pins the process: a matching start time means it is
        # still the one found in the cgroup, not a reused pid
        if _start_time(pid) == start_time:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except (ProcessLookupError, FileNotFoundError):
        pass
    finally:
        os.close(pidfd)


def _ours(workspace: Workspace) -> set[int]:
    return cgroups.procs_in(cgroups.dirs_named(workspace.cgroup_parent))


def kill_stragglers(workspace: Workspace, wait: float = 2.0) -> None:
    """SIGKILL the processes left in this run's cgroups and wait for them."""
    for pid in _ours(workspace):
        with contextlib.suppress(OSError, IndexError):
            _kill_same(pid, _start_time(pid))
    deadline = time.monotonic() + wait
    while _ours(workspace) and time.monotonic() < deadline:
        time.sleep(0.02)


def unmount_under(path: Path) -> None:
    """Lazily unmount anything mounted at or below path, newest first."""
    for mountpoint in reversed(mounted_under(str(path))):
        subprocess.run(["umount", "--lazy", mountpoint], check=False)


def _attempt(step: str, action: Callable[..., object], *args: object) -> None:
    try:
        action(*args)
    except Exception as err:
        print(f"conformance: cleanup: {step}: {err}", file=sys.stderr)


def clean(workspace: Workspace, runtimes: list[Runtime]) -> None:
    """Remove containers, processes, cgroups, mounts and files of this run."""
    _attempt("delete containers", delete_containers, runtimes)
    _attempt("kill stragglers", kill_stragglers, workspace)
    parents = cgroups.dirs_named(workspace.cgroup_parent)
    _attempt("remove cgroups", cgroups.remove, parents)
    _attempt("unmount", unmount_under, workspace.dir)
    _attempt("remove files", shutil.rmtree, workspace.dir)


def leftovers(workspace: Workspace) -> list[str]:
    """Return a line for each thing of this run that still exists."""
    found = [f"mount {point}" for point in mounted_under(str(workspace.dir))]
    found += [f"process {pid}" for pid in sorted(_ours(workspace))]
    directories = cgroups.dirs_named(workspace.cgroup_parent)
    found += [f"cgroup {directory}" for directory in directories]
    if workspace.dir.exists():
        found.append(f"directory {workspace.dir}")
    return found
