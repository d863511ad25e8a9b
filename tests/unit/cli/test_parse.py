"""pyrunc.cli.parse: whole command lines parsed as main would, not run."""

from __future__ import annotations

import pytest

from pyrunc.cli import parse
from pyrunc.errors import UsageError


def test_global_flags_and_command_are_parsed() -> None:
    global_args, args = parse(
        ["--root", "/r", "--log", "/b/log.json", "--log-format", "json",
         "create", "--bundle", "/b", "--pid-file", "/b/init.pid", "ctr1"]
    )  # fmt: skip

    assert (global_args.root, global_args.log, global_args.log_format) == (
        "/r",
        "/b/log.json",
        "json",
    )
    assert (args.command, args.bundle, args.pid_file) == ("create", "/b", "/b/init.pid")


def test_kill_takes_a_numeric_signal_after_the_id() -> None:
    _, args = parse(["kill", "--all", "ctr1", "9"])

    assert (args.command, args.all) == ("kill", True)


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate", "ctr1"],
        ["create", "--no-such-flag", "ctr1"],
        ["--no-such-global", "state", "ctr1"],
        [],
    ],
)
def test_unknown_commands_and_flags_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(UsageError):
        parse(argv)
