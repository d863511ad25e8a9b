"""Fixtures for the engine tests: private containerd and podman instances, an image.

Both engines are started once per test session and run the same scenarios
with pyrunc and with runc, each behind its own recording wrapper, so a
failure that runc shares is known not to be pyrunc's.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engines.engines import (
    Containerd,
    Podman,
    RecordedRuntime,
    build_image,
    podman_cgroup_root,
    remove_cgroup_tree,
)
from tests.support import pyrunc_command

RUNTIMES = ("pyrunc", "runc")


def _require(*programs: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("the engines run containers as root")
    missing = [name for name in programs if shutil.which(name) is None]
    if missing:
        pytest.skip(
            f"not installed: {', '.join(missing)} (scripts/test.sh installs them)"
        )


def _recorded(workdir: Path) -> dict[str, RecordedRuntime]:
    commands = {"pyrunc": pyrunc_command()}
    runc = shutil.which("runc")
    if runc is not None:
        commands["runc"] = [runc]
    return {
        name: RecordedRuntime(name, command, workdir)
        for name, command in commands.items()
    }


@pytest.fixture(params=RUNTIMES)
def runtime_name(request: pytest.FixtureRequest) -> str:
    """The runtime an engine test drives: pyrunc, then runc for comparison."""
    name: str = request.param
    if name == "runc" and shutil.which("runc") is None:
        pytest.skip("runc is not installed")
    return name


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    """A private podman whose runtimes are recorded pyrunc and runc."""
    _require("podman", "conmon", "skopeo")
    workdir = tmp_path_factory.mktemp("podman")
    runtimes = _recorded(workdir / "runtimes")
    instance = Podman(workdir / "engine", list(runtimes.values()))
    try:
        yield instance
    finally:
        instance.reset()
        remove_cgroup_tree(podman_cgroup_root())


@pytest.fixture(scope="session")
def image_archive(podman: Podman, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The busybox image, in podman's storage and as an OCI archive."""
    archive = tmp_path_factory.mktemp("image") / "busybox.tar"
    build_image(podman, archive)
    return archive


@pytest.fixture(scope="session")
def containerd(
    image_archive: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Containerd]:
    """A private containerd holding the busybox image."""
    _require("containerd", "ctr", "containerd-shim-runc-v2")
    daemon = Containerd(tmp_path_factory.mktemp("containerd"))
    try:
        daemon.start()
        imported = daemon.ctr("images", "import", str(image_archive))
        assert imported.returncode == 0, imported.stderr
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def containerd_runtimes(containerd: Containerd) -> dict[str, RecordedRuntime]:
    """The recorded runtimes containerd's shim calls, by name."""
    return _recorded(containerd.workdir / "runtimes")
