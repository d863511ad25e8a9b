"""Check the features document: the official schema, the spec's names, the CLI."""

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

from pyrunc import SPEC_VERSION, __version__
from pyrunc.capabilities import CAPABILITIES, known, last_cap
from pyrunc.features import features
from pyrunc.process.mountopts import known_options

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = (
    Path(
        os.environ.get(
            "PYRUNC_OCI_SPEC_DIR", REPO.parent / "shared" / "oci-runtime-spec"
        )
    )
    / "schema"
)
Validate = Callable[[dict[str, Any], str], None]


@pytest.fixture(scope="module")
def official() -> Registry[Any]:
    """Return the official schemas, each registered under its file name."""
    if not SCHEMAS.is_dir():
        pytest.skip(f"official OCI schemas not found in {SCHEMAS}")
    return Registry().with_resources(
        (path.name, Resource.from_contents(json.loads(path.read_text()), DRAFT4))
        for path in SCHEMAS.glob("*.json")
    )


@pytest.fixture(scope="module")
def validate_official(official: Registry[Any]) -> Validate:
    """Return a check of a document against the official schema of its kind."""

    def validate(document: dict[str, Any], kind: str) -> None:
        schema = official.contents(f"{kind}-schema.json")
        Draft4Validator(schema, registry=official).validate(document)

    return validate


def test_document_is_valid_for_the_official_schema(validate_official: Validate) -> None:
    validate_official(features(), "features")


def test_official_schema_check_follows_sibling_files(
    validate_official: Validate,
) -> None:
    document = features()
    document["linux"]["namespaces"].append("bogus")
    with pytest.raises(ValidationError, match="bogus"):
        validate_official(document, "features")


def test_versions_span_one_zero_to_this_spec() -> None:
    document = features()
    assert document["ociVersionMin"] == "1.0.0"
    assert document["ociVersionMax"] == SPEC_VERSION


def test_hooks_are_every_hook_of_the_config_schema(official: Registry[Any]) -> None:
    config = official.contents("config-schema.json")
    assert features()["hooks"] == list(config["properties"]["hooks"]["properties"])


def test_namespaces_are_every_namespace_of_the_spec(official: Registry[Any]) -> None:
    kinds = official.contents("defs-linux.json")["definitions"]["NamespaceType"]
    assert sorted(features()["linux"]["namespaces"]) == sorted(kinds["enum"])


def test_mount_options_are_the_mount_table() -> None:
    options = features()["mountOptions"]
    assert options == known_options()
    assert not [option for option in options if "=" in option]


def test_capabilities_are_those_the_kernel_knows() -> None:
    names = features()["linux"]["capabilities"]
    assert names == known()
    assert len(names) == min(last_cap(), max(CAPABILITIES.values())) + 1


def test_seccomp_features_name_what_the_compiler_takes() -> None:
    seccomp = features()["linux"]["seccomp"]
    assert seccomp["enabled"] is True
    assert "SCMP_ACT_NOTIFY" in seccomp["actions"]
    assert "SCMP_CMP_MASKED_EQ" in seccomp["operators"]
    assert "SCMP_ARCH_X86_64" in seccomp["archs"]


def test_unimplemented_features_say_disabled() -> None:
    linux = features()["linux"]
    for name in ("apparmor", "selinux", "intelRdt"):
        assert linux[name] == {"enabled": False}
    assert linux["mountExtensions"] == {"idmap": {"enabled": False}}
    assert linux["cgroup"] == {
        "v1": True,
        "v2": True,
        "systemd": False,
        "systemdUser": False,
        "rdma": True,
    }


def test_annotations_carry_the_pyrunc_version() -> None:
    assert features()["annotations"] == {"io.github.pyrunc.version": __version__}


def test_cli_prints_the_document_indented_by_four_spaces() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "pyrunc", "features"]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == json.dumps(features(), indent=4) + "\n"
    assert result.stdout.splitlines()[1].startswith('    "ociVersionMin"')


@pytest.mark.runc
@pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed")
def test_names_agree_with_runc() -> None:
    output = subprocess.run(["runc", "features"], check=True, capture_output=True)
    theirs = json.loads(output.stdout)
    ours = features()
    assert ours["hooks"] == theirs["hooks"]
    assert set(theirs["linux"]["namespaces"]) <= set(ours["linux"]["namespaces"])
    kernel = [n for n in theirs["linux"]["capabilities"] if n in known()]
    assert ours["linux"]["capabilities"] == kernel
