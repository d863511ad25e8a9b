"""Read a bundle's config.json: parse it, validate it, check what the schema cannot."""

from __future__ import annotations

import os

from pyrunc import jsonio
from pyrunc.errors import SpecError
from pyrunc.log import get_logger
from pyrunc.spec.checks import check_config, deprecation_warnings
from pyrunc.spec.validate import DOCUMENT, validate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

log = get_logger("pyrunc.spec")

_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    type(None): "null",
}


def load_config(bundle: str) -> dict[str, Any]:
    """Return the bundle's config.json, valid per the schema and the checks.

    ``process`` may be absent, as the spec allows; ``create`` and ``run``
    call ``pyrunc.spec.checks.check_runnable`` on the result.

    Raises:
        SpecError: the file is missing, unreadable, not JSON, not an object,
            or breaks a rule of the spec.
    """
    path = os.path.join(bundle, DOCUMENT)
    try:
        with open(path, "rb") as src:
            raw = src.read()
    except FileNotFoundError:
        raise SpecError(f"JSON specification file {DOCUMENT} not found") from None
    except OSError as err:
        reason = (err.strerror or str(err)).lower()
        raise SpecError(f"{DOCUMENT}: cannot read: {reason}") from None
    config = parse_config(raw)
    validate(config)
    check_config(config)
    for warning in deprecation_warnings(config):
        log.warning(warning)
    return config


def parse_config(raw: bytes | str) -> dict[str, Any]:
    """Parse config.json text; SpecError unless it is one JSON object."""
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
        document = jsonio.loads(text, parse_constant=_reject_constant)
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError, NaN
        raise SpecError(f"{DOCUMENT}: invalid JSON: {err}") from None
    if not isinstance(document, dict):
        kind = _JSON_TYPES.get(type(document), "number")
        raise SpecError(f"{DOCUMENT}: must be a JSON object, not {kind}")
    return document


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")
