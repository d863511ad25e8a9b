"""The exceptions raised by the validator generated from config.schema.json.

They stand in for fastjsonschema's own, with the attributes validate.py reads,
so the generated module imports nothing but re.
"""

from __future__ import annotations


class JsonSchemaValueException(ValueError):
    """A value breaks a rule of the schema; name is its path, as data.a.b[2]."""

    def __init__(
        self,
        message: str,
        value: object = None,
        name: str | None = None,
        definition: object = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.value = value
        self.name = name
        self.definition = definition
        self.rule = rule


class JsonSchemaValuesException(ValueError):
    """Several values break rules; unused, as validation stops at the first."""


class Decimal:
    """Stands for decimal.Decimal, which a document parsed by json never holds."""
