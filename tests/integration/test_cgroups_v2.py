"""The cgroup tests again, in a guest booted with cgroup v2 alone (virtme-ng).

A host with v1 hierarchies cannot show what pyrunc does on a v2-only
machine, so this boots the host's own kernel and filesystem under QEMU with
``cgroup_no_v1=all`` and runs test_cgroups.py there. It needs virtme-ng
(``pip install virtme-ng``), QEMU (``apt-get install qemu-system-x86``) and a
kernel image in /boot (``apt-get install linux-image-amd64``); without them it
is skipped, saying which is missing. Under emulation the guest takes minutes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO, pyrunc_command

IN_GUEST = "PYRUNC_TEST_V2_GUEST"


def _vng() -> str | None:
    beside = Path(sys.executable).with_name("vng")
    return str(beside) if beside.exists() else shutil.which("vng")


def _kernel() -> Path | None:
    images = sorted(Path("/boot").glob("vmlinuz-*"))
    return images[-1] if images else None


def _missing() -> str | None:
    if os.environ.get(IN_GUEST):
        return "already inside the cgroup v2 guest"
    if os.geteuid() != 0:
        return "running containers needs root"
    if _vng() is None:
        return "virtme-ng is not installed (pip install virtme-ng)"
    if shutil.which("qemu-system-x86_64") is None:
        return "QEMU is not installed (apt-get install qemu-system-x86)"
    if _kernel() is None:
        return "no kernel image in /boot (apt-get install linux-image-amd64)"
    return None


@pytest.mark.skipif(_missing() is not None, reason=_missing() or "")
def test_cgroup_tests_pass_on_a_v2_only_kernel(tmp_path: Path) -> None:
    inner = " ".join(
        [
            # virtme-ng mounts the cgroup tree read-only
            "mount -o remount,rw /sys/fs/cgroup &&",
            f"cat /proc/self/cgroup > {tmp_path}/guest.cgroup; cd {REPO} &&",
            f"{IN_GUEST}=1 PYTHONDONTWRITEBYTECODE=1",
            f"PYRUNC_CMD='{' '.join(pyrunc_command())}'",
            f"PYTHONPATH={REPO}",
            f"{sys.executable} -m pytest -q -p no:cacheprovider",
            "tests/integration/test_cgroups.py",
            f"> {tmp_path}/guest.log 2>&1; echo $? > {tmp_path}/guest.status",
        ]
    )
    # KVM is left out: nested under this machine's hypervisor QEMU fails on it
    argv = [str(_vng()), "--disable-kvm", "--memory", "2G", "--cpus", "2"]
    argv += ["--rwdir", str(tmp_path), "--run", str(_kernel())]
    argv += ["--append", "cgroup_no_v1=all", "--exec", inner]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    booted = subprocess.run(
        argv, capture_output=True, text=True, timeout=1500, env=env, check=False
    )

    status_file = tmp_path / "guest.status"
    assert status_file.exists(), booted.stdout[-3000:] + booted.stderr[-3000:]
    log = (tmp_path / "guest.log").read_text()
    assert (tmp_path / "guest.cgroup").read_text() == "0::/\n"  # v2 alone
    assert status_file.read_text().strip() == "0", log[-6000:]
    assert " passed" in log.splitlines()[-1], log[-3000:]
