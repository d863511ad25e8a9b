"""Resource limits, pause and resume, ps, events and update on real containers.

They run on the host's cgroups, v1 or v2 (test_cgroups_v2.py runs them again
in a v2-only guest); where runc is installed the same bundle runs under it
too, and both must agree.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    Bundle,
    Runtime,
    cgroup_dir,
    container_cgroups,
    create,
    error_message,
    leftovers,
    make_sub_cgroup,
    runtime_argv,
    wait_for_file,
    wait_status,
)

MiB = 1 << 20


def v1_host() -> bool:
    """Tell whether this process is in v1 hierarchies (a v2-only host has none)."""
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    return any(line.split(":", 2)[1] for line in lines)


V2 = not v1_host()


def memory_limit(container_id: str) -> int:
    """Return the container's memory limit in bytes."""
    name = "memory.max" if V2 else "memory.limit_in_bytes"
    return read_number(cgroup_dir("memory", container_id) / name)


def swap_limit(container_id: str) -> int:
    """Return the container's memory+swap limit in bytes, as v1 counts it."""
    folder = cgroup_dir("memory", container_id)
    if V2:
        return read_number(folder / "memory.swap.max") + memory_limit(container_id)
    return read_number(folder / "memory.memsw.limit_in_bytes")


def cpu_usage(container_id: str) -> float:
    """Return the CPU seconds the container has used."""
    if V2:
        stat = (cgroup_dir("cpu", container_id) / "cpu.stat").read_text().split()
        return int(stat[stat.index("usage_usec") + 1]) / 1e6
    return read_number(cgroup_dir("cpuacct", container_id) / "cpuacct.usage") / 1e9


def frozen(container_id: str) -> bool:
    """Tell whether the container's cgroup is frozen."""
    if V2:
        return (cgroup_dir("", container_id) / "cgroup.freeze").read_text() == "1\n"
    state = cgroup_dir("freezer", container_id) / "freezer.state"
    return state.read_text() == "FROZEN\n"


def resources(bundle: Bundle) -> dict[str, Any]:
    """Return the bundle's linux.resources, made if missing."""
    linux = bundle.config.setdefault("linux", {})
    found: dict[str, Any] = linux.setdefault("resources", {})
    return found


def started(runtime: Runtime, bundle: Bundle, container_id: str, script: str) -> None:
    """Create and start a container running script."""
    bundle.shell(script)
    result = create(runtime, bundle, container_id)
    assert result.returncode == 0, result.stderr
    result = runtime("start", container_id)
    assert result.returncode == 0, result.stderr


def read_number(path: Path) -> int:
    """Return the number a cgroup or rootfs file holds."""
    return int(path.read_text().split()[0])


def wait_number(path: Path, timeout: float = 5.0) -> int:
    """Wait until path holds a number and return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return read_number(path)
        except (FileNotFoundError, IndexError, ValueError):
            time.sleep(0.02)
    raise AssertionError(f"{path} holds no number after {timeout}s")


@pytest.fixture
def events_process(pyrunc: Runtime) -> Iterator[list[subprocess.Popen[str]]]:
    """Started `events` processes, stopped after the test."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


# memory


