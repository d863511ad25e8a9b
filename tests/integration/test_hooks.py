"""Lifecycle hooks: when each runs, what it receives, where it runs, how it fails."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests import oci_schema
from tests.support import (
    Bundle,
    Runtime,
    bind_mount,
    cgroup_parent_dirs,
    create,
    write_script,
)

KINDS = [
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
]
STATUS = {
    "prestart": "creating",
    "createRuntime": "creating",
    "createContainer": "creating",
    "startContainer": "created",
    "poststart": "running",
    "poststop": "stopped",
}
IN_CONTAINER = {"createContainer", "startContainer"}

# Run as `sh -c RECORD KIND DIR`: keep stdin, argv, env and namespaces in DIR.
# A redirection is opened by the forked shell, whose cmdline and environ are
# still the hook's own.
RECORD = """
kind=$0 dir=$1
cat > "$dir/$kind.json"
tr '\\0' '\\n' < /proc/self/cmdline > "$dir/$kind.argv"
tr '\\0' '\\n' < /proc/self/environ > "$dir/$kind.env"
{ readlink /proc/self/ns/uts; readlink /proc/self/ns/mnt; } > "$dir/$kind.ns"
hostname > "$dir/$kind.hostname"
echo "$kind" >> "$dir/order"
"""
CONTAINER_DIR = "/hook-out"


def record_hook(kind: str, out: Path) -> dict[str, Any]:
    """A hook that records what it gets; startContainer's runs the rootfs's sh."""
    where = CONTAINER_DIR if kind == "startContainer" else str(out)
    return {
        "path": "/bin/sh",
        "args": ["sh", "-c", RECORD, kind, where],
        "env": ["PATH=/usr/bin:/bin", f"HOOK_KIND={kind}"],
    }


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Where hooks write; bound at /hook-out in the container."""
    path = tmp_path / "hook-out"
    path.mkdir()
    return path


@pytest.fixture
def hooked(bundle: Bundle, out: Path) -> Bundle:
    """A bundle with one recording hook of every kind."""
    bind_mount(bundle, out, CONTAINER_DIR)
    bundle.config["hooks"] = {kind: [record_hook(kind, out)] for kind in KINDS}
    bundle.shell("readlink /proc/self/ns/uts; readlink /proc/self/ns/mnt; hostname")
    return bundle


@pytest.fixture
def ran(pyrunc: Runtime, hooked: Bundle, out: Path) -> list[str]:
    """Run the hooked bundle to the end; return the container's output lines."""
    result = pyrunc.run(hooked, "hooked")
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_hooks_run_in_lifecycle_order(ran: list[str], out: Path) -> None:
    assert (out / "order").read_text().split() == KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_hook_gets_state_on_stdin(
    ran: list[str], out: Path, hooked: Bundle, kind: str
) -> None:
    state = json.loads((out / f"{kind}.json").read_text())
    if oci_schema.available():
        oci_schema.validate_official(state, "state")
    assert state["id"] == "hooked"
    assert state["status"] == STATUS[kind]
    assert state["bundle"] == str(hooked.path)
    assert state["ociVersion"]


def test_hooks_see_the_same_init_pid(ran: list[str], out: Path) -> None:
    pids = {json.loads((out / f"{k}.json").read_text())["pid"] for k in KINDS[:5]}
    assert len(pids) == 1
    assert pids.pop() > 0


@pytest.mark.parametrize("kind", KINDS)
def test_hook_gets_its_args_and_env(ran: list[str], out: Path, kind: str) -> None:
    argv = (out / f"{kind}.argv").read_text().splitlines()
    assert argv[:2] == ["sh", "-c"]  # argv[0] from args, not the path
    assert argv[-2:] == [kind, str(out) if kind != "startContainer" else CONTAINER_DIR]
    env = (out / f"{kind}.env").read_text().splitlines()
    assert env == ["PATH=/usr/bin:/bin", f"HOOK_KIND={kind}"]


@pytest.mark.parametrize("kind", KINDS)
def test_hook_namespaces(ran: list[str], out: Path, kind: str) -> None:
    """createContainer and startContainer run in the container's; the rest in ours."""
    uts, mnt = (out / f"{kind}.ns").read_text().split()
    container_uts, container_mnt = ran[:2]
    if kind in IN_CONTAINER:
        assert (uts, mnt) == (container_uts, container_mnt)
    else:
        assert (uts, mnt) == (
            os.readlink("/proc/self/ns/uts"),
            os.readlink("/proc/self/ns/mnt"),
        )


def test_start_container_hook_sees_the_hostname(ran: list[str], out: Path) -> None:
    assert ran[2] == "pyrunc"
    assert (out / "startContainer.hostname").read_text() == "pyrunc\n"
    assert (out / "createRuntime.hostname").read_text() == os.uname().nodename + "\n"


