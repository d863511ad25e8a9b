"""Fixtures for the config.json validation tests: each way validate() can run."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pyrunc.spec import validate as validate_module
from tests.support import generate_validator_code

MODES = ("compiled", "generated", "fast-only", "jsonschema-only")


@pytest.fixture(scope="session")
def generated_validator(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[Any], Any]:
    """The validator as setup.py generates it (compile_to_code), from a temp file."""
    pytest.importorskip("fastjsonschema")
    code = generate_validator_code(validate_module.load_schema())
    path = tmp_path_factory.mktemp("generated") / "pyrunc_generated_validator.py"
    path.write_text("# Generated as setup.py does.\n" + code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("pyrunc_generated_validator", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    check: Callable[[Any], Any] = module.validate
    return check


@pytest.fixture(params=MODES)
def validation_mode(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    generated_validator: Callable[[Any], Any],
) -> str:
    """Run the test once per way validate() can find and describe an error.

    compiled: fastjsonschema.compile of the JSON file (a source tree), jsonschema
        describing the error; generated: the module setup.py writes; fast-only:
        compiled, and jsonschema missing; jsonschema-only: fastjsonschema missing.
    """
    mode: str = request.param
    if mode == "compiled":
        compiled = validate_module._compile_schema()
        monkeypatch.setattr(validate_module, "_fast_validator", lambda: compiled)
    elif mode == "generated":
        monkeypatch.setattr(
            validate_module, "_fast_validator", lambda: generated_validator
        )
    elif mode == "fast-only":
        compiled = validate_module._compile_schema()
        monkeypatch.setattr(validate_module, "_fast_validator", lambda: compiled)

        def no_jsonschema(config: object, fast_path: str) -> Any:
            raise ModuleNotFoundError("No module named 'jsonschema'", name="jsonschema")

        monkeypatch.setattr(validate_module, "_best_jsonschema_error", no_jsonschema)
    else:
        monkeypatch.setattr(validate_module, "_fast_validator", lambda: None)
    return mode


@pytest.fixture
def write_bundle(tmp_path: Path) -> Callable[[Any], Path]:
    """Write a document (or text) as a new bundle's config.json; return the bundle."""

    def write(document: Any) -> Path:
        bundle = tmp_path / "bundle"
        bundle.mkdir(exist_ok=True)
        text = document if isinstance(document, str) else json.dumps(document)
        (bundle / "config.json").write_text(text, encoding="utf-8")
        return bundle

    return write
