"""config.md Hooks and the hook steps of the runtime.md Lifecycle.

Hooks that run in the runtime namespace are host shell commands that
append their name to /out/order through the host path of the case's out
directory, and keep the state they read on stdin; the container's program
and startContainer hooks use /out inside.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from conflib import config as configs
from conflib import proc
from conflib.case import (
    WAIT_SECONDS,
    Case,
    Failure,
    equal,
    must_fail,
    must_pass,
    require,
)
from conflib.hostns import own_link
from conflib.registry import requirement
from conflib.workspace import INSIDE_HOOK

SPEC = "config.md"
LIFECYCLE = "runtime.md"
HOST_SH = "/bin/sh"
PROGRAM = "echo program >> /out/order; exec sleep 60"
SETTLE = 0.3


def _host_hook(case: Case, name: str, script: str = "") -> dict[str, Any]:
    """Return a hook run by the host's sh that logs its name and stdin."""
    out = case.out
    logging = f"cat > {out}/{name}.stdin; echo {name} >> {out}/order"
    return configs.hook(HOST_SH, "sh", "-c", f"{logging}; {script}")


def _inside_hook(name: str, script: str = "") -> dict[str, Any]:
    """Return a hook run by the container's sh that logs to /out."""
    logging = f"cat > /out/{name}.stdin; echo {name} >> /out/order"
    return configs.hook("/bin/sh", "sh", "-c", f"{logging}; {script}")


def _failing(case: Case, name: str) -> dict[str, Any]:
    return _host_hook(case, name, "exit 3")


def _config(case: Case, hooks: dict[str, list[dict[str, Any]]]) -> Any:
    config = case.config(PROGRAM)
    config["hooks"] = hooks
    return config


def _order(case: Case) -> list[str]:
    return (case.out_file("order") or "").split()


