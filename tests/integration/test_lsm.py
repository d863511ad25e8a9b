"""AppArmor and SELinux labels on a host with neither: refused, and nothing left.

pyrunc applies no LSM label, so a config asking for one must fail rather
than run the process less confined than it asked; runc refuses as well.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import Bundle, Runtime, create, error_message, leftovers


def apparmor_enabled() -> bool:
    try:
        return (
            Path("/sys/module/apparmor/parameters/enabled").read_text().strip() == "Y"
        )
    except OSError:
        return False


def selinux_enabled() -> bool:
    return Path("/sys/fs/selinux/enforce").exists()


def set_apparmor(bundle: Bundle) -> None:
    bundle.config["process"]["apparmorProfile"] = "docker-default"


def set_selinux(bundle: Bundle) -> None:
    bundle.config["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0"


def set_mount_label(bundle: Bundle) -> None:
    bundle.config["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0"


FIELDS: dict[str, tuple[Callable[[Bundle], None], str, Callable[[], bool]]] = {
    "process.apparmorProfile": (set_apparmor, "AppArmor", apparmor_enabled),
    "process.selinuxLabel": (set_selinux, "SELinux", selinux_enabled),
    "linux.mountLabel": (set_mount_label, "SELinux", selinux_enabled),
}


@pytest.fixture(params=list(FIELDS))
def field(request: Any) -> str:
    name: str = request.param
    _, module, enabled = FIELDS[name]
    if enabled():
        pytest.skip(f"{module} is enabled on this host")
    return name


@pytest.mark.parametrize("command", ["create", "run"])
def test_label_is_refused_and_nothing_is_left(
    pyrunc: Runtime, bundle: Bundle, field: str, command: str
) -> None:
    set_label, module, _ = FIELDS[field]
    set_label(bundle)
    bundle.set_args("true")
    if command == "create":
        result = create(pyrunc, bundle, "labelled")
    else:
        result = pyrunc.run(bundle, "labelled")
    assert result.returncode == 1, result.stderr
    message = error_message(result.stderr)
    assert field in message
    assert f"{module} is not enabled on this host" in message
    assert leftovers(pyrunc, bundle, "labelled") == []
    assert pyrunc.container_ids() == []


def test_empty_labels_are_no_request(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.config["process"]["apparmorProfile"] = ""
    bundle.config["process"]["selinuxLabel"] = ""
    bundle.config["linux"]["mountLabel"] = ""
    bundle.shell("echo ran")
    result = pyrunc.run(bundle, "unlabelled")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ran\n"


@pytest.mark.runc
def test_runc_refuses_as_well(runc: Runtime, bundle: Bundle, field: str) -> None:
    """The reference: runc fails on the same configs on this host."""
    FIELDS[field][0](bundle)
    bundle.set_args("true")
    result = runc.run(bundle, "labelled")
    assert result.returncode == 1, result.stderr
    assert runc.container_ids() == []
