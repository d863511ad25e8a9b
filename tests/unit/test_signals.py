"""Signal names and numbers as `kill` takes them, and which signals end a process."""

from __future__ import annotations

import signal

import pytest

from pyrunc.errors import UsageError
from pyrunc.signals import parse_signal

GOOD = [
    ("KILL", 9),
    ("SIGKILL", 9),
    ("kill", 9),
    ("SigKill", 9),
    ("9", 9),
    ("TERM", 15),
    ("sigterm", 15),
    ("15", 15),
    ("HUP", 1),
    ("1", 1),
    ("USR1", signal.SIGUSR1),
    ("WINCH", signal.SIGWINCH),
    ("IOT", signal.SIGABRT),
    (str(signal.NSIG - 1), signal.NSIG - 1),
]

BAD = [
    "",
    "0",
    str(signal.NSIG),
    "999",
    "-9",
    "+9",
    " 9",
    "9.0",
    "NOSUCH",
    "SIG",
    "SIG KILL",
    "SIG_DFL",
    "²",
    "٩",
]


@pytest.mark.parametrize(("text", "number"), GOOD)
def test_parse_signal_takes_names_and_numbers(text: str, number: int) -> None:
    assert parse_signal(text) == number


@pytest.mark.parametrize("text", BAD)
def test_parse_signal_refuses_with_the_text_named(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_signal(text)
    assert str(caught.value) == f'unknown signal "{text}"'


def test_every_signal_name_parses_to_its_number() -> None:
    for sig in signal.Signals:
        assert parse_signal(sig.name) == sig.value
        assert parse_signal(sig.name.removeprefix("SIG")) == sig.value
