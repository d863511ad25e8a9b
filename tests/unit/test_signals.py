"""Signal names and numbers as `kill` takes them, and which signals end a process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

import pytest

from pyrunc.errors import UsageError
from pyrunc.signals import parse_signal, terminates

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


def _default_dispositions() -> None:
    for sig in range(1, signal.NSIG):
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            with contextlib.suppress(OSError, ValueError):
                signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def test_terminates_agrees_with_the_kernel() -> None:
    """Send every signal to a process with default handlers and see which die."""
    numbers = [s for s in range(1, signal.NSIG) if s != signal.SIGKILL]
    children = {
        sig: subprocess.Popen(["sleep", "30"], preexec_fn=_default_dispositions)
        for sig in numbers
    }
    try:
        time.sleep(0.2)
        for sig, child in children.items():
            os.kill(child.pid, sig)
        time.sleep(0.3)
        died = {sig for sig, child in children.items() if child.poll() is not None}
    finally:
        for child in children.values():
            child.kill()
            child.wait()
    assert {s for s in numbers if terminates(s)} == died
