"""The state directory's pure logic: container IDs, process start times, status."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyrunc.errors import StateError
from pyrunc.state import (
    Record,
    Status,
    Store,
    process_start_time,
    validate_id,
    write_atomic,
)

# IDs runc 1.1 takes: ASCII word characters and "+,-." (a range in its regexp)
GOOD_IDS = ["a", "abc-123", "A_b.c+d", "a,b", "...", "x" * 200, "1"]

# (id, why runc refuses it)
BAD_IDS = [
    (".", "the directory itself"),
    ("..", "its parent"),
    ("../x", "a path out of the root"),
    ("a/b", "a path"),
    ("/abs", "an absolute path"),
    ("a b", "a space"),
    ("abc\n", "a trailing newline"),
    ("tab\t", "a tab"),
    ("café", "a letter outside ASCII"),
    ("a\x00b", "a NUL byte"),
    ("a:b", "a colon"),
]


def own_start_time() -> int:
    """Return this process's start time, parsed from a stat line without surprises."""
    raw = Path("/proc/self/stat").read_text()
    return int(raw.rsplit(")", 1)[1].split()[19])


def boot_ticks_now() -> float:
    """Return the clock ticks since boot, the unit of a process start time."""
    return time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf("SC_CLK_TCK")


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A child process that lives until the test ends."""
    child = subprocess.Popen(["sleep", "30"])
    yield child
    child.kill()
    child.wait()


def wait_zombie(pid: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            return
        time.sleep(0.01)
    raise AssertionError(f"{pid} did not become a zombie")


# validate_id


@pytest.mark.parametrize("container_id", GOOD_IDS)
def test_valid_ids_pass(container_id: str) -> None:
    validate_id(container_id)


@pytest.mark.parametrize(
    "container_id", [bad for bad, _ in BAD_IDS], ids=[why for _, why in BAD_IDS]
)
def test_invalid_ids_are_refused_by_name(container_id: str) -> None:
    with pytest.raises(StateError) as caught:
        validate_id(container_id)
    assert str(caught.value) == f"invalid container id format: {container_id}"


def test_empty_id_has_its_own_message() -> None:
    with pytest.raises(StateError, match="^container id cannot be empty$"):
        validate_id("")


# process_start_time


def test_start_time_of_this_process() -> None:
    assert process_start_time(os.getpid()) == own_start_time()


def test_start_time_of_a_child_is_after_ours(sleeper: subprocess.Popen[bytes]) -> None:
    found = process_start_time(sleeper.pid)
    assert found is not None
    assert own_start_time() <= found <= boot_ticks_now()


def test_start_time_reads_past_a_name_with_parentheses(tmp_path: Path) -> None:
    """A process names itself; ") (" in the name must not shift the fields."""
    odd = tmp_path / "x) (y z"
    odd.symlink_to(shutil.which("sleep") or "/bin/sleep")
    child = subprocess.Popen([str(odd), "30"])
    try:
        assert "x) (y z" in Path(f"/proc/{child.pid}/stat").read_text()
        found = process_start_time(child.pid)
        assert found is not None
        assert own_start_time() <= found <= boot_ticks_now()
    finally:
        child.kill()
        child.wait()


def test_start_time_of_a_missing_pid_is_none() -> None:
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    assert process_start_time(pid_max) is None


def test_start_time_of_a_zombie_is_none() -> None:
    """An exited, unreaped init must read as gone, or its container stays running."""
    child = subprocess.Popen(["true"])
    try:
        wait_zombie(child.pid)
        assert process_start_time(child.pid) is None
    finally:
        child.wait()


# status derived from the process


def record_of(pid: int, pid_start: int, container_id: str = "c") -> Record:
    return Record(
        id=container_id,
        pid=pid,
        pid_start=pid_start,
        bundle="/bundle",
        rootfs="/bundle/rootfs",
        created="2024-01-01T00:00:00.000000000Z",
        owner="root",
    )


def test_status_running_for_the_recorded_process(tmp_path: Path) -> None:
    store = Store(str(tmp_path))
    record = record_of(os.getpid(), own_start_time())
    assert store.status(record) == Status.RUNNING


def test_status_created_while_the_start_fifo_exists(tmp_path: Path) -> None:
    store = Store(str(tmp_path))
    (tmp_path / "c").mkdir()
    os.mkfifo(store.fifo("c"))
    record = record_of(os.getpid(), own_start_time())
    assert store.status(record) == Status.CREATED


@pytest.mark.parametrize(
    ("pid", "start_shift"),
    [(0, 0), (os.getpid(), 1)],
    ids=["no-pid", "pid-reused"],
)
def test_status_stopped_without_the_recorded_process(
    tmp_path: Path, pid: int, start_shift: int
) -> None:
    store = Store(str(tmp_path))
    record = record_of(pid, own_start_time() + start_shift)
    assert store.status(record) == Status.STOPPED
    assert store.oci_state(record)["pid"] == 0


# the state file


def test_write_atomic_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    write_atomic(str(target), "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_new_refuses_a_taken_id(tmp_path: Path) -> None:
    store = Store(str(tmp_path))
    taken = pytest.raises(StateError, match="^container with id exists: dup$")
    with store.new("dup"), taken, store.new("dup"):
        pass
    assert (tmp_path / "dup").is_dir()


def test_new_removes_the_folder_when_the_block_fails(tmp_path: Path) -> None:
    store = Store(str(tmp_path))
    with pytest.raises(RuntimeError), store.new("failing"):
        raise RuntimeError("create failed")
    assert not (tmp_path / "failing").exists()


def test_saved_record_loads_back(tmp_path: Path) -> None:
    store = Store(str(tmp_path))
    record = record_of(42, 7, "saved")
    with store.new("saved"):
        store.save(record)
    assert store.load("saved").to_dict() == record.to_dict()
    assert store.ids() == ["saved"]


def test_load_of_a_missing_container(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="^container does not exist$"):
        Store(str(tmp_path)).load("absent")
