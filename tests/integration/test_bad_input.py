"""Bad input: each is refused with exit 1, a message naming what is wrong, no debris.

A create that fails must leave nothing: no state under --root, no cgroup, no
mount under the bundle and no process rooted in the bundle's rootfs.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import (
    Bundle,
    Runtime,
    create,
    error_message,
    leftovers,
    wait_status,
)

Config = dict[str, Any]


def edit(change: Callable[[Config], None]) -> Callable[[Bundle], None]:
    """Return a bundle mutation that edits the written config.json."""

    def mutate(bundle: Bundle) -> None:
        path = bundle.path / "config.json"
        config = json.loads(path.read_text())
        change(config)
        path.write_text(json.dumps(config))

    return mutate


def remove_config(bundle: Bundle) -> None:
    (bundle.path / "config.json").unlink()


def break_json(bundle: Bundle) -> None:
    (bundle.path / "config.json").write_text('{"ociVersion": "1.2.0", ')


def remove_bundle(bundle: Bundle) -> None:
    shutil.rmtree(bundle.path)


def remove_rootfs(bundle: Bundle) -> None:
    shutil.rmtree(bundle.rootfs)


def keep(bundle: Bundle) -> None:
    """Leave the bundle as written."""


def set_process(field: str, value: Any) -> Callable[[Bundle], None]:
    return edit(lambda config: config["process"].__setitem__(field, value))


def add_namespace(config: Config) -> None:
    config["linux"]["namespaces"].append({"type": "nosuch"})


def add_missing_hook(config: Config) -> None:
    config["hooks"] = {"createRuntime": [{"path": "/nonexistent/hook"}]}


# (name, container id, mutation of the written bundle, words the message holds)
CREATE_FAILURES = [
    ("no-config", "c", remove_config, ["config.json", "not found"]),
    ("invalid-json", "c", break_json, ["config.json", "invalid JSON"]),
    ("args-a-string", "c", set_process("args", "sh"), ["process.args", "array"]),
    ("unknown-namespace", "c", edit(add_namespace), ["linux.namespaces", "type"]),
    ("empty-id", "", keep, ["container id cannot be empty"]),
    ("path-id", "../x", keep, ["invalid container id format: ../x"]),
    ("no-bundle", "c", remove_bundle, ["bundle", "no such directory"]),
    ("no-rootfs", "c", remove_rootfs, ["root.path", "rootfs"]),
    ("empty-args", "c", set_process("args", []), ["process.args", "empty"]),
    ("missing-hook", "c", edit(add_missing_hook), ["/nonexistent/hook"]),
    (
        "missing-program",
        "c",
        set_process("args", ["nosuchprogram"]),
        ['"nosuchprogram"', "executable file not found"],
    ),
    (
        "missing-program-path",
        "c",
        set_process("args", ["/bin/nosuchprogram"]),
        ["stat /bin/nosuchprogram: no such file or directory"],
    ),
    (
        "terminal-without-console-socket",
        "c",
        set_process("terminal", True),
        ["--console-socket"],
    ),
]


@pytest.mark.parametrize(
    ("container_id", "mutate", "words"),
    [case[1:] for case in CREATE_FAILURES],
    ids=[case[0] for case in CREATE_FAILURES],
)
def test_create_refuses_and_leaves_nothing(
    pyrunc: Runtime,
    bundle: Bundle,
    container_id: str,
    mutate: Callable[[Bundle], None],
    words: list[str],
) -> None:
    bundle.set_args("true")
    bundle.write(container_id)
    mutate(bundle)
    result = pyrunc("create", "--bundle", str(bundle.path), container_id)
    assert result.returncode == 1, result.stderr
    message = error_message(result.stderr)
    for word in words:
        assert word in message
    assert leftovers(pyrunc, bundle, container_id) == []
    assert pyrunc.container_ids() == []


def test_run_of_a_missing_program_leaves_nothing(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    bundle.set_args("nosuchprogram")
    result = pyrunc.run(bundle, "norun")
    assert result.returncode == 1, result.stderr
    assert "executable file not found" in error_message(result.stderr)
    assert leftovers(pyrunc, bundle, "norun") == []


def test_create_of_a_taken_id_leaves_the_first_alone(
    pyrunc: Runtime, make_bundle: Callable[[str], Bundle]
) -> None:
    first, second = make_bundle("first"), make_bundle("second")
    first.shell("sleep 30")
    result = create(pyrunc, first, "taken")
    assert result.returncode == 0, result.stderr
    state = pyrunc.state("taken")
    held = leftovers(pyrunc, second, "taken")

    result = create(pyrunc, second, "taken")
    assert result.returncode == 1, result.stderr
    assert "container with id exists: taken" in error_message(result.stderr)
    assert pyrunc.state("taken") == state
    assert leftovers(pyrunc, second, "taken") == held

    result = pyrunc("delete", "taken")
    assert result.returncode == 0, result.stderr
    assert leftovers(pyrunc, first, "taken") == []


# refused operations on an existing container leave it as it was


def running(pyrunc: Runtime, bundle: Bundle, container_id: str) -> None:
    bundle.shell("sleep 30")
    result = create(pyrunc, bundle, container_id)
    assert result.returncode == 0, result.stderr
    result = pyrunc("start", container_id)
    assert result.returncode == 0, result.stderr


OPERATION_FAILURES = [
    ("start-twice", ["start", "busy"], "cannot start an already running container"),
    ("delete-running", ["delete", "busy"], "that is not stopped: running"),
    ("unknown-signal", ["kill", "busy", "NOSUCH"], 'unknown signal "NOSUCH"'),
    ("signal-zero", ["kill", "busy", "0"], 'unknown signal "0"'),
    ("signal-too-big", ["kill", "busy", "65"], 'unknown signal "65"'),
    ("missing-id", ["kill", "idle", "KILL"], "container does not exist"),
    ("bad-id", ["state", "a/b"], "invalid container id format: a/b"),
]


@pytest.mark.parametrize(
    ("argv", "message"),
    [case[1:] for case in OPERATION_FAILURES],
    ids=[case[0] for case in OPERATION_FAILURES],
)
def test_refused_operation_keeps_the_container(
    pyrunc: Runtime, bundle: Bundle, argv: list[str], message: str
) -> None:
    running(pyrunc, bundle, "busy")
    pid = pyrunc.state("busy")["pid"]
    result = pyrunc(*argv)
    assert result.returncode == 1, result.stderr
    assert message in error_message(result.stderr)
    assert pyrunc.state("busy")["status"] == "running"
    assert pyrunc.state("busy")["pid"] == pid


def test_kill_of_a_stopped_container_is_refused(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    bundle.shell("true")
    result = create(pyrunc, bundle, "over")
    assert result.returncode == 0, result.stderr
    result = pyrunc("start", "over")
    assert result.returncode == 0, result.stderr
    assert wait_status(pyrunc, "over", "stopped")["status"] == "stopped"
    result = pyrunc("kill", "over", "KILL")
    assert result.returncode == 1, result.stderr
    assert error_message(result.stderr) == "container not running"


@pytest.mark.parametrize("command", ["start", "state", "kill", "delete"])
def test_commands_on_a_missing_container(pyrunc: Runtime, command: str) -> None:
    result = pyrunc(command, "absent")
    assert result.returncode == 1, result.stderr
    assert error_message(result.stderr) == "container does not exist"


@pytest.mark.parametrize("command", ["create", "start", "state", "kill", "delete"])
def test_commands_need_a_container_id(pyrunc: Runtime, command: str) -> None:
    result = pyrunc(command)
    assert result.returncode == 1, result.stderr
    assert "CONTAINER_ID" in error_message(result.stderr)
