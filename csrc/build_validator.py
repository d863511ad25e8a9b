"""Compile pyrunc's config.json schema into plain Python with fastjsonschema.

The runtime then validates a bundle without importing any schema library: the
generated code's imports of fastjsonschema's exception classes and of decimal
are replaced by small local stand-ins.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join("pyrunc", "spec", "config.schema.json")
VALIDATOR = os.path.join("pyrunc", "spec", "_validator.py")

_FAST_ERRORS = "JsonSchemaValueException, JsonSchemaValuesException"
_IMPORTS = {
    "from decimal import Decimal\n": "",
    f"from fastjsonschema import {_FAST_ERRORS}\n": (
        "from pyrunc.spec._schema_errors import (\n"
        "    Decimal,\n"
        "    JsonSchemaValueException,\n"
        "    JsonSchemaValuesException,\n"
        ")\n"
    ),
}


def _standalone(code: str) -> str:
    for line, replacement in _IMPORTS.items():
        if line not in code:
            raise RuntimeError(f"generated validator lacks the line {line.strip()!r}")
        code = code.replace(line, replacement)
    return code


def generate(schema: dict) -> str:
    """Return the source of a validator module for schema."""
    import fastjsonschema

    return _standalone(fastjsonschema.compile_to_code(schema))


def compile_validator(source_dir: str, target_dir: str) -> None:
    """Write target_dir/pyrunc/spec/_validator.py from source_dir's schema."""
    with open(os.path.join(source_dir, SCHEMA), encoding="utf-8") as src:
        schema = json.load(src)
    code = generate(schema)
    out = os.path.join(target_dir, VALIDATOR)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as dst:
        dst.write("# Generated from config.schema.json at build time; do not edit.\n")
        dst.write(code)


if __name__ == "__main__":
    top = os.path.dirname(HERE)
    compile_validator(top, sys.argv[1] if len(sys.argv) > 1 else top)
