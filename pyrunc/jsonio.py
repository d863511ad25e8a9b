"""JSON reading and writing through CPython's C accelerator, without the json package.

Importing ``json`` pulls in ``re`` and ``enum``, which together cost more than
a whole `pyrunc state`. The parsing and encoding that matter are done by the
``_json`` C module that ``json`` itself uses; this module drives it directly
and writes indented output itself. The documents pyrunc handles hold only
dicts, lists, strings, numbers, booleans and null.

On malformed input the standard ``json`` package is imported after all, so
the error raised is its familiar ``JSONDecodeError``.
"""

from __future__ import annotations

import _json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_WHITESPACE = " \t\n\r"


def _constant(name: str) -> float:
    return float(name.replace("Infinity", "inf"))


class _ScannerContext:
    """The attributes the C scanner reads from its decoder."""

    def __init__(self, parse_constant: Callable[[str], Any]) -> None:
        self.strict = True
        self.object_hook = None
        self.object_pairs_hook = None
        self.parse_float = float
        self.parse_int = int
        self.parse_constant = parse_constant
        self.memo: dict[str, str] = {}


def loads(text: str, parse_constant: Callable[[str], Any] = _constant) -> Any:
    """Parse a JSON document, as json.loads does.

    Raises:
        json.JSONDecodeError: the text is not one JSON value.
    """
    make_scanner: Any = _json.make_scanner  # typeshed wants a json.JSONDecoder
    scan = make_scanner(_ScannerContext(parse_constant))
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = scan(text, start)
        if not text[end:].strip(_WHITESPACE):
            return value
    except (StopIteration, ValueError, SystemError):
        # the scanner raises json.decoder's error class only once that module
        # is imported; before, some errors come out as a SystemError
        pass
    import json  # only to raise its error, with line and column

    return json.loads(text, parse_constant=parse_constant)


def _unencodable(value: object) -> object:
    raise TypeError(f"object of type {type(value).__name__} is not JSON serializable")


def _compact(value: Any, item_sep: str, key_sep: str) -> str:
    encode = _json.make_encoder(
        None,
        _unencodable,
        _json.encode_basestring_ascii,
        None,
        key_sep,
        item_sep,
        False,
        False,
        True,
    )
    return "".join(encode(value, 0))


def _indented(value: Any, unit: str, depth: int) -> str:
    inner = "\n" + unit * (depth + 1)
    if isinstance(value, dict) and value:
        quote = _json.encode_basestring_ascii
        items = (
            f"{quote(str(key))}: {_indented(item, unit, depth + 1)}"
            for key, item in value.items()
        )
    elif isinstance(value, list) and value:
        items = (_indented(item, unit, depth + 1) for item in value)
    else:
        return _compact(value, ", ", ": ")
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    return opening + inner + ("," + inner).join(items) + "\n" + unit * depth + closing


def dumps(
    value: Any,
    indent: int | str | None = None,
    separators: tuple[str, str] | None = None,
) -> str:
    """Return value as JSON text, as json.dumps with the same arguments does.

    Raises:
        TypeError: the value holds something JSON cannot express.
    """
    if indent is not None:
        return _indented(value, indent if isinstance(indent, str) else " " * indent, 0)
    item_sep, key_sep = separators or (", ", ": ")
    return _compact(value, item_sep, key_sep)
