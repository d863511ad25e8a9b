"""runtime.md Lifecycle, Errors and the Create, Start, Kill, Delete operations."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from benchlib import cgroups

from conflib import config as configs
from conflib.case import Case, equal, must_fail, must_pass, require
from conflib.registry import requirement

SPEC = "runtime.md"
# what the program does first, so a check can tell whether it ran
MARK_RUN = "echo ran >> /out/ran; "
SETTLE = 0.3
UNKNOWN = "conformance-no-such-container"


def _sleeper(case: Case) -> str:
    container_id, _ = case.create(case.config(MARK_RUN + "exec sleep 60"))
    return container_id


def _stopped(case: Case) -> str:
    container_id, _ = case.create(case.config("exit 0"))
    case.start(container_id)
    case.wait_status(container_id, "stopped")
    return container_id


def _no_state(case: Case, container_id: str) -> None:
    result = case.call("state", container_id)
    require(not result.ok, f"a container was left behind:\n{result.describe()}")


def _cgroup_dirs(case: Case, container_id: str) -> list[Path]:
    parents = cgroups.dirs_named(case.workspace.cgroup_parent)
    return [
        parent / container_id for parent in parents if (parent / container_id).exists()
    ]


@requirement(SPEC, "Create", "create without a container ID MUST fail")
def create_no_id(case: Case) -> None:
    bundle = case.bundle(case.config(), "conformance-unused")
    must_fail(case.call("create", "--bundle", str(bundle)), "create without an ID")


@requirement(
    SPEC, "Create", "an ID that is not unique MUST fail and MUST NOT create a container"
)
def create_duplicate(case: Case) -> None:
    container_id = _sleeper(case)
    before = case.state(container_id)
    _, again = case.create(case.config("exec sleep 60"), container_id, check=False)
    must_fail(again, "create with a duplicate ID")
    after = case.state(container_id)
    equal(
        (after.get("status"), after.get("pid")),
        (before.get("status"), before.get("pid")),
        "first container (status, pid)",
    )


@requirement(SPEC, "Create", "an ID that is not valid (holds a `/`) MUST fail")
def create_invalid_id(case: Case) -> None:
    container_id = f"{case.new_id()}/invalid"
    case.ids.append(container_id)
    _, result = case.create(case.config("exec sleep 60"), container_id, check=False)
    must_fail(result, f"create {container_id}")
    _no_state(case, container_id)


@requirement(SPEC, "Create", "process.args MUST NOT be applied until start")
def create_does_not_run(case: Case) -> None:
    _sleeper(case)
    time.sleep(SETTLE)
    equal(case.out_file("ran"), None, "/out/ran after create")


@requirement(
    SPEC, "Create", "all properties but process MUST be applied by create (namespaces)"
)
def create_applies_config(case: Case) -> None:
    container_id = _sleeper(case)
    pid = case.state(container_id)["pid"]
    for name in ("net", "uts", "ipc"):
        link = os.readlink(f"/proc/{pid}/ns/{name}")
        require(
            link != os.readlink(f"/proc/self/ns/{name}"),
            f"created container is still in the caller's {name} namespace",
        )


@requirement(SPEC, "Create", "changes to config.json after create MUST NOT affect it")
def create_ignores_later_changes(case: Case) -> None:
    config = case.config("echo original > /out/which")
    container_id, _ = case.create(config)
    config["process"]["args"] = ["sh", "-c", "echo changed > /out/which"]
    (case.bundle_dir(container_id) / "config.json").write_text(json.dumps(config))
    case.start(container_id)
    equal(case.wait_out("which"), "original\n", "/out/which")


@requirement(
    SPEC, "Create", "a property that cannot be applied MUST fail, no container"
)
def create_unapplicable(case: Case) -> None:
    config = case.config()
    config["root"]["path"] = str(case.dir / "no-such-rootfs")
    container_id, result = case.create(config, check=False)
    must_fail(result, "create with a missing root.path")
    _no_state(case, container_id)


@requirement(
    SPEC, "Errors", "a failed create MUST leave no trace (no state, no cgroup)"
)
def create_error_leaves_nothing(case: Case) -> None:
    config = case.config()
    config["mounts"].append(configs.mount("/mnt", "conformance-no-such-fs", "none"))
    container_id, result = case.create(config, check=False)
    must_fail(result, "create with an unknown filesystem type")
    _no_state(case, container_id)
    left = _cgroup_dirs(case, container_id)
    require(not left, f"cgroups left behind: {[str(path) for path in left]}")


@requirement(SPEC, "Lifecycle", "an environment that cannot be created MUST fail")
def lifecycle_environment_error(case: Case) -> None:
    config = case.config()
    config["mounts"].append(configs.mount("/mnt", "conformance-no-such-fs", "none"))
    must_fail(case.run(config), "run with an unknown filesystem type")


@requirement(SPEC, "Start", "start without a container ID MUST fail")
def start_no_id(case: Case) -> None:
    must_fail(case.call("start"), "start without an ID")


@requirement(SPEC, "Start", "start of a container that does not exist MUST fail")
def start_unknown(case: Case) -> None:
    must_fail(case.call("start", UNKNOWN), "start")


@requirement(SPEC, "Start", "start MUST run the user-specified program")
def start_runs(case: Case) -> None:
    case.start(_sleeper(case))
    equal(case.wait_out("ran"), "ran\n", "/out/ran after start")


@requirement(SPEC, "Start", "start of a running container MUST fail, with no effect")
def start_twice(case: Case) -> None:
    container_id = _sleeper(case)
    case.start(container_id)
    pid = case.wait_status(container_id, "running")["pid"]
    case.wait_out("ran")
    must_fail(case.start(container_id, check=False), "second start")
    time.sleep(SETTLE)
    equal(case.out_file("ran"), "ran\n", "/out/ran (program runs once)")
    state = case.state(container_id)
    equal((state.get("status"), state.get("pid")), ("running", pid), "(status, pid)")


@requirement(SPEC, "Start", "start of a stopped container MUST fail, with no effect")
def start_stopped(case: Case) -> None:
    container_id = _stopped(case)
    must_fail(case.start(container_id, check=False), "start of a stopped container")
    equal(case.state(container_id).get("status"), "stopped", "status")


@requirement(SPEC, "Start", "start MUST fail if process was not set")
def start_without_process(case: Case) -> None:
    config = case.config()
    del config["process"]
    container_id, created = case.create(config, check=False)
    if created.ok:
        must_fail(case.start(container_id, check=False), "start without process")


@requirement(SPEC, "Kill", "kill without a container ID MUST fail")
def kill_no_id(case: Case) -> None:
    must_fail(case.call("kill"), "kill without an ID")


@requirement(SPEC, "Kill", "kill of a container that does not exist MUST fail")
def kill_unknown(case: Case) -> None:
    must_fail(case.call("kill", UNKNOWN, "SIGKILL"), "kill")


@requirement(
    SPEC, "Kill", "kill MUST send the specified signal to the container process"
)
def kill_sends_signal(case: Case) -> None:
    script = "trap 'echo usr1 > /out/got' USR1; touch /out/ready; "
    container_id, _ = case.create(case.config(script + "while :; do sleep 0.05; done"))
    case.start(container_id)
    require(case.wait_out("ready") is not None, "the program did not start")
    case.kill(container_id, "SIGUSR1")
    equal(case.wait_out("got"), "usr1\n", "/out/got written by the USR1 trap")


@requirement(SPEC, "Kill", "kill of a `created` container MUST send the signal")
def kill_created(case: Case) -> None:
    container_id = _sleeper(case)
    case.kill(container_id, "SIGKILL")
    case.wait_status(container_id, "stopped")


@requirement(SPEC, "Kill", "kill of a stopped container MUST fail, with no effect")
def kill_stopped(case: Case) -> None:
    container_id = _stopped(case)
    must_fail(case.kill(container_id, "SIGKILL", check=False), "kill")
    equal(case.state(container_id).get("status"), "stopped", "status")


@requirement(SPEC, "Delete", "delete without a container ID MUST fail")
def delete_no_id(case: Case) -> None:
    must_fail(case.call("delete"), "delete without an ID")


@requirement(SPEC, "Delete", "delete of a container that does not exist MUST fail")
def delete_unknown(case: Case) -> None:
    must_fail(case.call("delete", UNKNOWN), "delete")


@requirement(SPEC, "Delete", "delete of a running container MUST fail, with no effect")
def delete_running(case: Case) -> None:
    container_id = _sleeper(case)
    case.start(container_id)
    pid = case.wait_status(container_id, "running")["pid"]
    must_fail(case.delete(container_id, check=False), "delete")
    state = case.state(container_id)
    equal((state.get("status"), state.get("pid")), ("running", pid), "(status, pid)")


@requirement(
    SPEC, "Delete", "delete of a `created` container MUST fail, with no effect"
)
def delete_created(case: Case) -> None:
    container_id = _sleeper(case)
    pid = case.state(container_id)["pid"]
    must_fail(case.delete(container_id, check=False), "delete")
    state = case.state(container_id)
    equal((state.get("status"), state.get("pid")), ("created", pid), "(status, pid)")


@requirement(SPEC, "Delete", "delete MUST delete the container (state then fails)")
def delete_removes_state(case: Case) -> None:
    container_id = _stopped(case)
    case.delete(container_id)
    _no_state(case, container_id)


@requirement(SPEC, "Delete", "delete MUST delete the resources of create (its cgroup)")
def delete_removes_cgroup(case: Case) -> None:
    container_id = _sleeper(case)
    pid = case.state(container_id)["pid"]
    found = cgroups.process_cgroup(pid, "memory")
    require(
        found is not None and container_id in found[0],
        f"container not in a memory cgroup named after it: {found}",
    )
    case.kill(container_id, "SIGKILL")
    case.wait_status(container_id, "stopped")
    case.delete(container_id)
    require(found is not None and not found[1].exists(), f"{found} still exists")


@requirement(
    SPEC, "Delete", "resources not created by the container MUST NOT be deleted"
)
def delete_keeps_foreign(case: Case) -> None:
    host_dir = case.dir / "volume"
    host_dir.mkdir()
    (host_dir / "keep").write_text("kept\n")
    config = case.config("exit 0")
    config["mounts"].append(configs.bind(str(host_dir), "/data"))
    container_id, _ = case.create(config)
    case.start(container_id)
    case.wait_status(container_id, "stopped")
    case.delete(container_id)
    equal((host_dir / "keep").read_text(), "kept\n", "file in the bind mount source")
    require(
        (case.bundle_dir(container_id) / "config.json").exists(),
        "the bundle's config.json was removed",
    )


@requirement(SPEC, "Delete", "once deleted, its ID MAY be used by a new container")
def delete_frees_id(case: Case) -> None:
    container_id = _stopped(case)
    case.delete(container_id)
    _, again = case.create(case.config("exit 0"), container_id, check=False)
    must_pass(again, "create with the ID of a deleted container")
