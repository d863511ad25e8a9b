"""Check a parsed config.json against pyrunc's own schema (config.schema.json).

The fast path is plain Python generated from the schema: setup.py writes it to
``pyrunc/spec/_validator.py`` with ``fastjsonschema.compile_to_code``. From a
source tree without that module, the schema is compiled once per process with
``fastjsonschema.compile``. Only when a document is invalid is ``jsonschema``
imported, to find the most relevant error and describe it; a valid document
never imports it.

Every error is a SpecError whose message names the field as a dotted path:
``config.json: linux.namespaces[2].type: must be one of [...]``.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
from collections.abc import Callable, Iterable, Sequence

from pyrunc import jsonio
from pyrunc.errors import SpecError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "config.schema.json")
DOCUMENT = "config.json"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FAST_NAME = re.compile(r"(data(?:\.[^\s]+?|\[\d+\])*) must ")
_FAST_TOKEN = re.compile(r"\.([^.\[]*)|\[(\d+)\]")
_DOLLAR = re.compile(r"(?<!\\)\$")  # as fastjsonschema finds "$" in a pattern


def validate(config: object) -> None:
    """Raise SpecError unless config is a valid config.json document."""
    check = _fast_validator()
    if check is None:
        _validate_with_jsonschema(config)
        return
    try:
        check(config)
    except ValueError as err:  # fastjsonschema.JsonSchemaValueException
        raise SpecError(_explain(config, err)) from None


def format_path(parts: Iterable[str | int]) -> str:
    """Render a JSON path as ``a.b[2].c``; keys that are not identifiers are quoted."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{jsonio.dumps(part)}]"
    return out


def spec_error(path: Sequence[str | int] | str, text: str) -> SpecError:
    """Build the SpecError for a field: ``config.json: <path>: <text>``."""
    where = path if isinstance(path, str) else format_path(path)
    return SpecError(f"{DOCUMENT}: {where}: {text}" if where else f"{DOCUMENT}: {text}")


def load_schema() -> dict[str, Any]:
    """Return the schema document (parsed anew on each call)."""
    with open(SCHEMA_PATH, encoding="utf-8") as src:
        schema: dict[str, Any] = jsonio.loads(src.read())
    return schema


@functools.lru_cache(maxsize=1)
def _fast_validator() -> Callable[[Any], Any] | None:
    """Return the generated validator, or compile one; None without fastjsonschema."""
    try:
        # By name: the module exists only once setup.py has built the package.
        generated = importlib.import_module("pyrunc.spec._validator")
    except ModuleNotFoundError as err:
        if err.name not in ("pyrunc.spec._validator", "fastjsonschema"):
            raise
        return _compile_schema()
    check: Callable[[Any], Any] = generated.validate
    return check


def _compile_schema() -> Callable[[Any], Any] | None:
    try:
        import fastjsonschema
    except ModuleNotFoundError:
        return None
    compiled: Callable[[Any], Any] = fastjsonschema.compile(load_schema())
    return compiled


# ---- describing an error -------------------------------------------------


def _explain(config: object, err: ValueError) -> str:
    """Describe the first error fastjsonschema found, with jsonschema's help."""
    fast_path = _fast_path(config, err)
    try:
        best = _best_jsonschema_error(config, fast_path)
    except Exception:  # no jsonschema, or it failed: the fast error still stands
        best = None
    if best is not None:
        return str(spec_error(*_describe_jsonschema(best)))
    return str(spec_error(*_describe_fast(err, fast_path)))


def _fast_path(config: object, err: ValueError) -> str:
    """The path of a fastjsonschema error, formatted as format_path does.

    fastjsonschema joins keys with dots whatever they hold ("data.linux.sysctl.
    net.ipv4.ip_forward"), so the name is matched against the document's keys.
    """
    name = getattr(err, "name", None)
    if not isinstance(name, str):  # compiled with detailed_exceptions=False
        match = _FAST_NAME.match(str(err))
        name = match.group(1) if match else "data"
    if not name.startswith("data"):
        return name
    tokens = _FAST_TOKEN.findall(name[len("data") :])
    parts = _match_keys(config, [int(index) if index else key for key, index in tokens])
    if parts is None:  # not found in the document: show it as it came
        return name[len("data") :].lstrip(".")
    return format_path(parts)


def _match_keys(node: Any, tokens: list[str | int]) -> list[str | int] | None:
    """Walk tokens through the document, joining dotted tokens into one key."""
    parts: list[str | int] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if isinstance(token, int):
            if not isinstance(node, list) or token >= len(node):
                return None
            node, i = node[token], i + 1
            parts.append(token)
            continue
        if not isinstance(node, dict):
            return None
        for end in range(len(tokens), i, -1):
            words = tokens[i:end]
            if any(isinstance(word, int) for word in words):
                continue
            key = ".".join(str(word) for word in words)
            if key in node:
                node, i = node[key], end
                parts.append(key)
                break
        else:
            # The last name may be a missing member (dependencies, required).
            if i == len(tokens) - 1:
                return [*parts, token]
            return None
    return parts


