"""Check the template of ``pyrunc spec`` against the schema, runc and the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from pyrunc import SPEC_VERSION
from pyrunc.capabilities import mask
from pyrunc.spec.default import default_config

REPO = Path(__file__).resolve().parents[2]
Validate = Callable[[dict[str, Any], str], None]


@pytest.fixture(scope="module")
def validate_official() -> Validate:
    """Return a check of a document against the official schema of its kind.

    The draft-04 schemas name their siblings by file name, so every schema of
    the folder is registered under its own name.
    """
    default = REPO.parent / "shared" / "oci-runtime-spec"
    folder = Path(os.environ.get("PYRUNC_OCI_SPEC_DIR", default)) / "schema"
    if not folder.is_dir():
        pytest.skip(f"official OCI schemas not found in {folder}")
    registry: Registry[Any] = Registry().with_resources(
        (path.name, Resource.from_contents(json.loads(path.read_text()), DRAFT4))
        for path in folder.glob("*.json")
    )

    def validate(document: dict[str, Any], kind: str) -> None:
        schema = registry.contents(f"{kind}-schema.json")
        Draft4Validator(schema, registry=registry).validate(document)

    return validate


def pyrunc_spec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m pyrunc spec ARGS`` in cwd."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "pyrunc", "spec", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)


@pytest.mark.parametrize("rootless", [False, True])
def test_template_is_valid_for_the_official_schema(
    validate_official: Validate, rootless: bool
) -> None:
    validate_official(default_config(rootless), "config")


def test_official_schema_check_follows_sibling_files(
    validate_official: Validate,
) -> None:
    config = default_config()
    config["linux"]["namespaces"].append({"type": "bogus"})
    with pytest.raises(ValidationError, match="bogus"):
        validate_official(config, "config")


@pytest.mark.parametrize("rootless", [False, True])
def test_template_names_pyrunc(rootless: bool) -> None:
    config = default_config(rootless)
    assert config["ociVersion"] == SPEC_VERSION
    assert config["hostname"] == "pyrunc"
    assert config["process"]["terminal"] is True


def test_each_call_returns_a_fresh_document() -> None:
    first = default_config()
    first["process"]["capabilities"]["bounding"].append("CAP_SYS_ADMIN")
    first["mounts"].clear()
    assert default_config() == json.loads(json.dumps(default_config()))
    assert (
        "CAP_SYS_ADMIN" not in default_config()["process"]["capabilities"]["bounding"]
    )
    assert default_config()["mounts"]


@pytest.mark.parametrize("rootless", [False, True])
def test_capability_names_are_known(rootless: bool) -> None:
    for names in default_config(rootless)["process"]["capabilities"].values():
        assert mask(names) != 0


def test_privileged_template_isolates_the_network_and_denies_devices() -> None:
    linux = default_config()["linux"]
    kinds = [ns["type"] for ns in linux["namespaces"]]
    assert kinds == ["pid", "network", "ipc", "uts", "mount"]
    assert linux["resources"] == {"devices": [{"allow": False, "access": "rwm"}]}
    assert "uidMappings" not in linux


def test_rootless_template_maps_the_caller_to_root() -> None:
    linux = default_config(rootless=True)["linux"]
    kinds = [ns["type"] for ns in linux["namespaces"]]
    assert "user" in kinds and "network" not in kinds
    assert linux["uidMappings"] == [
        {"containerID": 0, "hostID": os.geteuid(), "size": 1}
    ]
    assert linux["gidMappings"] == [
        {"containerID": 0, "hostID": os.getegid(), "size": 1}
    ]
    assert "resources" not in linux


def mount_at(config: dict[str, Any], destination: str) -> dict[str, Any]:
    """Return the mount of config at destination."""
    return next(m for m in config["mounts"] if m["destination"] == destination)


def test_rootless_template_binds_sys_and_drops_the_tty_group() -> None:
    rootless = default_config(rootless=True)
    assert mount_at(rootless, "/sys")["type"] == "none"
    assert mount_at(rootless, "/sys")["options"][0] == "rbind"
    assert "gid=5" not in mount_at(rootless, "/dev/pts")["options"]
    assert "gid=5" in mount_at(default_config(), "/dev/pts")["options"]


@pytest.mark.parametrize("flags", [[], ["--rootless"]])
def test_cli_writes_the_template_tab_indented(tmp_path: Path, flags: list[str]) -> None:
    result = pyrunc_spec("--bundle", str(tmp_path), *flags, cwd=REPO)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "config.json").read_text()
    assert text == json.dumps(default_config(bool(flags)), indent="\t")
    assert text.splitlines()[1].startswith('\t"ociVersion"')


def test_cli_writes_into_the_current_directory_by_default(tmp_path: Path) -> None:
    result = pyrunc_spec(cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "config.json").read_text()) == default_config()


def test_cli_refuses_to_overwrite_config_json(tmp_path: Path) -> None:
    existing = tmp_path / "config.json"
    existing.write_text("{}")
    result = pyrunc_spec("-b", str(tmp_path), cwd=REPO)
    assert result.returncode == 1
    assert "file exists, remove it first" in result.stderr
    assert str(existing) in result.stderr
    assert existing.read_text() == "{}"


def test_cli_reports_a_missing_bundle(tmp_path: Path) -> None:
    result = pyrunc_spec("-b", str(tmp_path / "absent"), cwd=REPO)
    assert result.returncode == 1
    assert "no such file or directory" in result.stderr


@pytest.mark.runc
@pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed")
@pytest.mark.parametrize("flags", [[], ["--rootless"]])
def test_cli_writes_runc_template_but_for_version_and_hostname(
    tmp_path: Path, flags: list[str]
) -> None:
    (tmp_path / "runc").mkdir()
    (tmp_path / "pyrunc").mkdir()
    runc = ["runc", "spec", "--bundle", str(tmp_path / "runc"), *flags]
    subprocess.run(runc, check=True, capture_output=True)
    pyrunc_spec("--bundle", str(tmp_path / "pyrunc"), *flags, cwd=REPO)
    theirs = (tmp_path / "runc" / "config.json").read_text()
    version = json.loads(theirs)["ociVersion"]
    expected = theirs.replace(
        f'"ociVersion": "{version}"', f'"ociVersion": "{SPEC_VERSION}"'
    )
    expected = expected.replace('"hostname": "runc"', '"hostname": "pyrunc"')
    assert (tmp_path / "pyrunc" / "config.json").read_text() == expected
