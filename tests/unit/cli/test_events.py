"""`events`: a statistics read that a concurrent delete cuts short ends the watch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pyrunc.cli import events


class VanishingManager:
    """A cgroup manager whose statistics cannot be read."""

    def __init__(self, paths: dict[str, str]) -> None:
        self.paths = paths

    def stats(self) -> dict[str, Any]:
        raise FileNotFoundError("memory.stat")


def test_a_failed_read_with_the_cgroup_gone_ends_the_watch(tmp_path: Path) -> None:
    manager = VanishingManager({"": str(tmp_path / "deleted")})

    assert events._stats(manager) is None  # type: ignore[arg-type]


def test_a_failed_read_with_the_cgroup_present_is_an_error(tmp_path: Path) -> None:
    manager = VanishingManager({"": str(tmp_path)})

    with pytest.raises(FileNotFoundError):
        events._stats(manager)  # type: ignore[arg-type]
