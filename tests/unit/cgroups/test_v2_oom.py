"""The v2 OOM notifier once its cgroup is removed under it, as `delete` does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyrunc.cgroups import v2


def _v2_mount() -> Path | None:
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        before, _, after = line.partition(" - ")
        if after.split()[0] == "cgroup2":
            return Path(before.split()[4])
    return None


def test_read_after_the_cgroup_is_removed_says_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mount = _v2_mount()
    if os.geteuid() != 0 or mount is None:
        pytest.skip("needs root and a cgroup v2 hierarchy")
    cgroup = mount / f"pyrunc-unit-{os.getpid()}"
    cgroup.mkdir()
    try:
        # memory.events exists only where the memory controller is enabled;
        # cgroup.events reads the same way and shows what the fd does
        notifier = v2.OomNotifier.__new__(v2.OomNotifier)
        notifier.path = str(cgroup / "cgroup.events")
        notifier.fd = os.open(notifier.path, os.O_RDONLY | os.O_CLOEXEC)
        notifier.kills = 0
        assert notifier.read() == 0
    finally:
        cgroup.rmdir()

    # as if the removal came between a look at the path and the read
    monkeypatch.setattr(os.path, "exists", lambda path: True)
    assert notifier.read() == -1
    notifier.close()
