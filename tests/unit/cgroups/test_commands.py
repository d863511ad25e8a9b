"""The pure parts of the cgroup commands: durations, sizes, ps filtering, stats."""

from __future__ import annotations

import pytest

from pyrunc.cgroups.v1 import cpu_list, omit_empty
from pyrunc.cli.events import parse_duration
from pyrunc.cli.ps import filter_ps
from pyrunc.cli.update import parse_bytes
from pyrunc.errors import PyruncError, UsageError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5s", 5), ("100ms", 0.1), ("1m30s", 90), ("1.5h", 5400), ("250us", 250e-6)],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "1x", "s", "0s", "1..2s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError, match="--interval"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1024", 1024),
        ("64m", 64 << 20),
        ("64MB", 64 << 20),
        ("512KiB", 512 << 10),
        ("1.5g", 3 << 29),
        ("1 k", 1024),
        ("-1", -1),
    ],
)
def test_sizes_as_runc_reads_them(text: str, size: int) -> None:
    assert parse_bytes(text, "--memory") == size


@pytest.mark.parametrize("text", ["", "m", "1x", "-5", "ten"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(UsageError, match="--memory"):
        parse_bytes(text, "--memory")


PS = """\
UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init
root         200       1  0 10:01 ?        00:00:00 sleep 30
root         201     200  0 10:01 ?        00:00:00 sleep 31
"""


def test_ps_keeps_the_header_and_the_containers_lines() -> None:
    kept = filter_ps(PS, {200, 201}).splitlines()
    assert kept[0].startswith("UID")
    assert [line.split()[1] for line in kept[1:]] == ["200", "201"]


def test_ps_output_needs_a_pid_column() -> None:
    with pytest.raises(PyruncError, match="PID column"):
        filter_ps("USER COMMAND\nroot init\n", {1})


@pytest.mark.parametrize(
    ("text", "numbers"),
    [("0-3", [0, 1, 2, 3]), ("0,2-3", [0, 2, 3]), ("", []), ("1\n", [1])],
)
def test_cpu_lists(text: str, numbers: list[int]) -> None:
    assert cpu_list(text) == numbers


def test_omit_empty_drops_only_the_named_zero_keys() -> None:
    values = {"limit": 0, "usage": 0, "max": 5, "failcnt": 0}
    assert omit_empty(values, "usage", "max") == {"limit": 0, "max": 5, "failcnt": 0}
