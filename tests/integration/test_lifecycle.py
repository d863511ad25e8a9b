"""The lifecycle of runtime.md through the CLI: create, start, kill, delete, run.

Where runc is installed the same bundle runs under it too, and both must agree.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests import oci_schema
from tests.support import (
    Bundle,
    Runtime,
    create,
    detached,
    error_message,
    leftovers,
    runtime_argv,
    wait_for_file,
    wait_status,
)

SLEEPER = "sleep 30"
MARKED_SLEEPER = "touch /started; sleep 30"


def started(runtime: Runtime, bundle: Bundle, container_id: str, script: str) -> None:
    """Create and start a container running script."""
    bundle.shell(script)
    result = create(runtime, bundle, container_id)
    assert result.returncode == 0, result.stderr
    result = runtime("start", container_id)
    assert result.returncode == 0, result.stderr


def stopped(runtime: Runtime, bundle: Bundle, container_id: str) -> None:
    """Create and start a container whose process exits at once, and see it stop."""
    started(runtime, bundle, container_id, "true")
    assert wait_status(runtime, container_id, "stopped")["status"] == "stopped"


def in_status(runtime: Runtime, bundle: Bundle, container_id: str, status: str) -> None:
    """Bring a new container to status: created, running or stopped."""
    if status == "created":
        bundle.shell(SLEEPER)
        result = create(runtime, bundle, container_id)
        assert result.returncode == 0, result.stderr
    elif status == "running":
        started(runtime, bundle, container_id, SLEEPER)
    else:
        stopped(runtime, bundle, container_id)
    assert runtime.state(container_id)["status"] == status


def alive(pid: int) -> bool:
    """Tell whether pid is a live process (not gone, not a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def gone(pid: int, timeout: float = 5.0) -> bool:
    """Poll until pid has exited; return whether it has."""
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    return not alive(pid)


def check_state_schema(state: dict[str, Any]) -> None:
    """Validate a state document against the official schema, where it is there."""
    if oci_schema.available():
        oci_schema.validate_official(state, "state")


# create, start, state


def test_create_does_not_run_the_process_until_start(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    bundle.shell(MARKED_SLEEPER)
    result = create(pyrunc, bundle, "waiting")
    assert result.returncode == 0, result.stderr
    time.sleep(0.2)
    assert not (bundle.rootfs / "started").exists()
    assert pyrunc.state("waiting")["status"] == "created"

    result = pyrunc("start", "waiting")
    assert result.returncode == 0, result.stderr
    assert wait_for_file(bundle.rootfs / "started")
    assert pyrunc.state("waiting")["status"] == "running"


def test_pid_file_holds_the_init_pid_alone(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    folder = tmp_path / "pids"
    folder.mkdir()
    bundle.shell(SLEEPER)
    result = create(pyrunc, bundle, "pidfile", "--pid-file", str(folder / "init.pid"))
    assert result.returncode == 0, result.stderr
    text = (folder / "init.pid").read_text()
    assert re.fullmatch(r"[1-9][0-9]*", text), repr(text)
    assert int(text) == pyrunc.state("pidfile")["pid"]
    assert [p.name for p in folder.iterdir()] == ["init.pid"]


def test_state_of_a_created_container(pyrunc: Runtime, bundle: Bundle) -> None:
    if not oci_schema.available():
        pytest.skip(oci_schema.MISSING)
    bundle.shell(SLEEPER)
    result = create(pyrunc, bundle, "fresh")
    assert result.returncode == 0, result.stderr
    state = pyrunc.state("fresh")
    oci_schema.validate_official(state, "state")
    assert state["id"] == "fresh"
    assert state["status"] == "created"
    assert alive(state["pid"])
    assert state["bundle"] == str(bundle.path)


def test_state_has_runc_extra_fields(pyrunc: Runtime, bundle: Bundle) -> None:
    """runc adds rootfs, created (RFC 3339, UTC) and owner; callers read them."""
    bundle.shell(SLEEPER)
    result = create(pyrunc, bundle, "extra")
    assert result.returncode == 0, result.stderr
    state = pyrunc.state("extra")
    assert state["rootfs"] == str(bundle.rootfs)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", state["created"])
    assert isinstance(state["owner"], str)


def test_status_goes_created_running_stopped(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.shell("until [ -e /finish ]; do sleep 0.02; done")
    result = create(pyrunc, bundle, "phases")
    assert result.returncode == 0, result.stderr
    pid = pyrunc.state("phases")["pid"]

    result = pyrunc("start", "phases")
    assert result.returncode == 0, result.stderr
    running = pyrunc.state("phases")
    check_state_schema(running)
    assert (running["status"], running["pid"]) == ("running", pid)

    (bundle.rootfs / "finish").touch()
    finished = wait_status(pyrunc, "phases", "stopped")
    check_state_schema(finished)
    assert (finished["status"], finished["pid"]) == ("stopped", 0)


# the table of allowed operations: each status against start, kill and delete

# (status, operation, exit code, message, status after; None: deleted)
TRANSITIONS = [
    ("created", ["start"], 0, "", "running"),
    ("created", ["kill", "KILL"], 0, "", "stopped"),
    ("created", ["delete"], 0, "", None),
    ("running", ["start"], 1, "cannot start an already running container", "running"),
    ("running", ["kill", "KILL"], 0, "", "stopped"),
    ("running", ["delete"], 1, "that is not stopped: running", "running"),
    ("stopped", ["start"], 1, "cannot start a container that has stopped", "stopped"),
    ("stopped", ["kill", "KILL"], 1, "container not running", "stopped"),
    ("stopped", ["delete"], 0, "", None),
]


@pytest.mark.parametrize(
    ("status", "operation", "code", "message", "after"),
    TRANSITIONS,
    ids=[f"{row[0]}-{row[1][0]}" for row in TRANSITIONS],
)
def test_operation_allowed_by_status(
    pyrunc: Runtime,
    bundle: Bundle,
    status: str,
    operation: list[str],
    code: int,
    message: str,
    after: str | None,
) -> None:
    in_status(pyrunc, bundle, "table", status)
    result = pyrunc(operation[0], "table", *operation[1:])
    assert result.returncode == code, result.stderr
    if code:
        assert message in error_message(result.stderr)
    if after is None:
        assert leftovers(pyrunc, bundle, "table") == []
    else:
        assert wait_status(pyrunc, "table", after)["status"] == after


@pytest.mark.runc
@pytest.mark.parametrize(
    ("status", "operation"),
    [row[:2] for row in TRANSITIONS if row[2]],
    ids=[f"{row[0]}-{row[1][0]}" for row in TRANSITIONS if row[2]],
)
def test_refusals_match_runc(
    pyrunc: Runtime,
    runc: Runtime,
    make_bundle: Any,
    status: str,
    operation: list[str],
) -> None:
    """A refused operation exits 1 with the message runc gives."""
    results = []
    for runtime in (pyrunc, runc):
        container_id = f"refuse-{runtime.name}"
        in_status(runtime, make_bundle(runtime.name), container_id, status)
        result = runtime(operation[0], container_id, *operation[1:])
        message = error_message(result.stderr).replace(container_id, "ID")
        results.append((result.returncode, message))
    assert results[0] == results[1], results
    assert results[0][0] == 1


# delete


def test_delete_force_removes_a_running_container(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    started(pyrunc, bundle, "forced", SLEEPER)
    pid = pyrunc.state("forced")["pid"]
    result = pyrunc("delete", "--force", "forced")
    assert result.returncode == 0, result.stderr
    assert gone(pid)
    assert leftovers(pyrunc, bundle, "forced") == []


def test_delete_kills_a_created_container(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.shell(SLEEPER)
    result = create(pyrunc, bundle, "unstarted")
    assert result.returncode == 0, result.stderr
    pid = pyrunc.state("unstarted")["pid"]
    result = pyrunc("delete", "unstarted")
    assert result.returncode == 0, result.stderr
    assert gone(pid)
    assert leftovers(pyrunc, bundle, "unstarted") == []


def test_delete_of_a_stopped_container_frees_everything(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    stopped(pyrunc, bundle, "done")
    result = pyrunc("delete", "done")
    assert result.returncode == 0, result.stderr
    assert leftovers(pyrunc, bundle, "done") == []
    assert pyrunc.container_ids() == []


# kill


@pytest.mark.parametrize("signal_args", [["KILL"], []], ids=["KILL", "default"])
def test_kill_stops_a_created_container(
    pyrunc: Runtime, bundle: Bundle, signal_args: list[str]
) -> None:
    """The init waiting for start dies of SIGKILL or the default SIGTERM, as runc's."""
    bundle.shell(MARKED_SLEEPER)
    result = create(pyrunc, bundle, "doomed")
    assert result.returncode == 0, result.stderr
    result = pyrunc("kill", "doomed", *signal_args)
    assert result.returncode == 0, result.stderr
    assert wait_status(pyrunc, "doomed", "stopped")["status"] == "stopped"
    assert not (bundle.rootfs / "started").exists()


@pytest.mark.parametrize("name", ["KILL", "SIGKILL", "9", "kill"])
def test_kill_takes_a_signal_by_name_or_number(
    pyrunc: Runtime, bundle: Bundle, name: str
) -> None:
    started(pyrunc, bundle, "target", SLEEPER)
    result = pyrunc("kill", "target", name)
    assert result.returncode == 0, result.stderr
    assert wait_status(pyrunc, "target", "stopped")["status"] == "stopped"


def test_kill_sends_sigterm_by_default(pyrunc: Runtime, bundle: Bundle) -> None:
    script = "trap 'touch /terminated; exit 0' TERM; touch /started; sleep 30 & wait"
    started(pyrunc, bundle, "polite", script)
    assert wait_for_file(bundle.rootfs / "started")
    result = pyrunc("kill", "polite")
    assert result.returncode == 0, result.stderr
    assert wait_status(pyrunc, "polite", "stopped")["status"] == "stopped"
    assert (bundle.rootfs / "terminated").exists()


def test_kill_all_signals_every_process(pyrunc: Runtime, bundle: Bundle) -> None:
    """A pid namespace's init ignores SIGTERM without a handler; its children do not.

    So SIGTERM to the init alone leaves the container running, and with
    --all the children die, the init's wait returns and the container stops.
    """
    started(pyrunc, bundle, "family", "sleep 30 & sleep 30 & touch /started; wait")
    assert wait_for_file(bundle.rootfs / "started")
    result = pyrunc("kill", "family", "TERM")
    assert result.returncode == 0, result.stderr
    time.sleep(0.3)
    assert pyrunc.state("family")["status"] == "running"

    result = pyrunc("kill", "--all", "family", "TERM")
    assert result.returncode == 0, result.stderr
    assert wait_status(pyrunc, "family", "stopped")["status"] == "stopped"


# run

EXITS = [
    ("exit 0", 0),
    ("exit 3", 3),
    ("kill -KILL $$", 128 + 9),
]


@pytest.mark.runc
@pytest.mark.parametrize(("script", "code"), EXITS, ids=["zero", "three", "sigkill"])
def test_run_exit_status_matches_runc(
    pyrunc: Runtime, runc: Runtime, bundle: Bundle, script: str, code: int
) -> None:
    """run returns the process's status, or 128+N when signal N killed it.

    The init of a pid namespace cannot kill itself with a signal (the kernel
    protects it from its own namespace), so the process here shares the
    host's pid namespace.
    """
    namespaces = bundle.config["linux"]["namespaces"]
    bundle.config["linux"]["namespaces"] = [n for n in namespaces if n["type"] != "pid"]
    bundle.shell(f"echo before; {script}; echo after")
    ours = pyrunc.run(bundle, "exits-pyrunc")
    theirs = runc.run(bundle, "exits-runc")
    assert ours.returncode == theirs.returncode == code, ours.stderr
    assert ours.stdout == theirs.stdout
    assert pyrunc.container_ids() == []


def test_run_detach_returns_with_the_container_running(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    bundle.shell(MARKED_SLEEPER)
    path = bundle.write("detached")
    result = detached(pyrunc, "run", "--detach", "--bundle", str(path), "detached")
    assert result.returncode == 0, result.stderr
    assert pyrunc.state("detached")["status"] == "running"
    assert wait_for_file(bundle.rootfs / "started")


def test_run_keep_leaves_a_stopped_container(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.shell("exit 4")
    result = pyrunc.run(bundle, "kept", "--keep")
    assert result.returncode == 4, result.stderr
    assert pyrunc.container_ids() == ["kept"]
    assert pyrunc.state("kept")["status"] == "stopped"
    result = pyrunc("delete", "kept")
    assert result.returncode == 0, result.stderr
    assert leftovers(pyrunc, bundle, "kept") == []


def test_run_without_keep_leaves_nothing(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.shell("exit 0")
    result = pyrunc.run(bundle, "transient")
    assert result.returncode == 0, result.stderr
    assert leftovers(pyrunc, bundle, "transient") == []


# status is derived from the live process


def test_state_does_not_trust_a_reused_pid(pyrunc: Runtime, bundle: Bundle) -> None:
    """A pid whose start time is not the recorded one belongs to someone else.

    Once an init has exited, the kernel may give its pid to an unrelated
    process. Changing the recorded start time of a live init stages exactly
    that: the pid is alive, but not the process pyrunc created, so the
    container is stopped and kill must not signal the stranger.
    """
    started(pyrunc, bundle, "reused", SLEEPER)
    pid = pyrunc.state("reused")["pid"]
    state_file = pyrunc.root / "reused" / "state.json"
    record = json.loads(state_file.read_text())
    original = record["pid_start"]
    state_file.write_text(json.dumps({**record, "pid_start": original + 1}))
    try:
        state = pyrunc.state("reused")
        assert (state["status"], state["pid"]) == ("stopped", 0)
        result = pyrunc("kill", "reused", "KILL")
        assert result.returncode == 1, result.stderr
        assert error_message(result.stderr) == "container not running"
        assert alive(pid)
    finally:
        state_file.write_text(json.dumps(record))
    assert pyrunc.state("reused")["status"] == "running"


# concurrency


def test_concurrent_create_of_one_id(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    bundle.shell(SLEEPER)
    path = bundle.write("twin")
    argv = runtime_argv(pyrunc, "create", "--bundle", str(path), "twin")
    logs = [tmp_path / f"create-{n}.log" for n in range(2)]
    processes = []
    for log in logs:
        with log.open("w") as out:
            processes.append(
                subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
            )
    codes = sorted(p.wait(timeout=60) for p in processes)
    messages = [log.read_text() for log in logs]
    assert codes == [0, 1], messages
    assert any("container with id exists: twin" in m for m in messages), messages
    assert pyrunc.state("twin")["status"] == "created"

    result = pyrunc("delete", "twin")
    assert result.returncode == 0, result.stderr
    assert leftovers(pyrunc, bundle, "twin") == []
