"""process.capabilities as the process holds them, compared line by line with runc.

`grep Cap /proc/self/status` shows the five sets; for each config below,
pyrunc and runc must print the same lines, for root and for user 1000.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pyrunc import capabilities
from tests.support import Bundle, Runtime, create, error_message, leftovers

CAP_LINES = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
SETS = ("bounding", "effective", "permitted", "inheritable", "ambient")
RUNC_DEFAULT = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]


def runtime_bounding() -> list[str]:
    """The capabilities the runtime itself may grant: those of its bounding set."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            held = int(line.split()[1], 16)
    return [name for name in capabilities.known() if held & capabilities.mask([name])]


def all_known() -> dict[str, list[str]]:
    """Every capability up to cap_last_cap that the runtime holds, in every set."""
    return dict.fromkeys(SETS, runtime_bounding())


CONFIGS: dict[str, Callable[[], dict[str, list[str]] | None]] = {
    "absent": lambda: None,
    "runc-default": lambda: dict.fromkeys(
        ("bounding", "effective", "permitted"), RUNC_DEFAULT
    ),
    "all": all_known,
    "ambient": lambda: dict.fromkeys(SETS, ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID"]),
    "bounding-only": lambda: {"bounding": ["CAP_SYS_ADMIN", "CAP_KILL", "CAP_CHOWN"]},
}


def cap_lines(text: str) -> dict[str, str]:
    fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
    return {name: fields[name].strip() for name in CAP_LINES}


def shape(bundle: Bundle, caps: dict[str, list[str]] | None, user: int) -> Bundle:
    if caps is None:
        bundle.config["process"].pop("capabilities", None)
    else:
        bundle.config["process"]["capabilities"] = caps
    bundle.config["process"]["user"] = {"uid": user, "gid": user}
    return bundle.shell("grep Cap /proc/self/status")


def run_ok(runtime: Runtime, bundle: Bundle, container_id: str = "caps") -> str:
    result = runtime.run(bundle, container_id)
    assert result.returncode == 0, f"{runtime.name}: {result.stderr}"
    return result.stdout


def hexmask(names: list[str]) -> str:
    return f"{capabilities.mask(names):016x}"


@pytest.mark.parametrize("user", [0, 1000])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_sets_are_what_the_config_asks(
    pyrunc: Runtime, bundle: Bundle, config: str, user: int
) -> None:
    """A set the config leaves out is empty; ambient holds only what it may.

    The sets are read after execve: root (under no_new_privs) keeps its
    permitted set, effective with it; any other user keeps only the ambient
    capabilities, permitted and effective.
    """
    caps = CONFIGS[config]()
    shape(bundle, caps, user)
    sets = caps or {}
    ambient = [
        name
        for name in sets.get("ambient", [])
        if name in sets.get("permitted", []) and name in sets.get("inheritable", [])
    ]
    kept = sets.get("permitted", []) if user == 0 else ambient
    assert cap_lines(run_ok(pyrunc, bundle)) == {
        "CapInh": hexmask(sets.get("inheritable", [])),
        "CapPrm": hexmask(kept),
        "CapEff": hexmask(kept),
        "CapBnd": hexmask(sets.get("bounding", [])),
        "CapAmb": hexmask(ambient),
    }


@pytest.mark.runc
@pytest.mark.parametrize("user", [0, 1000])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_sets_match_runc(
    pyrunc: Runtime,
    runc: Runtime,
    make_bundle: Callable[[str], Bundle],
    config: str,
    user: int,
) -> None:
    found = {}
    for runtime in (pyrunc, runc):
        bundle = shape(make_bundle(runtime.name), CONFIGS[config](), user)
        found[runtime.name] = cap_lines(run_ok(runtime, bundle))
    assert found["pyrunc"] == found["runc"]


@pytest.mark.runc
def test_capability_the_runtime_lacks_is_refused_like_runc(
    pyrunc: Runtime, runc: Runtime, make_bundle: Callable[[str], Bundle]
) -> None:
    """Where the runtime's own bounding set lacks a capability, neither can grant it."""
    missing = sorted(set(capabilities.known()) - set(runtime_bounding()))
    if not missing:
        pytest.skip("the runtime holds every capability the kernel knows")
    for runtime in (pyrunc, runc):
        bundle = make_bundle(runtime.name)
        shape(bundle, dict.fromkeys(SETS, capabilities.known()), 0)
        result = runtime.run(bundle, "lacking")
        assert result.returncode == 1, f"{runtime.name}: {result.stderr}"
        assert "operation not permitted" in result.stderr.lower()


@pytest.mark.parametrize("field", SETS)
def test_unknown_capability_is_refused(
    pyrunc: Runtime, bundle: Bundle, field: str
) -> None:
    caps = dict.fromkeys(SETS, ["CAP_KILL"])
    caps[field] = ["CAP_KILL", "CAP_NO_SUCH_THING"]
    shape(bundle, caps, 0)
    result = create(pyrunc, bundle, "unknown-cap")
    assert result.returncode == 1, result.stderr
    message = error_message(result.stderr)
    assert "CAP_NO_SUCH_THING" in message
    assert f"process.capabilities.{field}" in message
    assert leftovers(pyrunc, bundle, "unknown-cap") == []


@pytest.mark.parametrize("name", ["cap_kill", "KILL", "CAP_kill"])
def test_malformed_capability_name_is_refused(
    pyrunc: Runtime, bundle: Bundle, name: str
) -> None:
    shape(bundle, {"bounding": [name]}, 0)
    result = create(pyrunc, bundle, "bad-cap")
    assert result.returncode == 1, result.stderr
    message = error_message(result.stderr)
    assert name in message
    assert "process.capabilities.bounding[0]" in message
    assert leftovers(pyrunc, bundle, "bad-cap") == []


# ---- the inheritable set (CVE-2022-29162) ------------------------------------


@pytest.mark.parametrize("user", [0, 1000])
@pytest.mark.parametrize("config", ["absent", "runc-default", "bounding-only"])
def test_inheritable_set_is_empty_unless_asked(
    pyrunc: Runtime, bundle: Bundle, config: str, user: int
) -> None:
    shape(bundle, CONFIGS[config](), user)
    assert cap_lines(run_ok(pyrunc, bundle))["CapInh"] == "0" * 16


def test_inheritable_set_is_what_is_asked(pyrunc: Runtime, bundle: Bundle) -> None:
    caps = dict.fromkeys(("bounding", "effective", "permitted"), RUNC_DEFAULT)
    caps["inheritable"] = ["CAP_KILL"]
    shape(bundle, caps, 1000)
    assert cap_lines(run_ok(pyrunc, bundle))["CapInh"] == hexmask(["CAP_KILL"])


def test_runtime_inheritable_set_does_not_reach_the_process(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    """pyrunc started with CAP_KILL inheritable: the container's set stays empty."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed")
    shape(bundle, CONFIGS["runc-default"](), 1000)
    path = bundle.write("inherited")
    argv = [
        setpriv,
        "--inh-caps=+kill",
        *pyrunc.command,
        "--root",
        str(pyrunc.root),
        "run",
        "--bundle",
        str(path),
        "inherited",
    ]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert cap_lines(result.stdout)["CapInh"] == "0" * 16


VFS_CAP_REVISION_2 = 0x02000000
VFS_CAP_FLAGS_EFFECTIVE = 0x1


def give_file_capabilities(path: Path, inheritable: list[str]) -> None:
    """Set security.capability on path: the given inheritable file capabilities."""
    bits = capabilities.mask(inheritable)
    value = struct.pack(
        "<5I",
        VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
        0,
        bits & 0xFFFFFFFF,
        0,
        bits >> 32,
    )
    os.setxattr(path, "security.capability", value)


CAPBOX = "/capable/busybox"


def add_capbox(bundle: Bundle) -> None:
    """Copy busybox to CAPBOX with inheritable file capabilities."""
    capbox = bundle.rootfs / CAPBOX.lstrip("/")
    capbox.parent.mkdir()
    shutil.copy2(bundle.rootfs / "bin" / "busybox", capbox)
    try:
        give_file_capabilities(capbox, ["CAP_KILL", "CAP_NET_BIND_SERVICE"])
    except OSError as err:
        pytest.skip(f"cannot set file capabilities here: {err.strerror}")
    bundle.set_args(CAPBOX, "grep", "Cap", "/proc/self/status")


@pytest.fixture
def capable_shell(bundle: Bundle) -> Bundle:
    """A bundle whose process is busybox with inheritable file capabilities."""
    add_capbox(bundle)
    return bundle


def test_file_inheritable_capabilities_give_nothing(
    pyrunc: Runtime, capable_shell: Bundle
) -> None:
    """CVE-2022-29162: a non-root user running a program with inheritable file
    capabilities gains them only if its own inheritable set holds them; with
    runc's default spec that set is empty, so the program gets nothing."""
    shape(capable_shell, CONFIGS["runc-default"](), 1000)
    capable_shell.set_args(CAPBOX, "grep", "Cap", "/proc/self/status")
    lines = cap_lines(run_ok(pyrunc, capable_shell))
    assert lines["CapInh"] == lines["CapPrm"] == lines["CapEff"] == "0" * 16

    # the control: asked for, an inheritable capability does reach the program
    capable_shell.config["process"]["capabilities"]["inheritable"] = ["CAP_KILL"]
    lines = cap_lines(run_ok(pyrunc, capable_shell, "asked"))
    assert lines["CapPrm"] == lines["CapEff"] == hexmask(["CAP_KILL"])


@pytest.mark.runc
def test_file_inheritable_capabilities_match_runc(
    pyrunc: Runtime, runc: Runtime, make_bundle: Callable[[str], Bundle]
) -> None:
    found: dict[str, Any] = {}
    for runtime in (pyrunc, runc):
        bundle = make_bundle(runtime.name)
        shape(bundle, CONFIGS["runc-default"](), 1000)
        add_capbox(bundle)
        found[runtime.name] = cap_lines(run_ok(runtime, bundle))
    assert found["pyrunc"] == found["runc"]
