"""Fixtures shared by the whole suite: runtimes to drive and bundles to run."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import (
    Bundle,
    Runtime,
    make_rootfs,
    pyrunc_command,
    remove_test_cgroups,
)
from tests.tmux import Tmux


def _become_subreaper() -> None:
    # Orphaned container inits are re-parented to the test process, which
    # reaps them; this machine's pid 1 does not.
    import prctl

    prctl.set_child_subreaper(1)


def _reap_orphans() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


@pytest.fixture(scope="session", autouse=True)
def _session_hygiene() -> Iterator[None]:
    if os.geteuid() == 0:
        _become_subreaper()
    yield
    _reap_orphans()
    remove_test_cgroups()


@pytest.fixture
def root_only() -> None:
    """Skip unless the test runs as root, as real containers need."""
    if os.geteuid() != 0:
        pytest.skip("running containers needs root")


@pytest.fixture(scope="session")
def rootfs_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A busybox rootfs that bundles copy."""
    return make_rootfs(tmp_path_factory.mktemp("rootfs-template") / "rootfs")


@pytest.fixture
def bundle(tmp_path: Path, rootfs_template: Path) -> Bundle:
    """A fresh busybox bundle in the test's temporary directory."""
    return Bundle(tmp_path / "bundle", rootfs_template)


@pytest.fixture
def make_bundle(tmp_path: Path, rootfs_template: Path):  # type: ignore[no-untyped-def]
    """A factory of further bundles: make_bundle("name")."""

    def factory(name: str) -> Bundle:
        return Bundle(tmp_path / name, rootfs_template)

    return factory


@pytest.fixture
def pyrunc(root_only: None, tmp_path: Path) -> Iterator[Runtime]:
    """pyrunc with a state root of the test's own; cleaned up after the test."""
    runtime = Runtime("pyrunc", pyrunc_command(), tmp_path / "pyrunc-root")
    yield runtime
    runtime.cleanup()
    _reap_orphans()


@pytest.fixture
def runc(root_only: None, tmp_path: Path) -> Iterator[Runtime]:
    """runc, for side-by-side comparison; skipped where it is not installed."""
    binary = shutil.which("runc")
    if binary is None:
        pytest.skip("runc is not installed")
    runtime = Runtime("runc", [binary], tmp_path / "runc-root")
    yield runtime
    runtime.cleanup()
    _reap_orphans()


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    """A tmux server for one test, stopped after it; skipped without tmux."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    workdir = tmp_path / "tmux"
    workdir.mkdir()
    server = Tmux(workdir)
    try:
        yield server
    finally:
        server.stop()
