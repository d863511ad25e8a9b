"""The requirements, one module per part of the spec.

Importing a module registers its requirements; load() imports them in the
order the report lists them.
"""

from __future__ import annotations

import importlib

ORDER = (
    "state",
    "operations",
    "hooks",
    "linux_runtime",
    "root_mounts",
    "process",
    "identity",
    "namespaces",
    "devices",
    "cgroups",
    "security",
)


def load() -> None:
    """Import every check module, registering its requirements in order."""
    for name in ORDER:
        importlib.import_module(f"{__name__}.{name}")