def _best_jsonschema_error(config: object, fast_path: str) -> Any:
    """jsonschema's best match, preferring errors at the path fastjsonschema named."""
    import jsonschema  # only ever imported for an invalid document

    errors = list(_jsonschema_validator().iter_errors(config))
    if not errors:
        return None
    candidates = [e for e in errors if _jsonschema_path(e) == fast_path] or errors
    top = max(candidates, key=jsonschema.exceptions.relevance)
    if top.validator in ("anyOf", "oneOf") and "description" in top.schema:
        return top  # the schema says in words what is wrong; the branches would not
    return jsonschema.exceptions.best_match(candidates)


@functools.lru_cache(maxsize=1)
def _jsonschema_validator() -> Any:
    """A jsonschema validator of the schema; "$" in patterns reads as in fastjsonschema.

    Python's "$" also matches before a final newline; fastjsonschema turns it
    into "\\Z", and so does this, so that both engines judge alike.
    """
    import jsonschema

    def pattern(validator: Any, regex: str, instance: Any, schema: Any) -> Any:
        if validator.is_type(instance, "string") and not _search(regex, instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {regex!r}")

    schema = load_schema()
    draft = jsonschema.validators.validator_for(schema)
    return jsonschema.validators.extend(draft, {"pattern": pattern})(schema)


@functools.cache
def _anchored(regex: str) -> re.Pattern[str]:
    return re.compile(_DOLLAR.sub(r"\\Z", regex))


def _search(regex: str, text: str) -> bool:
    return _anchored(regex).search(text) is not None


def _jsonschema_path(error: Any) -> str:
    return format_path(error.absolute_path)


def _validate_with_jsonschema(config: object) -> None:
    """Slow path for an install without fastjsonschema: jsonschema does it all."""
    best = _best_jsonschema_error(config, "")
    if best is not None:
        raise spec_error(*_describe_jsonschema(best))


def _describe_jsonschema(error: Any) -> tuple[list[str | int], str]:
    """Turn a jsonschema ValidationError into (path, text)."""
    path: list[str | int] = list(error.absolute_path)
    rule, value, instance = error.validator, error.validator_value, error.instance
    member = _object_member(rule, value, instance)
    if member is not None:
        return path + [member[0]], member[1]
    return path, _rule_text(rule, value, error.schema) or error.message


def _describe_fast(err: ValueError, fast_path: str) -> tuple[str, str]:
    """Turn a fastjsonschema exception into (path, text), without jsonschema."""
    rule = getattr(err, "rule", None)
    definition = getattr(err, "definition", None) or {}
    member = _object_member(rule, definition.get(rule), getattr(err, "value", None))
    if member is not None:
        key = format_path([member[0]])
        sep = "" if key.startswith("[") or not fast_path else "."
        return f"{fast_path}{sep}{key}", member[1]
    text = _rule_text(rule, definition.get(rule), definition) if rule else None
    if text is None:
        message = str(getattr(err, "message", err))
        name = getattr(err, "name", None) or ""
        text = (
            message[len(name) :].strip()
            if name and message.startswith(name)
            else message
        )
    return fast_path, text


def _object_member(rule: Any, value: Any, instance: Any) -> tuple[str, str] | None:
    """For required and dependencies errors: the member to blame, and why."""
    if not isinstance(instance, dict):
        return None
    if rule == "required" and isinstance(value, list):
        missing = [name for name in value if name not in instance]
        if missing:
            return missing[0], "is required"
    if rule == "dependencies" and isinstance(value, dict):
        for key, needs in value.items():
            absent = [n for n in needs if n not in instance] if key in instance else []
            if absent:
                return key, f"requires {absent[0]} to be set as well"
    return None


def _rule_text(rule: str, value: Any, schema: Any) -> str | None:
    """The text shared by both describers, or None to use the library's own."""
    if rule == "type":
        types = value if isinstance(value, list) else [value]
        return "must be " + " or ".join(types)
    if rule == "enum":
        return f"must be one of {value!r}"
    if rule == "minimum":
        return f"must be bigger than or equal to {value}"
    if rule == "maximum":
        return f"must be smaller than or equal to {value}"
    if rule == "pattern":
        # A regular expression says little to a person: the schema may word it.
        words = schema.get("description") if isinstance(schema, dict) else None
        if isinstance(words, str) and words.startswith("must "):
            return words
        return f"must match pattern {value}"
    if rule == "minItems":
        return f"must contain at least {value} item" + ("" if value == 1 else "s")
    if rule in ("anyOf", "oneOf", "not") and isinstance(schema, dict):
        # The schema words these rules as messages, e.g. "must have weight or
        # leafWeight (or both)"; the library's own text would quote the schema.
        owner = schema.get("not") if rule == "not" else schema
        if isinstance(owner, dict) and isinstance(owner.get("description"), str):
            text: str = owner["description"]
            return text
    return None
