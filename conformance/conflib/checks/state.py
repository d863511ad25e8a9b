"""runtime.md State and Query State."""

from __future__ import annotations

from pathlib import Path

from conflib.case import Case, equal, must_fail, require
from conflib.registry import requirement

SPEC = "runtime.md"
LONG_SLEEP = "sleep 60"


def _created(case: Case, script: str = LONG_SLEEP) -> tuple[str, Path]:
    container_id, _ = case.create(case.config(script))
    return container_id, case.bundle_dir(container_id)


@requirement(
    SPEC, "State", "state has ociVersion, id, status, pid and bundle (REQUIRED)"
)
def state_required_fields(case: Case) -> None:
    container_id, _ = _created(case)
    state = case.state(container_id)
    missing = [
        key
        for key in ("ociVersion", "id", "status", "pid", "bundle")
        if key not in state
    ]
    require(not missing, f"state lacks {missing}: {state}")


@requirement(SPEC, "State", "id is the container's ID")
def state_id(case: Case) -> None:
    container_id, _ = _created(case)
    equal(case.state(container_id).get("id"), container_id, "state id")


@requirement(SPEC, "State", "bundle is the absolute path to the container's bundle")
def state_bundle(case: Case) -> None:
    container_id, bundle = _created(case)
    equal(case.state(container_id).get("bundle"), str(bundle), "state bundle")


@requirement(SPEC, "State", "status is `created` after create")
def state_created(case: Case) -> None:
    container_id, _ = _created(case)
    equal(case.state(container_id).get("status"), "created", "status")


@requirement(SPEC, "State", "status is `running` once the program is executed")
def state_running(case: Case) -> None:
    container_id, _ = _created(case)
    case.start(container_id)
    equal(case.state(container_id).get("status"), "running", "status after start")


@requirement(SPEC, "State", "status is `stopped` once the container process exited")
def state_stopped(case: Case) -> None:
    container_id, _ = _created(case, "exit 0")
    case.start(container_id)
    case.wait_status(container_id, "stopped")


@requirement(SPEC, "State", "pid is the container process as seen by the host")
def state_pid(case: Case) -> None:
    container_id, _ = case.create(case.config(args=["sleep", "60"]))
    case.start(container_id)
    pid = case.state(container_id).get("pid")
    require(isinstance(pid, int) and pid > 0, f"pid is {pid!r}")
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    equal(cmdline, [b"sleep", b"60", b""], f"/proc/{pid}/cmdline")


@requirement(SPEC, "State", "annotations holds the annotations of config.json")
def state_annotations(case: Case) -> None:
    config = case.config(LONG_SLEEP)
    annotations = {"org.example.key": "value", "org.example.empty": ""}
    config["annotations"] = annotations
    container_id, _ = case.create(config)
    equal(case.state(container_id).get("annotations"), annotations, "annotations")


@requirement(SPEC, "Query State", "state of a container that does not exist MUST fail")
def state_unknown(case: Case) -> None:
    must_fail(case.call("state", "conformance-no-such-container"), "state")


@requirement(SPEC, "Query State", "state without a container ID MUST fail")
def state_no_id(case: Case) -> None:
    must_fail(case.call("state"), "state")