def test_hooks_of_one_kind_run_in_order(
    pyrunc: Runtime, bundle: Bundle, out: Path
) -> None:
    bundle.config["hooks"] = {
        "createRuntime": [
            {"path": "/bin/sh", "args": ["sh", "-c", f"echo {n} >> {out}/order"]}
            for n in ("one", "two", "three")
        ]
    }
    bundle.set_args("true")
    result = pyrunc.run(bundle, "many")
    assert result.returncode == 0, result.stderr
    assert (out / "order").read_text().split() == ["one", "two", "three"]


def assert_nothing_left(runtime: Runtime, bundle: Bundle, container_id: str) -> None:
    """No state, no cgroup, and no process rooted in the bundle's rootfs."""
    assert runtime.container_ids() == []
    assert not (runtime.root / container_id).exists()
    for parent in cgroup_parent_dirs():
        assert not (parent / container_id).exists()
    rootfs = str(bundle.rootfs)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            root = os.readlink(f"/proc/{pid}/root")
        except OSError:
            continue
        assert root != rootfs, f"process {pid} is still in the container"


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer"])
def test_failing_create_hook_fails_create_and_leaves_nothing(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path, kind: str
) -> None:
    hook = write_script(tmp_path / "fail.sh", "echo refusing; exit 7")
    bundle.config["hooks"] = {kind: [{"path": str(hook)}]}
    bundle.set_args("true")
    result = create(pyrunc, bundle, "failhook")
    assert result.returncode == 1, result.stderr
    assert str(hook) in result.stderr
    assert "exit status 7" in result.stderr
    assert "refusing" in result.stderr
    assert_nothing_left(pyrunc, bundle, "failhook")


def test_first_failing_hook_stops_the_rest(
    pyrunc: Runtime, bundle: Bundle, out: Path
) -> None:
    bundle.config["hooks"] = {
        "createRuntime": [
            {"path": "/bin/sh", "args": ["sh", "-c", "exit 1"]},
            {"path": "/bin/sh", "args": ["sh", "-c", f"touch {out}/ran"]},
        ]
    }
    bundle.set_args("true")
    result = create(pyrunc, bundle, "stops")
    assert result.returncode == 1
    assert not (out / "ran").exists()


def test_hook_timeout_fails_the_operation(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    pid_file = tmp_path / "hook.pid"
    hook = write_script(tmp_path / "slow.sh", f"echo $$ > {pid_file}; exec sleep 30")
    bundle.config["hooks"] = {"createRuntime": [{"path": str(hook), "timeout": 1}]}
    bundle.set_args("true")
    result = create(pyrunc, bundle, "slowhook")
    assert result.returncode == 1
    assert "timed out" in result.stderr
    assert_nothing_left(pyrunc, bundle, "slowhook")
    assert not Path(f"/proc/{pid_file.read_text().strip()}").exists()


def test_missing_hook_program_fails_create(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-hook"
    bundle.config["hooks"] = {"createRuntime": [{"path": str(missing)}]}
    bundle.set_args("true")
    result = create(pyrunc, bundle, "nohook")
    assert result.returncode == 1
    assert str(missing) in result.stderr
    assert_nothing_left(pyrunc, bundle, "nohook")


def test_failing_start_container_hook_fails_start(
    pyrunc: Runtime, bundle: Bundle, out: Path
) -> None:
    bind_mount(bundle, out, CONTAINER_DIR)
    bundle.config["hooks"] = {
        "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]
    }
    bundle.shell(f"touch {CONTAINER_DIR}/process-ran")
    result = create(pyrunc, bundle, "startfail")
    assert result.returncode == 0, result.stderr
    started = pyrunc("start", "startfail")
    assert started.returncode == 1
    assert "exit status 3" in started.stderr
    assert not (out / "process-ran").exists()


@pytest.mark.parametrize("kind", ["poststart", "poststop"])
def test_failing_post_hook_only_warns(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path, kind: str
) -> None:
    hook = write_script(tmp_path / "fail.sh", "exit 9")
    bundle.config["hooks"] = {kind: [{"path": str(hook)}]}
    bundle.shell("echo ran; exit 4")
    result = pyrunc.run(bundle, "warns")
    assert result.returncode == 4, result.stderr
    assert result.stdout == "ran\n"
    assert "level=warning" in result.stderr
    assert str(hook) in result.stderr
    assert_nothing_left(pyrunc, bundle, "warns")


def test_poststop_runs_on_delete_of_created_container(
    pyrunc: Runtime, bundle: Bundle, out: Path
) -> None:
    bundle.config["hooks"] = {"poststop": [record_hook("poststop", out)]}
    bundle.set_args("true")
    assert create(pyrunc, bundle, "deleted").returncode == 0
    assert not (out / "poststop.json").exists()
    result = pyrunc("delete", "--force", "deleted")
    assert result.returncode == 0, result.stderr
    state = json.loads((out / "poststop.json").read_text())
    assert (state["id"], state["status"]) == ("deleted", "stopped")
