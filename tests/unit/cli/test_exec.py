"""`exec`'s flags laid over the container's process object, as runc lays them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pyrunc.cli import exec as exec_command
from pyrunc.cli.args import Namespace, Parser
from pyrunc.errors import UsageError
from pyrunc.spec.default import default_config


def parse(*argv: str) -> Namespace:
    parser = Parser("pyrunc exec")
    exec_command.add_arguments(parser)
    return parser.parse_args(list(argv))


def spec_process() -> dict[str, Any]:
    process: dict[str, Any] = copy.deepcopy(default_config()["process"])
    return process


def test_command_takes_the_rest_of_the_line_verbatim() -> None:
    args = parse("-e", "A=1", "box", "sh", "-c", "echo -e x", "--cwd", "/")
    assert args.container_id == "box"
    assert args.argv == ["sh", "-c", "echo -e x", "--cwd", "/"]
    assert args.cwd is None


def test_repeated_flags_collect_in_order() -> None:
    args = parse("-e", "A=1", "--env", "B=2", "-g", "5", "-g", "6", "box", "true")
    assert args.env == ["A=1", "B=2"]
    assert args.additional_gids == [5, 6]
    assert parse("box", "true").env == []


def test_without_flags_only_args_and_terminal_change() -> None:
    base = spec_process()
    process = exec_command.process_from_flags(parse("box", "id", "-u"), base)
    assert process == {**base, "args": ["id", "-u"], "terminal": False}
    assert base == spec_process()


def test_tty_flag_sets_terminal() -> None:
    base = {**spec_process(), "terminal": True}
    assert (
        exec_command.process_from_flags(parse("box", "sh"), base)["terminal"] is False
    )
    assert exec_command.process_from_flags(parse("-t", "box", "sh"), base)["terminal"]


def test_env_replaces_in_place_and_appends() -> None:
    env = ["PATH=/bin", "TERM=xterm"]
    merged = exec_command.merge_env(env, ["TERM=dumb", "NEW=1", "PATH=/usr/bin"])
    assert merged == ["PATH=/usr/bin", "TERM=dumb", "NEW=1"]
    assert env == ["PATH=/bin", "TERM=xterm"]


@pytest.mark.parametrize("entry", ["NOEQUALS", "=value"])
def test_env_entry_must_be_key_value(entry: str) -> None:
    with pytest.raises(UsageError, match="--env"):
        exec_command.merge_env([], [entry])


def test_cap_adds_to_bounding_effective_permitted_and_ambient() -> None:
    caps = {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "inheritable": []}
    added = exec_command.add_capabilities(caps, ["CAP_CHOWN", "CAP_KILL"])
    for field in ("bounding", "effective"):
        assert added[field] == ["CAP_KILL", "CAP_CHOWN"]
    assert added["permitted"] == added["ambient"] == ["CAP_CHOWN", "CAP_KILL"]
    assert added["inheritable"] == []


def test_unknown_cap_is_refused() -> None:
    with pytest.raises(UsageError, match="--cap: unknown capability CAP_NOPE"):
        exec_command.add_capabilities({}, ["CAP_NOPE"])


def test_user_and_additional_gids() -> None:
    base = spec_process()
    base["user"] = {"uid": 0, "gid": 0, "additionalGids": [1]}
    args = parse("-u", "1000:1001", "-g", "7", "box", "id")
    user = exec_command.process_from_flags(args, base)["user"]
    assert user == {"uid": 1000, "gid": 1001, "additionalGids": [1, 7]}
    user = exec_command.process_from_flags(parse("-u", "5", "box", "id"), base)["user"]
    assert (user["uid"], user["gid"]) == (5, 0)


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["box"], "args must not be empty"),
        (["--cwd", "tmp", "box", "true"], "--cwd tmp: must be an absolute path"),
        (["-u", "root", "box", "true"], "--user root: uid"),
        (["-u", "1:", "box", "true"], "--user 1:: gid"),
        (["-g", "-1", "box", "true"], "--additional-gids -1"),
    ],
)
def test_bad_flags_are_refused(argv: list[str], match: str) -> None:
    with pytest.raises(UsageError, match=match):
        exec_command.process_from_flags(parse(*argv), spec_process())


def test_no_new_privs_and_cwd() -> None:
    base = {**spec_process(), "noNewPrivileges": False}
    process = exec_command.process_from_flags(
        parse("--no-new-privs", "--cwd", "/srv", "box", "true"), base
    )
    assert process["noNewPrivileges"] is True
    assert process["cwd"] == "/srv"


@pytest.mark.parametrize(
    ("values", "paths"),
    [
        ([], {}),
        (["sub"], {"": "sub"}),
        (["memory,pids:a/b"], {"memory": "a/b", "pids": "a/b"}),
        (["memory:x:y", "rest"], {"memory": "x:y", "": "rest"}),
    ],
)
def test_cgroup_values_map_controllers_to_paths(
    values: list[str], paths: dict[str, str]
) -> None:
    assert exec_command.sub_cgroups(values) == paths


@pytest.mark.parametrize(
    "values", [["a", "b"], ["memory:a", "memory,pids:b"], ["memory:"], [""]]
)
def test_cgroup_values_that_contradict_or_are_empty_are_refused(
    values: list[str],
) -> None:
    with pytest.raises(UsageError):
        exec_command.sub_cgroups(values)
