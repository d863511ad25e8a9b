"""Signals a foreground pyrunc receives go on to its process, held until it exists."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from pyrunc import foreground


@pytest.fixture
def forwarder() -> Iterator[foreground.Forwarder]:
    """A Forwarder; the test process's own handlers are put back after."""
    saved = {sig: signal.getsignal(sig) for sig in foreground.FORWARDED}
    try:
        yield foreground.Forwarder()
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_signal_goes_on_to_the_process(forwarder: foreground.Forwarder) -> None:
    child = sleeper()
    try:
        forwarder.attach(child.pid)
        os.kill(os.getpid(), signal.SIGUSR1)
        assert child.wait(timeout=30) == -signal.SIGUSR1
    finally:
        child.kill()
        child.wait()
        forwarder.close()


def test_signal_before_the_process_is_held(forwarder: foreground.Forwarder) -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    assert forwarder.held == [signal.SIGTERM]
    child = sleeper()
    try:
        forwarder.attach(child.pid)
        assert child.wait(timeout=30) == -signal.SIGTERM
        assert forwarder.held == []
    finally:
        child.kill()
        child.wait()
        forwarder.close()


def test_wait_returns_128_plus_the_signal(forwarder: foreground.Forwarder) -> None:
    child = os.fork()
    if child == 0:
        os.kill(os.getpid(), signal.SIGKILL)
        os._exit(1)
    assert foreground.wait(child, forwarder) == 128 + signal.SIGKILL


def test_after_close_signals_are_dropped(forwarder: foreground.Forwarder) -> None:
    forwarder.close()
    os.kill(os.getpid(), signal.SIGUSR2)
    assert forwarder.held == []
