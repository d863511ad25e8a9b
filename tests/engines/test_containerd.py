"""containerd drives the runtime through containerd-shim-runc-v2, as ctr asks it to.

Every scenario runs with pyrunc and with runc (the runtime_name parameter),
against one private containerd started for the test session.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engines.engines import (
    IMAGE,
    Containerd,
    RecordedRuntime,
    command_of,
    runtime_state,
    sort_calls,
    wait_until,
)
from tests.support import CGROUP_PARENT, cgroup_parent_dirs, mounts_under
from tests.tmux import Tmux

# A task that waits, and notes a SIGUSR1 in a file
WAITER = "trap 'touch /tmp/usr1' USR1; while :; do sleep 0.1; done"

# What containerd-shim-runc-v2 asks of a runtime along these scenarios
SHIM_COMMANDS = {
    "create", "start", "exec --detach", "ps", "pause", "resume",
    "kill", "kill --all", "delete", "delete --force",
}  # fmt: skip


class Ctr:
    """ctr against the test's containerd, running tasks with one recorded runtime."""

    def __init__(self, daemon: Containerd, runtime: RecordedRuntime) -> None:
        self.daemon = daemon
        self.runtime = runtime
        self.root = daemon.workdir / f"{runtime.name}-root"
        self.container_ids: list[str] = []

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ctr with args and return the finished process."""
        return self.daemon.ctr(*args)

    def run_argv(self, container_id: str, *flags_then_args: str) -> list[str]:
        """Return `ctr run` with this runtime, flags, the image, the ID and args.

        flags_then_args holds ctr's flags, then "--", then the command.
        """
        self.container_ids.append(container_id)
        split = flags_then_args.index("--")
        flags, args = flags_then_args[:split], flags_then_args[split + 1 :]
        return self.daemon.ctr_argv(
            "run",
            "--runc-binary", str(self.runtime.binary),
            "--runc-root", str(self.root),
            "--fifo-dir", str(self.daemon.fifo_dir),
            "--cgroup", f"{CGROUP_PARENT}/ctr-{container_id}",
            *flags, IMAGE, container_id, *args,
        )  # fmt: skip

    def run(
        self, container_id: str, *flags_then_args: str
    ) -> subprocess.CompletedProcess[str]:
        """Run `ctr run` (see run_argv) and return the finished process."""
        return subprocess.run(
            self.run_argv(container_id, *flags_then_args),
            capture_output=True,
            text=True,
            timeout=60,
        )

    def detached(self, name: str, script: str = WAITER) -> str:
        """Start a task running script in the background; return its ID."""
        container_id = f"{self.runtime.name}-{name}"
        result = self.run(container_id, "--detach", "--", "sh", "-c", script)
        assert result.returncode == 0, result.stderr
        return container_id

    def exec_argv(
        self, container_id: str, exec_id: str, *args: str, tty: bool = False
    ) -> list[str]:
        """Return `ctr task exec` of args in the task, under exec_id."""
        return self.daemon.ctr_argv(
            "task", "exec", "--fifo-dir", str(self.daemon.fifo_dir),
            "--exec-id", exec_id, *(["--tty"] if tty else []), container_id, *args,
        )  # fmt: skip

    def exec(
        self, container_id: str, exec_id: str, *args: str, detach: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run args in the task and return the finished ctr."""
        argv = self.exec_argv(container_id, exec_id, *args)
        if detach:
            argv.insert(argv.index(container_id), "--detach")
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    def task_status(self, container_id: str) -> str | None:
        """Return the task's status as `ctr task ls` shows it, or None."""
        for line in self("task", "list").stdout.splitlines()[1:]:
            task, _, status = line.split()
            if task == container_id:
                return status
        return None

    def wait_status(self, container_id: str, status: str, timeout: float = 10) -> None:
        """Wait until the task shows status."""
        wait_until(
            lambda: self.task_status(container_id) == status,
            f"status {status}",
            timeout,
        )

    def runtime_state(self, container_id: str) -> dict[str, Any]:
        """Return the runtime's own `state` of the container."""
        return runtime_state(self.runtime, self.root / "default", container_id)

    def leftovers(self, container_id: str) -> list[str]:
        """Return what remains of a removed container: in ctr, state or cgroups."""
        found = []
        if container_id in self("containers", "list", "--quiet").stdout.split():
            found.append(f"ctr container {container_id}")
        if (self.root / "default" / container_id).exists():
            found.append(f"state directory {self.root / 'default' / container_id}")
        found += [
            str(parent / f"ctr-{container_id}")
            for parent in cgroup_parent_dirs()
            if (parent / f"ctr-{container_id}").exists()
        ]
        return found

    def remove_all(self) -> None:
        """Kill and remove every task and container this driver ran."""
        for container_id in self.container_ids:
            self("task", "kill", "--all", "--signal", "SIGKILL", container_id)
            self("task", "delete", "--force", container_id)
            self("containers", "delete", container_id)