def test_memory_limit_oom_kills_and_events_report_it(
    pyrunc: Runtime, bundle: Bundle, events_process: list[subprocess.Popen[str]]
) -> None:
    resources(bundle)["memory"] = {"limit": 8 * MiB, "swap": 8 * MiB}
    bundle.shell(
        "while [ ! -e /go ]; do sleep 0.05; done;"
        " dd if=/dev/zero of=/dev/null bs=32M count=1; echo $? > /dd-status;"
        " sleep 30"
    )
    assert create(pyrunc, bundle, "oom").returncode == 0
    assert memory_limit("oom") == 8 * MiB
    events = subprocess.Popen(
        runtime_argv(pyrunc, "events", "--interval", "1s", "oom"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    events_process.append(events)
    assert events.stdout is not None
    assert pyrunc("start", "oom").returncode == 0
    # events watches for OOM before its first statistics line
    assert json.loads(events.stdout.readline())["type"] == "stats"
    (bundle.rootfs / "go").touch()

    assert wait_number(bundle.rootfs / "dd-status") == 137  # dd died of SIGKILL
    lines: list[dict[str, Any]] = []
    while len(lines) < 30 and not (lines and lines[-1]["type"] == "oom"):
        lines.append(json.loads(events.stdout.readline()))
    assert lines[-1] == {"type": "oom", "id": "oom"}
    assert {line["type"] for line in lines[:-1]} <= {"stats"}


def test_busybox_runs_with_4mib_of_memory(pyrunc: Runtime, bundle: Bundle) -> None:
    # runc is left out: its own init is at times OOM-killed at this limit
    resources(bundle)["memory"] = {"limit": 4 * MiB}
    bundle.set_args("echo", "hello")

    result = pyrunc.run(bundle, "small")

    assert (result.returncode, result.stdout) == (0, "hello\n"), result.stderr


# pids


def test_pids_limit_makes_fork_fail(pyrunc: Runtime, bundle: Bundle) -> None:
    resources(bundle)["pids"] = {"limit": 5}
    started(
        pyrunc,
        bundle,
        "forks",
        # a failed fork ends the inner shell; the outer one goes on
        "sh -c 'i=0; while [ $i -lt 10 ]; do sleep 30 & i=$((i+1)); done'"
        " 2>/forks.err; : > /done; exec sleep 30",
    )
    assert wait_for_file(bundle.rootfs / "done")

    assert "can't fork" in (bundle.rootfs / "forks.err").read_text()
    pids = cgroup_dir("pids", "forks")
    assert "max 1" in (pids / "pids.events").read_text()  # one fork refused
    listed = json.loads(pyrunc("ps", "--format", "json", "forks").stdout)
    assert (
        len(listed) == read_number(pids / "pids.current") == 4
    )  # the init and 3 sleeps


# cpu


def test_cpu_quota_holds_a_busy_loop_to_its_share(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    resources(bundle)["cpu"] = {"quota": 20000, "period": 100000}
    started(pyrunc, bundle, "busy", "while :; do :; done")
    time.sleep(0.3)

    before, start = cpu_usage("busy"), time.monotonic()
    time.sleep(1.0)
    used = (cpu_usage("busy") - before) / (time.monotonic() - start)
    assert 0.1 < used < 0.3, f"used {used:.2f} of a CPU under a 20% quota"


# pause and resume


def test_pause_freezes_and_resume_goes_on(pyrunc: Runtime, bundle: Bundle) -> None:
    count = bundle.rootfs / "count"
    started(
        pyrunc,
        bundle,
        "counter",
        "i=0; while :; do i=$((i+1)); echo $i > /count.new;"
        " mv /count.new /count; sleep 0.02; done",
    )
    wait_number(count)
    assert pyrunc("pause", "counter").returncode == 0
    assert pyrunc.state("counter")["status"] == "paused"
    assert frozen("counter")

    frozen_at = read_number(count)
    time.sleep(0.4)
    assert read_number(count) == frozen_at
    assert pyrunc("resume", "counter").returncode == 0
    assert pyrunc.state("counter")["status"] == "running"
    assert not frozen("counter")
    time.sleep(0.4)
    assert read_number(count) > frozen_at


@pytest.mark.runc
def test_paused_container_rules_match_runc(
    pyrunc: Runtime, runc: Runtime, make_bundle: Any
) -> None:
    for runtime in (runc, pyrunc):
        bundle = make_bundle(runtime.name).shell("sleep 30")
        name = f"rules-{runtime.name}"
        assert create(runtime, bundle, name).returncode == 0
        outcomes = []
        # a created container can be paused
        for command in ("pause", "start", "pause", "delete", "resume", "resume"):
            result = runtime(command, name)
            message = error_message(result.stderr) if result.returncode else ""
            outcomes.append((command, result.returncode, message))
        assert outcomes == [
            ("pause", 0, ""),
            ("start", 1, "cannot start a container in the paused state"),
            ("pause", 1, "container not running"),
            (
                "delete",
                1,
                f"cannot delete container {name} that is not stopped: paused",
            ),
            ("resume", 0, ""),
            ("resume", 1, "container not paused"),
        ], runtime.name
        assert runtime.state(name)["status"] == "created"
        assert runtime("start", name).returncode == 0
        assert runtime.state(name)["status"] == "running"


@pytest.mark.parametrize("how", [("kill", "rules", "KILL"), ("delete", "-f", "rules")])
def test_a_paused_container_dies_of_sigkill(
    pyrunc: Runtime, bundle: Bundle, how: tuple[str, ...]
) -> None:
    started(pyrunc, bundle, "rules", "sleep 30 & sleep 30")
    assert pyrunc("pause", "rules").returncode == 0

    result = pyrunc(*how)
    assert result.returncode == 0, result.stderr
    if how[0] == "kill":
        assert wait_status(pyrunc, "rules", "stopped")["status"] == "stopped"
        assert pyrunc("delete", "rules").returncode == 0
    assert leftovers(pyrunc, bundle, "rules") == []


def test_kill_all_keeps_a_paused_container_paused(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    started(pyrunc, bundle, "held", "trap 'echo got > /got' TERM; sleep 30 & wait")
    assert pyrunc("pause", "held").returncode == 0

    assert pyrunc("kill", "--all", "held", "TERM").returncode == 0
    assert pyrunc.state("held")["status"] == "paused"
    assert not (bundle.rootfs / "got").exists()


# update


def test_update_changes_a_live_memory_limit(pyrunc: Runtime, bundle: Bundle) -> None:
    resources(bundle)["memory"] = {"limit": 64 * MiB}
    started(pyrunc, bundle, "upd", "sleep 30")
    assert memory_limit("upd") == 64 * MiB

    result = pyrunc("update", "--memory", "32m", "--pids-limit", "7", "upd")
    assert result.returncode == 0, result.stderr
    assert memory_limit("upd") == 32 * MiB
    assert (cgroup_dir("pids", "upd") / "pids.max").read_text() == "7\n"

    new = {"memory": {"limit": 48 * MiB, "swap": 96 * MiB}, "cpu": {"shares": 512}}
    result = pyrunc("update", "--resources", "-", "upd", input=json.dumps(new))
    assert result.returncode == 0, result.stderr
    assert memory_limit("upd") == 48 * MiB
    if V2:
        weight = cgroup_dir("cpu", "upd") / "cpu.weight"
        assert read_number(weight) == 20  # runc's weight for 512 shares
        if (cgroup_dir("memory", "upd") / "memory.swap.max").exists():
            assert swap_limit("upd") == 96 * MiB
    else:
        assert swap_limit("upd") == 96 * MiB
        assert read_number(cgroup_dir("cpu", "upd") / "cpu.shares") == 512


def test_update_refuses_a_limit_below_usage_with_check_before_update(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    resources(bundle)["memory"] = {"limit": 64 * MiB, "checkBeforeUpdate": True}
    started(pyrunc, bundle, "check", "sleep 30")

    result = pyrunc("update", "--memory", "4096", "check")
    assert result.returncode == 1
    assert "checkBeforeUpdate" in error_message(result.stderr)
    assert memory_limit("check") == 64 * MiB


def test_update_of_a_stopped_container_fails(pyrunc: Runtime, bundle: Bundle) -> None:
    started(pyrunc, bundle, "done", "true")
    assert wait_status(pyrunc, "done", "stopped")["status"] == "stopped"

    result = pyrunc("update", "--memory", "32m", "done")
    assert result.returncode == 1
    assert error_message(result.stderr) == "container not running"


# ps


def test_ps_lists_the_containers_processes(pyrunc: Runtime, bundle: Bundle) -> None:
    started(pyrunc, bundle, "procs", "sleep 31 & sleep 32 & touch /up; wait")
    assert wait_for_file(bundle.rootfs / "up")

    pids = json.loads(pyrunc("ps", "--format", "json", "procs").stdout)
    assert len(pids) == 3
    table = pyrunc("ps", "procs")
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split()[:3] == ["UID", "PID", "PPID"]
    assert sorted(int(row.split()[1]) for row in rows) == sorted(pids)
    assert any("sleep 31" in row for row in rows)
    custom = pyrunc("ps", "procs", "--", "-o", "pid,comm").stdout.splitlines()
    assert custom[0].split() == ["PID", "COMMAND"]
    assert sorted(line.split()[1] for line in custom[1:]) == ["sh", "sleep", "sleep"]


# events


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Return the dotted paths of every key in a JSON document."""
    if not isinstance(value, dict):
        return set()
    found = set()
    for key, item in value.items():
        found.add(prefix + key)
        found |= key_paths(item, f"{prefix}{key}.")
    return found


@pytest.mark.runc
def test_events_stats_has_runcs_keys(
    pyrunc: Runtime, runc: Runtime, make_bundle: Any
) -> None:
    documents = {}
    for runtime in (runc, pyrunc):
        bundle = make_bundle(runtime.name)
        resources(bundle)["pids"] = {"limit": 50}
        started(runtime, bundle, f"stats-{runtime.name}", "sleep 30")
        result = runtime("events", "--stats", f"stats-{runtime.name}")
        assert result.returncode == 0, result.stderr
        documents[runtime.name] = json.loads(result.stdout)

    assert documents["pyrunc"]["type"] == documents["runc"]["type"] == "stats"
    assert documents["pyrunc"]["id"] == "stats-pyrunc"
    # a zero value drops its key (Go's omitempty), so only keys whose value
    # depends on a moment's activity may differ
    moment = {"data.memory.cache", "data.blkio.ioServiceBytesRecursive"}
    moment |= {"data.blkio.ioServicedRecursive", "data.cpu.throttling.periods"}
    ours, theirs = (key_paths(documents[n]) for n in ("pyrunc", "runc"))
    assert ours - moment == theirs - moment


def test_events_of_a_stopped_container(pyrunc: Runtime, bundle: Bundle) -> None:
    started(pyrunc, bundle, "gone", "true")
    assert wait_status(pyrunc, "gone", "stopped")["status"] == "stopped"

    result = pyrunc("events", "--stats", "gone")
    assert result.returncode == 1
    assert error_message(result.stderr) == "container with id gone is not running"


def test_events_end_when_the_container_is_deleted(
    pyrunc: Runtime, bundle: Bundle, events_process: list[subprocess.Popen[str]]
) -> None:
    started(pyrunc, bundle, "watched", "sleep 30")
    events = subprocess.Popen(
        runtime_argv(pyrunc, "events", "--interval", "100ms", "watched"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    events_process.append(events)
    assert events.stdout is not None
    first = json.loads(events.stdout.readline())
    assert (first["type"], first["id"]) == ("stats", "watched")
    assert first["data"]["pids"]["current"] == 1

    assert pyrunc("delete", "--force", "watched").returncode == 0
    events.communicate(timeout=10)  # reading on, so stats lines never block it
    assert events.returncode == 0


# devices


def fuse_bundle(bundle: Bundle, allowed: bool) -> Bundle:
    """A bundle with /dev/fuse (c 10:229, not a runc default), allowed or not."""
    bundle.config["linux"]["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}
    ]
    rules = resources(bundle).setdefault("devices", [])
    if allowed:
        rules.append(
            {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"}
        )
    return bundle.shell("exec 3>/dev/fuse && echo opened")


@pytest.mark.runc
@pytest.mark.parametrize("allowed", [True, False])
def test_device_allowlist(
    pyrunc: Runtime, runc: Runtime, make_bundle: Any, allowed: bool
) -> None:
    for runtime in (runc, pyrunc):
        bundle = fuse_bundle(make_bundle(runtime.name), allowed)
        result = runtime.run(bundle, f"fuse-{runtime.name}")
        if allowed:
            assert (result.returncode, result.stdout) == (0, "opened\n"), result.stderr
        else:
            assert result.returncode != 0, runtime.name
            assert "Operation not permitted" in result.stderr, runtime.name


@pytest.mark.runc
def test_runcs_default_devices_outrank_a_spec_deny(
    pyrunc: Runtime, runc: Runtime, make_bundle: Any
) -> None:
    # runc appends its default allow list after the spec's rules, so a deny
    # of /dev/null writes is undone; pyrunc keeps runc's order
    for runtime in (runc, pyrunc):
        bundle = make_bundle(runtime.name)
        resources(bundle).setdefault("devices", []).append(
            {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "w"}
        )
        bundle.shell("echo x > /dev/null && echo written")
        result = runtime.run(bundle, f"null-{runtime.name}")
        assert (result.returncode, result.stdout) == (0, "written\n"), runtime.name


# what the host cannot enforce


@pytest.mark.runc
@pytest.mark.skipif(
    V2, reason="on cgroup v2 hugetlb is a controller and runc ignores network"
)
@pytest.mark.parametrize(
    ("field", "value", "controller"),
    [
        ("hugepageLimits", [{"pageSize": "2MB", "limit": 2 * MiB}], "hugetlb"),
        ("network", {"classID": 1048577}, "net_cls"),
    ],
)
def test_an_unenforceable_limit_fails_as_under_runc(
    pyrunc: Runtime,
    runc: Runtime,
    make_bundle: Any,
    field: str,
    value: Any,
    controller: str,
) -> None:
    if Path(f"/sys/fs/cgroup/{controller}").exists():
        pytest.skip(f"this host has a {controller} hierarchy")
    for runtime in (runc, pyrunc):
        bundle = make_bundle(runtime.name)
        resources(bundle)[field] = value
        result = create(runtime, bundle.shell("true"), f"no-{runtime.name}")
        assert result.returncode == 1, runtime.name
        assert leftovers(runtime, bundle, f"no-{runtime.name}") == []
    message = error_message(result.stderr)
    assert f"linux.resources.{field}" in message
    assert controller in message


# placement


def test_a_cgroup_in_use_is_refused(pyrunc: Runtime, make_bundle: Any) -> None:
    first = make_bundle("first")
    started(pyrunc, first, "first", "sleep 30")
    second = make_bundle("second").shell("true")
    written = json.loads((first.path / "config.json").read_text())
    second.config["linux"]["cgroupsPath"] = written["linux"]["cgroupsPath"]

    result = create(pyrunc, second, "second")
    assert result.returncode == 1
    assert "linux.cgroupsPath" in error_message(result.stderr)
    assert "first" in error_message(result.stderr)
    assert pyrunc.state("first")["status"] == "running"
    assert (cgroup_dir("pids", "first") / "cgroup.procs").read_text().strip()


def test_delete_leaves_no_cgroup_behind(pyrunc: Runtime, bundle: Bundle) -> None:
    resources(bundle)["memory"] = {"limit": 64 * MiB}
    started(pyrunc, bundle, "tidy", "sleep 30 & sleep 30")
    dirs = [cgroup_dir(c, "tidy") for c in ("memory", "pids", "freezer", "devices")]
    assert all(path.is_dir() for path in dirs)

    assert pyrunc("delete", "--force", "tidy").returncode == 0
    assert [path for path in dirs if path.exists()] == []
    assert leftovers(pyrunc, bundle, "tidy") == []


def test_exec_joins_a_cgroup_below_the_containers(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    started(pyrunc, bundle, "below", "sleep 30")
    for path in container_cgroups("below"):
        make_sub_cgroup(path / "sub")

    result = pyrunc("exec", "--cgroup", "sub", "below", "cat", "/proc/self/cgroup")

    assert result.returncode == 0, result.stderr
    assert all(line.endswith("/below/sub") for line in result.stdout.splitlines())


def test_exec_cgroup_per_controller_is_v1_only(pyrunc: Runtime, bundle: Bundle) -> None:
    started(pyrunc, bundle, "percontroller", "sleep 30")
    for path in container_cgroups("percontroller"):
        make_sub_cgroup(path / "sub")

    result = pyrunc(
        "exec", "--cgroup", "memory:sub", "percontroller", "cat", "/proc/self/cgroup"
    )

    if V2:
        assert result.returncode != 0
        assert "cgroup v2 has one path" in error_message(result.stderr)
    else:
        lines = result.stdout.splitlines()
        moved = [line for line in lines if line.endswith("/sub")]
        assert moved == [line for line in lines if ":memory:" in line], result.stderr