def _await_order(case: Case, name: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while name not in _order(case) and time.monotonic() < deadline:
        time.sleep(0.02)


def _stdin_state(case: Case, name: str) -> dict[str, Any]:
    text = case.out_file(f"{name}.stdin")
    require(text is not None, f"the {name} hook did not run")
    try:
        document = json.loads(text or "")
    except ValueError as err:
        raise Failure(f"{name} stdin is not JSON: {text!r}") from err
    require(isinstance(document, dict), f"{name} stdin is not an object: {text!r}")
    return dict(document)


def _record_ns(case: Case, name: str, kind: str = "mnt") -> dict[str, Any]:
    return _host_hook(
        case, name, f"readlink /proc/self/ns/{kind} > {case.out}/{name}.ns"
    )


def _container_link(case: Case, container_id: str, kind: str = "mnt") -> str:
    pid = case.state(container_id)["pid"]
    return os.readlink(f"/proc/{pid}/ns/{kind}")


@requirement(SPEC, "Prestart", "prestart hooks MUST be called as part of create")
def prestart_in_create(case: Case) -> None:
    case.create(_config(case, {"prestart": [_host_hook(case, "prestart")]}))
    equal(_order(case), ["prestart"], "hooks run by create")


@requirement(SPEC, "Prestart", "prestart hooks MUST be called before createRuntime")
def prestart_before_create_runtime(case: Case) -> None:
    hooks = {
        "createRuntime": [_host_hook(case, "createRuntime")],
        "prestart": [_host_hook(case, "prestart")],
    }
    case.create(_config(case, hooks))
    equal(_order(case), ["prestart", "createRuntime"], "hook order")


@requirement(
    SPEC, "CreateRuntime Hooks", "createRuntime hooks MUST be called as part of create"
)
def create_runtime_in_create(case: Case) -> None:
    case.create(_config(case, {"createRuntime": [_host_hook(case, "createRuntime")]}))
    equal(_order(case), ["createRuntime"], "hooks run by create")


@requirement(
    SPEC,
    "CreateContainer Hooks",
    "createContainer hooks MUST be called in create, after createRuntime",
)
def create_container_after_runtime(case: Case) -> None:
    hooks = {
        "createContainer": [_host_hook(case, "createContainer")],
        "createRuntime": [_host_hook(case, "createRuntime")],
    }
    case.create(_config(case, hooks))
    equal(_order(case), ["createRuntime", "createContainer"], "hooks run by create")


@requirement(
    SPEC,
    "StartContainer Hooks",
    "startContainer hooks MUST be called in start, before the user program",
)
def start_container_before_program(case: Case) -> None:
    container_id, _ = case.create(
        _config(case, {"startContainer": [_inside_hook("startContainer")]})
    )
    time.sleep(SETTLE)
    equal(_order(case), [], "hooks run by create")
    case.start(container_id)
    _await_order(case, "program")
    equal(_order(case), ["startContainer", "program"], "order after start")


@requirement(SPEC, "Poststart", "poststart hooks MUST be called before start returns")
def poststart_before_start_returns(case: Case) -> None:
    container_id, _ = case.create(
        _config(case, {"poststart": [_host_hook(case, "poststart")]})
    )
    equal(_order(case), [], "hooks run by create")
    case.start(container_id)
    require("poststart" in _order(case), "poststart had not run when start returned")


@requirement(
    SPEC, "Poststop", "poststop hooks MUST be called in delete (not before it)"
)
def poststop_in_delete(case: Case) -> None:
    config = case.config("exit 0")
    config["hooks"] = {"poststop": [_host_hook(case, "poststop")]}
    container_id, _ = case.create(config)
    case.start(container_id)
    case.wait_status(container_id, "stopped")
    equal(_order(case), [], "hooks run before delete")
    case.delete(container_id)
    equal(_order(case), ["poststop"], "hooks run by delete")


@requirement(SPEC, "Hooks", "hooks of one kind MUST be called in the listed order")
def hooks_in_order(case: Case) -> None:
    names = ["first", "second", "third"]
    hooks = {"createRuntime": [_host_hook(case, name) for name in names]}
    case.create(_config(case, hooks))
    equal(_order(case), names, "createRuntime hooks")


@requirement(SPEC, "Hooks", "the state MUST be passed to hooks over stdin")
def hooks_get_state(case: Case) -> None:
    container_id, _ = case.create(
        _config(case, {"createRuntime": [_host_hook(case, "createRuntime")]})
    )
    state = _stdin_state(case, "createRuntime")
    bundle = str(case.bundle_dir(container_id))
    equal(
        (state.get("id"), state.get("bundle")), (container_id, bundle), "(id, bundle)"
    )
    require("ociVersion" in state and "status" in state, f"state lacks fields: {state}")


@requirement(
    LIFECYCLE, "State", "a runtime-namespace hook gets the pid the runtime sees"
)
def hooks_get_host_pid(case: Case) -> None:
    container_id, _ = case.create(
        _config(case, {"createRuntime": [_host_hook(case, "createRuntime")]})
    )
    hook_pid = _stdin_state(case, "createRuntime").get("pid")
    equal(hook_pid, case.state(container_id).get("pid"), "pid given to createRuntime")


@requirement(SPEC, "Hooks", "the state MUST be passed over stdin to poststop hooks too")
def poststop_gets_state(case: Case) -> None:
    config = case.config("exit 0")
    config["hooks"] = {"poststop": [_host_hook(case, "poststop")]}
    container_id, _ = case.create(config)
    case.start(container_id)
    case.wait_status(container_id, "stopped")
    case.delete(container_id)
    equal(
        _stdin_state(case, "poststop").get("id"), container_id, "id given to poststop"
    )


@requirement(
    SPEC,
    "CreateRuntime Hooks",
    "createRuntime hooks MUST be executed in the runtime namespace",
)
def create_runtime_namespace(case: Case) -> None:
    hooks = {"createRuntime": [_record_ns(case, "createRuntime")]}
    case.create(_config(case, hooks))
    equal(case.out_file("createRuntime.ns"), own_link("mnt") + "\n", "mount namespace")


@requirement(
    SPEC,
    "CreateContainer Hooks",
    "createContainer hooks MUST be executed in the container namespace",
)
def create_container_namespace(case: Case) -> None:
    hooks = {"createContainer": [_record_ns(case, "createContainer")]}
    container_id, _ = case.create(_config(case, hooks))
    expected = _container_link(case, container_id) + "\n"
    equal(case.out_file("createContainer.ns"), expected, "mount namespace")


@requirement(
    SPEC,
    "StartContainer Hooks",
    "startContainer hooks MUST be executed in the container namespace",
)
def start_container_namespace(case: Case) -> None:
    record = "readlink /proc/self/ns/mnt > /out/startContainer.ns"
    hooks = {"startContainer": [_inside_hook("startContainer", record)]}
    container_id, _ = case.create(_config(case, hooks))
    expected = _container_link(case, container_id) + "\n"
    case.start(container_id)
    equal(case.wait_out("startContainer.ns"), expected, "mount namespace")


@requirement(
    SPEC,
    "StartContainer Hooks",
    "a startContainer hook path MUST resolve in the container namespace",
)
def start_container_path_inside(case: Case) -> None:
    hooks = {"startContainer": [configs.hook(INSIDE_HOOK)]}
    container_id, _ = case.create(_config(case, hooks))
    case.start(container_id)
    require(
        case.wait_out("inside-hook.stdin") is not None,
        f"{INSIDE_HOOK}, which only the container has, did not run",
    )


@requirement(
    SPEC, "Poststart", "poststart hooks MUST be executed in the runtime namespace"
)
def poststart_namespace(case: Case) -> None:
    container_id, _ = case.create(
        _config(case, {"poststart": [_record_ns(case, "poststart")]})
    )
    case.start(container_id)
    equal(case.out_file("poststart.ns"), own_link("mnt") + "\n", "mount namespace")


@requirement(
    LIFECYCLE, "Lifecycle", "a failing createRuntime hook MUST fail create, no program"
)
def create_runtime_fails(case: Case) -> None:
    hooks = {"createRuntime": [_failing(case, "createRuntime")]}
    container_id, result = case.create(_config(case, hooks), check=False)
    must_fail(result, "create with a failing createRuntime hook")
    must_fail(case.start(container_id, check=False), "start after the failed create")
    time.sleep(SETTLE)
    require("program" not in _order(case), "the user program ran")


@requirement(
    LIFECYCLE,
    "Lifecycle",
    "after a failing createRuntime hook, poststop hooks MUST run",
)
def create_runtime_fails_poststop(case: Case) -> None:
    hooks = {
        "createRuntime": [_failing(case, "createRuntime")],
        "poststop": [_host_hook(case, "poststop")],
    }
    _, result = case.create(_config(case, hooks), check=False)
    must_fail(result, "create with a failing createRuntime hook")
    equal(_order(case), ["createRuntime", "poststop"], "hooks run")


@requirement(LIFECYCLE, "Lifecycle", "a failing createContainer hook MUST fail create")
def create_container_fails(case: Case) -> None:
    hooks = {"createContainer": [_failing(case, "createContainer")]}
    _, result = case.create(_config(case, hooks), check=False)
    must_fail(result, "create with a failing createContainer hook")


def _failed_start(case: Case) -> tuple[str, proc.Result]:
    failing = configs.hook("/bin/sh", "sh", "-c", "exit 3")
    container_id, _ = case.create(_config(case, {"startContainer": [failing]}))
    return container_id, case.start(container_id, check=False)


@requirement(LIFECYCLE, "Lifecycle", "a failing startContainer hook MUST fail start")
def start_container_fails(case: Case) -> None:
    _, result = _failed_start(case)
    must_fail(result, "start with a failing startContainer hook")


@requirement(
    LIFECYCLE,
    "Lifecycle",
    "after a failing startContainer hook the container MUST stop, no program",
)
def start_container_fails_stops(case: Case) -> None:
    container_id, _ = _failed_start(case)
    gone = not case.call("state", container_id).ok
    if not gone:
        case.wait_status(container_id, "stopped")
    require("program" not in _order(case), "the user program ran")


@requirement(
    LIFECYCLE,
    "Lifecycle",
    "a failing poststart hook MUST only be a warning; later hooks run",
)
def poststart_fails(case: Case) -> None:
    hooks = {"poststart": [_failing(case, "failing"), _host_hook(case, "later")]}
    container_id, _ = case.create(_config(case, hooks))
    must_pass(case.start(container_id, check=False), "start with a failing poststart")
    require("later" in _order(case), f"hooks run: {_order(case)}")
    equal(case.state(container_id).get("status"), "running", "status")


@requirement(
    LIFECYCLE,
    "Lifecycle",
    "a failing poststop hook MUST only be a warning; later hooks run",
)
def poststop_fails(case: Case) -> None:
    config = case.config("exit 0")
    config["hooks"] = {
        "poststop": [_failing(case, "failing"), _host_hook(case, "later")]
    }
    container_id, _ = case.create(config)
    case.start(container_id)
    case.wait_status(container_id, "stopped")
    must_pass(case.delete(container_id, check=False), "delete with a failing poststop")
    equal(_order(case), ["failing", "later"], "poststop hooks run")


@requirement(SPEC, "Hooks", "args are the hook's argv, args[0] included (execv)")
def hook_args(case: Case) -> None:
    record = f"tr '\\0' ' ' < /proc/$$/cmdline > {case.out}/argv"
    hook = configs.hook(HOST_SH, "conformance-argv0", "-c", record, "x")
    case.create(_config(case, {"createRuntime": [hook]}))
    argv = (case.out_file("argv") or "").split(" ")
    equal(argv[:2], ["conformance-argv0", "-c"], "argv of the hook")


@requirement(SPEC, "Hooks", "env is the hook's environment (environ)")
def hook_env(case: Case) -> None:
    record = f"env > {case.out}/env"
    hook = configs.hook(HOST_SH, "sh", "-c", record, env=["CONF_A=1", "CONF_B=x y"])
    case.create(_config(case, {"createRuntime": [hook]}))
    lines = set((case.out_file("env") or "").splitlines())
    require({"CONF_A=1", "CONF_B=x y"} <= lines, f"hook environment: {sorted(lines)}")
    require(
        not any(line.startswith(configs.LEAK_MARKER) for line in lines),
        f"the caller's {configs.LEAK_MARKER} reached the hook",
    )


@requirement(SPEC, "Hooks", "timeout: the hook is aborted after that many seconds")
def hook_timeout(case: Case) -> None:
    hook = configs.hook(HOST_SH, "sh", "-c", "exec sleep 20", timeout=1)
    _, result = case.create(_config(case, {"createRuntime": [hook]}), check=False)
    must_fail(result, "create with a hook past its timeout")
    require(result.seconds < 10, f"create took {result.seconds:.1f} s")


@requirement(SPEC, "Hooks", "a hook path that is not absolute MUST fail")
def hook_relative_path(case: Case) -> None:
    hook = configs.hook("sh", "sh", "-c", "true")
    _, result = case.create(_config(case, {"createRuntime": [hook]}), check=False)
    must_fail(result, "create with a relative hook path")
