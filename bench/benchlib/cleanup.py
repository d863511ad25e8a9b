"""Remove everything a benchmark or conformance run made, and report what is left.

Order matters: containers are deleted through their runtime first, then
any process still in the run's cgroups is killed (only processes in
cgroups named after this run, so only ours), then the cgroups, mounts and
the temporary directory go.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from benchlib import cgroups, proc
from benchlib.mounts import mounted_under


class Runtime(Protocol):
    """What cleaning needs of a runtime: its name, state root and command line."""

    @property
    def name(self) -> str: ...

    @property
    def root(self) -> Path: ...

    def argv(self, *args: str) -> list[str]: ...


class Workspace(Protocol):
    """What cleaning needs of a run: its directory and its cgroups' name."""

    dir: Path
    cgroup_parent: str


def delete_containers(runtimes: Sequence[Runtime], tool: str = "bench") -> None:
    """Force-delete every container left in each runtime's state root."""
    for runtime in runtimes:
        if not runtime.root.is_dir():
            continue
        left = [entry.name for entry in runtime.root.iterdir() if entry.is_dir()]
        if left:
            count = len(left)
            print(f"{tool}: {runtime.name} left {count} containers", file=sys.stderr)
        for container_id in sorted(left):
            proc.run(runtime.argv("delete", "--force", container_id), timeout=30)


def _names_directory(pid: int, directory: Path) -> bool:
    return str(directory).encode() in Path(f"/proc/{pid}/cmdline").read_bytes()


def _stat_fields(pid: int) -> list[str]:
    # fields after "pid (comm)", which may itself hold spaces and parentheses
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _parents() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parents[int(entry)] = int(_stat_fields(int(entry))[1])
    return parents


def _descendants(pids: set[int], parents: dict[int, int]) -> set[int]:
    found = set(pids)
    while True:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        if not more:
            return found
        found |= more


def workspace_pids(directory: Path) -> set[int]:
    """Return the processes whose command line names the run's directory.

    They are runtimes this run started, or copies they forked, such as a
    container's init whose runtime died before handing it over; their
    descendants are included.
    """
    parents = _parents()
    naming = set()
    for pid in parents:
        if pid != os.getpid():
            with contextlib.suppress(OSError):
                if _names_directory(pid, directory):
                    naming.add(pid)
    return _descendants(naming, parents)


def _start_times(pids: set[int]) -> dict[int, str]:
    times = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            times[pid] = _stat_fields(pid)[19]
    return times


def _kill_same(pid: int, start_time: str) -> None:
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        # the pidfd pins the process: if its start time still matches, the
        # signal goes to the process found earlier, not to a reused pid
        if _stat_fields(pid)[19] == start_time:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except (ProcessLookupError, FileNotFoundError):
        pass
    finally:
        os.close(pidfd)


def _ours(workspace: Workspace) -> set[int]:
    directories = cgroups.dirs_named(workspace.cgroup_parent)
    return cgroups.procs_in(directories) | workspace_pids(workspace.dir)


def kill_stragglers(workspace: Workspace, wait: float = 2.0) -> None:
    """SIGKILL what this run left running, and wait for it to go.

    That is every process in the run's cgroups and every process whose
    command line names the run's directory, with its descendants.
    """
    for pid, start_time in _start_times(_ours(workspace)).items():
        _kill_same(pid, start_time)
    deadline = time.monotonic() + wait
    while _ours(workspace) and time.monotonic() < deadline:
        time.sleep(0.02)


def unmount_under(path: Path) -> None:
    """Lazily unmount anything mounted at or below path, newest first."""
    for mountpoint in reversed(mounted_under(str(path))):
        subprocess.run(["umount", "--lazy", mountpoint], check=False)


def clean(
    workspace: Workspace, runtimes: Sequence[Runtime], tool: str = "bench"
) -> None:
    """Remove containers, processes, cgroups, mounts and files of this run.

    A step that fails is reported on stderr, naming tool, and the next one
    still runs.
    """

    def attempt(step: str, action: Callable[..., object], *args: object) -> None:
        try:
            action(*args)
        except Exception as err:
            print(f"{tool}: cleanup: {step}: {err}", file=sys.stderr)

    attempt("delete containers", delete_containers, runtimes, tool)
    attempt("kill stragglers", kill_stragglers, workspace)
    parent_dirs = cgroups.dirs_named(workspace.cgroup_parent)
    attempt("remove cgroups", cgroups.remove, parent_dirs)
    attempt("unmount", unmount_under, workspace.dir)
    attempt("remove files", shutil.rmtree, workspace.dir)


def leftovers(workspace: Workspace) -> list[str]:
    """Return a line for each thing of this run that still exists."""
    found = [f"mount {point}" for point in mounted_under(str(workspace.dir))]
    found += [f"process {pid}" for pid in sorted(_ours(workspace))]
    directories = cgroups.dirs_named(workspace.cgroup_parent)
    found += [f"cgroup {directory}" for directory in directories]
    if workspace.dir.exists():
        found.append(f"directory {workspace.dir}")
    return found
