"""Check documents against the official OCI runtime-spec JSON schemas (a test helper).

The schemas and their fixtures live outside the repository, in
``shared/oci-runtime-spec/schema/`` beside the work tree (the environment
variable ``PYRUNC_OCI_SPEC_DIR`` names the ``oci-runtime-spec`` folder
instead). They are draft-04 and refer to each other by relative file name
(``"$ref": "defs.json#/definitions/uint32"``), so every ``*.json`` of the
folder is registered under its bare file name and the root schema is reached
through a ``$ref`` to its name: relative references then resolve between
siblings, with nothing fetched from the network.

Usage from any test::

    import pytest
    from tests import oci_schema

    if not oci_schema.available():
        pytest.skip(oci_schema.MISSING, allow_module_level=True)

    oci_schema.validate_official(document, "state")     # raises if invalid
    oci_schema.official_errors(document, "features")   # every error, as a list
    oci_schema.fixtures("config", "good")              # the shipped examples

``kind`` is one of ``KINDS``: "config" (config.json), "state" (the output of
``state``) or "features" (the output of ``features``).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

ENV_VAR = "PYRUNC_OCI_SPEC_DIR"
KINDS = {
    "config": "config-schema.json",
    "state": "state-schema.json",
    "features": "features-schema.json",
}
MISSING = f"the OCI runtime-spec schemas are not there (set {ENV_VAR})"


def spec_dir() -> Path:
    """The ``oci-runtime-spec`` folder: $PYRUNC_OCI_SPEC_DIR or shared/ by the repo."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1].parent / "shared" / "oci-runtime-spec"


def schema_dir() -> Path:
    """The folder of the official schemas (``.../oci-runtime-spec/schema``)."""
    return spec_dir() / "schema"


def available() -> bool:
    """Whether the schemas are there; tests skip with ``MISSING`` when not."""
    return all((schema_dir() / name).is_file() for name in KINDS.values())


def fixtures(kind: str, verdict: str) -> list[Path]:
    """The official test documents of a kind; ``verdict`` is "good" or "bad".

    Some "bad" ones are not JSON at all (``invalid-json.json``).
    """
    _check_kind(kind)
    if verdict not in ("good", "bad"):
        raise ValueError(f"verdict must be 'good' or 'bad', not {verdict!r}")
    return sorted((schema_dir() / "test" / kind / verdict).glob("*.json"))


def official_errors(document: Any, kind: str) -> list[Any]:
    """Every jsonschema ValidationError of document against the official schema."""
    return list(_validator(kind).iter_errors(document))


def validate_official(document: Any, kind: str) -> None:
    """Raise jsonschema.ValidationError (the best match) unless document is valid.

    Args:
        document: the parsed JSON document.
        kind: "config", "state" or "features".
    """
    import jsonschema

    error = jsonschema.exceptions.best_match(official_errors(document, kind))
    if error is not None:
        raise error


@functools.cache
def _validator(kind: str) -> Any:
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    _check_kind(kind)
    resources = []
    for path in sorted(schema_dir().glob("*.json")):
        contents = _fix_refs(json.loads(path.read_text(encoding="utf-8")))
        resource = Resource.from_contents(contents, default_specification=DRAFT4)
        resources.append((path.name, resource))
    registry: Registry[Any] = Registry().with_resources(resources)
    return Draft4Validator({"$ref": KINDS[kind]}, registry=registry)


def _fix_refs(node: Any) -> Any:
    """Repair upstream's ``"#definitions/..."`` (no slash; defs.json ArrayOfUint32)."""
    if isinstance(node, dict):
        fixed = {key: _fix_refs(value) for key, value in node.items()}
        ref = fixed.get("$ref")
        if isinstance(ref, str) and ref.startswith("#definitions/"):
            fixed["$ref"] = "#/" + ref[1:]
        return fixed
    if isinstance(node, list):
        return [_fix_refs(item) for item in node]
    return node


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, not {kind!r}")
