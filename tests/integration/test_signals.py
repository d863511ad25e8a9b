"""Signals: a foreground `run` or `exec` passes on what it receives and exits as
its process did; nothing of the container outlives it as a zombie or stray.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support import (
    Bundle,
    Runtime,
    children_of,
    processes_in,
    running,
    runtime_argv,
    stop_process,
    wait_for_file,
)

CID = "sig"
FORWARDED = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1]


def trapping(name: str) -> str:
    """Return a script that reports signal name in /got, exits 3, and until then
    waits, /ready telling it is waiting."""
    return (
        f"trap 'kill $!; echo {name} > /got; exit 3' {name.removeprefix('SIG')}; "
        "touch /ready; sleep 60 & wait"
    )


def foreground(runtime: Runtime, tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    """Start `runtime args...` in the background of the test, output to files."""
    with (tmp_path / "out").open("wb") as out, (tmp_path / "err").open("wb") as err:
        return subprocess.Popen(
            runtime_argv(runtime, *args),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )


def strays(before: set[tuple[int, str]]) -> list[tuple[int, str]]:
    """Return this test's children, zombies included, that were not there before."""
    return [child for child in children_of(os.getpid()) if child not in before]


@pytest.mark.parametrize("sig", FORWARDED, ids=lambda s: signal.Signals(s).name)
def test_signal_to_foreground_run_reaches_the_init(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path, sig: int
) -> None:
    """The init is pid 1 of its namespace: it gets a signal it has a handler for."""
    before = set(children_of(os.getpid()))
    name = signal.Signals(sig).name
    bundle.shell(trapping(name))
    path = bundle.write(CID)
    proc = foreground(pyrunc, tmp_path, "run", "--bundle", str(path), CID)
    try:
        assert wait_for_file(bundle.rootfs / "ready", timeout=30)
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 3, (tmp_path / "err").read_text()
    finally:
        stop_process(proc)
    assert (bundle.rootfs / "got").read_text() == f"{name}\n"
    assert processes_in(bundle.rootfs) == []
    assert strays(before) == []
    assert pyrunc.container_ids() == []


@pytest.mark.parametrize("sig", FORWARDED, ids=lambda s: signal.Signals(s).name)
def test_signal_to_foreground_exec_reaches_the_process(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path, sig: int
) -> None:
    init = running(pyrunc, bundle, CID)
    before = set(children_of(os.getpid()))
    name = signal.Signals(sig).name
    proc = foreground(pyrunc, tmp_path, "exec", CID, "sh", "-c", trapping(name))
    try:
        assert wait_for_file(bundle.rootfs / "ready", timeout=30)
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 3, (tmp_path / "err").read_text()
    finally:
        stop_process(proc)
    assert (bundle.rootfs / "got").read_text() == f"{name}\n"
    assert processes_in(bundle.rootfs) == [init]
    assert strays(before) == []


def test_foreground_exec_exits_with_the_signal_that_killed_the_process(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    """A process without a handler dies of the forwarded signal: 128+N."""
    init = running(pyrunc, bundle, CID)
    before = set(children_of(os.getpid()))
    proc = foreground(
        pyrunc, tmp_path, "exec", CID, "sh", "-c", "touch /ready; exec sleep 60"
    )
    try:
        assert wait_for_file(bundle.rootfs / "ready", timeout=30)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        stop_process(proc)
    assert processes_in(bundle.rootfs) == [init]
    assert strays(before) == []


def test_foreground_run_reaps_everything(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    """Children the init leaves behind die with its pid namespace; none lingers."""
    before = set(children_of(os.getpid()))
    bundle.shell("sleep 60 & sleep 60 & sleep 0.2; exit 5")
    path = bundle.write(CID)
    proc = foreground(pyrunc, tmp_path, "run", "--bundle", str(path), CID)
    try:
        assert proc.wait(timeout=30) == 5, (tmp_path / "err").read_text()
    finally:
        stop_process(proc)
    assert processes_in(bundle.rootfs) == []
    assert strays(before) == []
    assert pyrunc.container_ids() == []