@pytest.fixture
def ctr(
    containerd: Containerd,
    containerd_runtimes: dict[str, RecordedRuntime],
    runtime_name: str,
) -> Iterator[Ctr]:
    """ctr running tasks with the runtime under test; they are removed after."""
    driver = Ctr(containerd, containerd_runtimes[runtime_name])
    try:
        yield driver
    finally:
        driver.remove_all()


def pids_of(ctr: Ctr, container_id: str) -> list[int]:
    """Return the pids `ctr task ps` lists."""
    result = ctr("task", "ps", container_id)
    assert result.returncode == 0, result.stderr
    return [int(line.split()[0]) for line in result.stdout.splitlines()[1:]]


def cmdline(pid: int) -> bytes:
    """Return a process's command line, empty once it has gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_run_rm_prints_output_and_passes_the_exit_status(ctr: Ctr) -> None:
    container_id = f"{ctr.runtime.name}-rm"

    result = ctr.run(container_id, "--rm", "--", "sh", "-c", "echo hello; exit 3")

    assert (result.returncode, result.stdout) == (3, "hello\n"), result.stderr
    assert ctr.leftovers(container_id) == []


def test_exec_prints_output_and_passes_the_exit_status(ctr: Ctr) -> None:
    container_id = ctr.detached("exec")

    result = ctr.exec(container_id, "e1", "sh", "-c", "echo from exec; exit 5")

    assert (result.returncode, result.stdout) == (5, "from exec\n"), result.stderr


def test_ps_lists_the_init_and_a_detached_exec(ctr: Ctr) -> None:
    container_id = ctr.detached("ps")
    init = ctr.runtime_state(container_id)["pid"]

    started = ctr.exec(container_id, "sleeper", "sleep", "1000", detach=True)
    pids = pids_of(ctr, container_id)

    assert started.returncode == 0, started.stderr
    assert init in pids
    # the waiter's own short sleeps come and go beside the exec'd one
    assert b"sleep\x001000\x00" in [cmdline(pid) for pid in pids if pid != init]


def test_pause_and_resume(ctr: Ctr) -> None:
    container_id = ctr.detached("pause")

    paused = ctr("task", "pause", container_id)
    status_paused = ctr.task_status(container_id)
    state_paused = ctr.runtime_state(container_id)["status"]
    resumed = ctr("task", "resume", container_id)

    assert paused.returncode == 0, paused.stderr
    assert (status_paused, state_paused) == ("PAUSED", "paused")
    assert resumed.returncode == 0, resumed.stderr
    assert ctr.task_status(container_id) == "RUNNING"
    assert ctr.runtime_state(container_id)["status"] == "running"


def test_kill_a_signal_then_all_processes(ctr: Ctr) -> None:
    container_id = ctr.detached("kill")
    ctr.exec(container_id, "sleeper", "sleep", "1000", detach=True)
    pids = pids_of(ctr, container_id)

    signalled = ctr("task", "kill", "--signal", "SIGUSR1", container_id)
    wait_until(
        lambda: (
            ctr.exec(container_id, "look", "test", "-e", "/tmp/usr1").returncode == 0
        ),
        "SIGUSR1's delivery",
    )
    killed = ctr("task", "kill", "--all", "--signal", "SIGKILL", container_id)
    ctr.wait_status(container_id, "STOPPED")
    removed = ctr("task", "delete", container_id)

    assert signalled.returncode == 0, signalled.stderr
    assert killed.returncode == 0, killed.stderr
    assert removed.returncode == 0, removed.stderr
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]


def test_kill_sends_sigterm_by_default(ctr: Ctr) -> None:
    container_id = ctr.detached("sigterm", "trap 'exit 7' TERM; " + WAITER)

    killed = ctr("task", "kill", container_id)
    ctr.wait_status(container_id, "STOPPED")
    removed = ctr("task", "delete", container_id)

    assert killed.returncode == 0, killed.stderr
    assert "exit code 7" in removed.stderr


def test_task_rm_force_removes_a_running_task(ctr: Ctr) -> None:
    container_id = ctr.detached("rmforce")
    init = ctr.runtime_state(container_id)["pid"]

    removed = ctr("task", "delete", "--force", container_id)
    deleted = ctr("containers", "delete", container_id)

    assert removed.returncode == 0, removed.stderr
    assert deleted.returncode == 0, deleted.stderr
    assert not Path(f"/proc/{init}").exists()
    assert ctr.leftovers(container_id) == []


def test_run_with_a_terminal(ctr: Ctr, tmux: Tmux) -> None:
    container_id = f"{ctr.runtime.name}-tty"
    tmux.start(ctr.run_argv(container_id, "--tty", "--rm", "--", "sh"))

    tmux.wait_for("/ # ")
    tmux.type("tty; echo $((6 * 7))")
    screen = tmux.wait_for("42")
    tmux.type("exit 4")

    assert "/dev/pts/0" in screen
    assert tmux.exit_status() == 4


def test_exec_with_a_terminal(ctr: Ctr, tmux: Tmux) -> None:
    container_id = ctr.detached("exectty")
    tmux.start(ctr.exec_argv(container_id, "shell", "sh", tty=True))

    tmux.wait_for("/ # ")
    tmux.type("tty; echo $((6 * 7))")
    screen = tmux.wait_for("42")
    tmux.type("exit 6")

    assert any(line.startswith("/dev/pts/") for line in screen)
    assert tmux.exit_status() == 6


def test_a_failed_start_shows_the_runtime_error(ctr: Ctr) -> None:
    container_id = f"{ctr.runtime.name}-fails"

    result = ctr.run(container_id, "--rm", "--", "/no/such/program")

    assert result.returncode != 0
    assert f"{ctr.runtime.name} create failed" in result.stderr
    assert 'exec: "/no/such/program"' in result.stderr
    assert "no such file or directory" in result.stderr
    assert ctr.leftovers(container_id) == []


def test_every_command_line_was_understood(
    containerd_runtimes: dict[str, RecordedRuntime], runtime_name: str
) -> None:
    recorded = containerd_runtimes[runtime_name]
    calls = recorded.calls()
    if not calls:
        pytest.skip("no scenario of this module has run")

    commands, rejected = sort_calls(calls)
    failed = {command_of(call.argv) for call in calls if call.status != 0}

    assert all("--log-format" in call.argv for call in calls)
    assert rejected == []
    assert commands >= SHIM_COMMANDS
    # only the create of the program that does not exist may fail
    assert failed <= {"create"}


def test_stopping_containerd_leaves_nothing_behind(containerd: Containerd) -> None:
    containerd.stop()

    assert containerd.process is not None and containerd.process.poll() is not None
    assert containerd.shims() == []
    assert containerd.shim_sockets() <= containerd.sockets_before
    assert mounts_under(containerd.workdir) == []
    assert not list(containerd.workdir.glob("*-root/default/*"))
    assert not [
        path for parent in cgroup_parent_dirs() for path in parent.glob("ctr-*")
    ]
