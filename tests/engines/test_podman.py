"""podman drives the runtime through conmon, with podman's own defaults.

Every scenario runs with pyrunc and with runc (the runtime_name parameter),
against one private podman configuration and storage for the test session.
podman keeps the runtime's state in the runtime's default root (/run/pyrunc,
/run/runc): it passes no --root when it runs as root.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engines.engines import (
    IMAGE,
    Podman,
    RecordedRuntime,
    command_of,
    podman_cgroup_parent,
    podman_cgroup_root,
    processes_naming,
    remove_cgroup_tree,
    runtime_state,
    sort_calls,
    wait_until,
)
from tests.support import children_of, mounts_under
from tests.tmux import Tmux

# A container that waits, ends on SIGTERM and notes a SIGUSR1 in a file
WAITER = (
    "echo started; trap 'exit 0' TERM; trap 'touch /tmp/usr1' USR1;"
    " while :; do sleep 0.1; done"
)

# What podman and conmon ask of a runtime along these scenarios
PODMAN_COMMANDS = {
    "create", "start", "exec --detach", "kill", "kill --all", "delete --force",
    "pause", "resume", "update", "checkpoint --help",
}  # fmt: skip


class PodmanDriver:
    """podman running containers with one recorded runtime, in the test's cgroup."""

    def __init__(self, podman: Podman, runtime: RecordedRuntime) -> None:
        self.podman = podman
        self.runtime = runtime
        self.names: list[str] = []

    def __call__(
        self, *args: str, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run podman with this runtime and return the finished process."""
        return self.podman("--runtime", self.runtime.name, *args, timeout=timeout)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `podman run` with args in the test's cgroup parent."""
        parent = podman_cgroup_parent(self.runtime.name)
        return self("run", "--cgroup-parent", parent, *args)

    def detached(self, name: str, *flags: str, script: str = WAITER) -> str:
        """Start a container running script in the background; return its name."""
        name = f"{self.runtime.name}-{name}"
        self.names.append(name)
        result = self.run("--detach", "--name", name, *flags, IMAGE, "sh", "-c", script)
        assert result.returncode == 0, result.stderr
        return name

    def inspect(self, name: str) -> dict[str, Any]:
        """Return podman's inspection of a container."""
        result = self("container", "inspect", name)
        assert result.returncode == 0, result.stderr
        found: dict[str, Any] = json.loads(result.stdout)[0]
        return found

    def runtime_state(self, name: str) -> dict[str, Any]:
        """Return the runtime's own `state` of a container, from its default root."""
        root = Path(f"/run/{self.runtime.name}")
        return runtime_state(self.runtime, root, self.inspect(name)["Id"])

    def cgroup_file(
        self, name: str, controller: str, v1_file: str, v2_file: str
    ) -> str:
        """Return the content of a file of the container's cgroup, read on the host."""
        pid = self.inspect(name)["State"]["Pid"]
        for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if controller in names.split(","):
                base = Path("/sys/fs/cgroup") / names / path.lstrip("/")
                return (base / v1_file).read_text().strip()
        base = Path("/sys/fs/cgroup") / path.lstrip("/")
        return (base / v2_file).read_text().strip()

    def remove_all(self) -> None:
        """Remove every container this driver started, and reap its conmons."""
        for name in self.names:
            self("rm", "--force", "--time", "0", name)
        reap_conmons()


def reap_conmons() -> None:
    """Reap exited conmons, which this process inherits as the child subreaper."""
    for pid, state in children_of(os.getpid()):
        if state == "Z" and Path(f"/proc/{pid}/comm").read_text() == "conmon\n":
            os.waitpid(pid, 0)


@pytest.fixture
def podman_driver(
    podman: Podman, image_archive: Path, runtime_name: str
) -> Iterator[PodmanDriver]:
    """podman running containers with the runtime under test; removed after."""
    runtime = next(r for r in podman.runtimes if r.name == runtime_name)
    driver = PodmanDriver(podman, runtime)
    try:
        yield driver
    finally:
        driver.remove_all()


def test_run_rm_applies_the_default_seccomp_profile(
    podman_driver: PodmanDriver,
) -> None:
    script = "echo hello; grep '^Seccomp:' /proc/self/status; exit 3"

    result = podman_driver.run("--rm", IMAGE, "sh", "-c", script)

    assert result.returncode == 3, result.stderr
    assert result.stdout.split("\n")[:2] == ["hello", "Seccomp:\t2"]


def test_detached_exec_logs_stop_and_rm(podman_driver: PodmanDriver) -> None:
    name = podman_driver.detached("life")
    container_id = podman_driver.inspect(name)["Id"]

    executed = podman_driver("exec", name, "sh", "-c", "echo from exec; exit 5")
    logs = podman_driver("logs", name)
    stopped = podman_driver("stop", name)
    exit_code = podman_driver.inspect(name)["State"]["ExitCode"]
    removed = podman_driver("rm", name)

    assert (executed.returncode, executed.stdout) == (5, "from exec\n"), executed.stderr
    assert logs.stdout == "started\n", logs.stderr
    assert stopped.returncode == 0, stopped.stderr
    assert exit_code == 0
    assert removed.returncode == 0, removed.stderr
    assert not Path(f"/run/{podman_driver.runtime.name}/{container_id}").exists()


def test_exec_interactive_with_a_terminal(
    podman_driver: PodmanDriver, tmux: Tmux
) -> None:
    name = podman_driver.detached("exectty")
    argv = [
        "podman",
        "--runtime",
        podman_driver.runtime.name,
        "exec",
        "-it",
        name,
        "sh",
    ]
    tmux.start(argv, env=podman_driver.podman.config_env())

    tmux.wait_for("/ # ")
    tmux.type("tty; echo $((6 * 7))")
    screen = tmux.wait_for("42")
    tmux.type("exit 6")

    assert any(line.startswith("/dev/pts/") for line in screen)
    assert tmux.exit_status() == 6


def test_pause_and_unpause(podman_driver: PodmanDriver) -> None:
    name = podman_driver.detached("pause")

    paused = podman_driver("pause", name)
    status_paused = podman_driver.inspect(name)["State"]["Status"]
    state_paused = podman_driver.runtime_state(name)["status"]
    resumed = podman_driver("unpause", name)

    assert paused.returncode == 0, paused.stderr
    assert (status_paused, state_paused) == ("paused", "paused")
    assert resumed.returncode == 0, resumed.stderr
    assert podman_driver.inspect(name)["State"]["Status"] == "running"
    assert podman_driver.runtime_state(name)["status"] == "running"


def test_memory_and_pids_limits_are_enforced(podman_driver: PodmanDriver) -> None:
    name = podman_driver.detached("limits", "--memory", "32m", "--pids-limit", "20")
    forks = "for i in $(seq 40); do sleep 5 & done"
    # dd reads 64 MiB from /dev/zero into one buffer, which the limit forbids
    allocate = "dd if=/dev/zero of=/dev/null bs=64M count=1"

    memory = podman_driver.cgroup_file(
        name, "memory", "memory.limit_in_bytes", "memory.max"
    )
    pids = podman_driver.cgroup_file(name, "pids", "pids.max", "pids.max")
    allocated = podman_driver("exec", name, "sh", "-c", allocate)
    forked = podman_driver("exec", name, "sh", "-c", forks)

    assert (memory, pids) == (str(32 << 20), "20")
    assert allocated.returncode == 137, allocated.stderr
    assert "can't fork" in forked.stderr


def test_update_changes_the_limits(podman_driver: PodmanDriver) -> None:
    name = podman_driver.detached("update", "--memory", "32m")

    updated = podman_driver("update", "--memory", "64m", "--cpu-quota", "50000", name)
    memory = podman_driver.cgroup_file(
        name, "memory", "memory.limit_in_bytes", "memory.max"
    )
    cpu = podman_driver.cgroup_file(name, "cpu", "cpu.cfs_quota_us", "cpu.max")

    assert updated.returncode == 0, updated.stderr
    assert memory == str(64 << 20)
    assert cpu.split()[0] == "50000"


def test_kill_with_a_signal(podman_driver: PodmanDriver) -> None:
    name = podman_driver.detached("kill")

    killed = podman_driver("kill", "--signal", "USR1", name)

    assert killed.returncode == 0, killed.stderr
    wait_until(
        lambda: podman_driver("exec", name, "test", "-e", "/tmp/usr1").returncode == 0,
        "SIGUSR1's delivery",
    )


def test_stop_in_the_host_pid_namespace_signals_every_process(
    podman_driver: PodmanDriver,
) -> None:
    name = podman_driver.detached("hostpid", "--pid", "host")
    pid = podman_driver.inspect(name)["State"]["Pid"]

    stopped = podman_driver("stop", name)

    assert stopped.returncode == 0, stopped.stderr
    assert podman_driver.inspect(name)["State"]["Status"] == "exited"
    assert not Path(f"/proc/{pid}/cmdline").exists()


def test_a_missing_command_is_reported_as_not_found(
    podman_driver: PodmanDriver,
) -> None:
    result = podman_driver.run("--rm", IMAGE, "no-such-command")

    assert result.returncode == 127
    assert (
        'exec: "no-such-command": executable file not found in $PATH' in result.stderr
    )


def test_checkpoint_is_refused_and_the_container_runs_on(
    podman_driver: PodmanDriver,
) -> None:
    name = podman_driver.detached("checkpoint")

    result = podman_driver("container", "checkpoint", name)

    # pyrunc has no checkpoint; runc's needs CRIU, which fails on this kernel
    assert result.returncode != 0
    if podman_driver.runtime.name == "pyrunc":
        assert "checkpoint/restore is not supported by pyrunc" in result.stderr
    assert podman_driver.inspect(name)["State"]["Status"] == "running"


def test_every_command_line_was_understood(podman: Podman, runtime_name: str) -> None:
    recorded = next(r for r in podman.runtimes if r.name == runtime_name)
    calls = recorded.calls()
    if not calls:
        pytest.skip("no scenario of this module has run")

    commands, rejected = sort_calls(calls)
    failed = {command_of(call.argv) for call in calls if call.status != 0}

    assert rejected == []
    assert commands >= PODMAN_COMMANDS
    # only the create of the missing command, and checkpoint, may fail
    assert failed <= {"create", "checkpoint"}


def test_reset_leaves_nothing_behind(podman: Podman) -> None:
    podman.reset()
    reap_conmons()

    assert processes_naming(str(podman.workdir)) == []
    assert mounts_under(podman.workdir) == []
    assert remove_cgroup_tree(podman_cgroup_root()) == []
