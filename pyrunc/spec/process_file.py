"""Read the file `exec --process` names: one process object, as in config.json.

The object is checked by the same schema and rules as a config.json's
process, inside a minimal document made for the purpose; errors name the
file and the field within the object: ``process.json: user.uid: must be
integer``.
"""

from __future__ import annotations

from pyrunc import SPEC_VERSION, jsonio
from pyrunc.errors import SpecError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def load_process(path: str) -> dict[str, Any]:
    """Return the process object in the file at path, valid as config.json's process.

    Raises:
        SpecError: the file is unreadable, not a JSON object, or not a valid
            process with at least one argument.
    """
    try:
        with open(path, "rb") as src:
            raw = src.read()
    except OSError as err:
        reason = (err.strerror or str(err)).lower()
        raise SpecError(f"{path}: cannot read: {reason}") from None
    try:
        process = jsonio.loads(raw.decode())
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError
        raise SpecError(f"{path}: invalid JSON: {err}") from None
    if not isinstance(process, dict):
        raise SpecError(f"{path}: must be a JSON object")
    check_process(process, path)
    return process


def check_process(process: dict[str, Any], name: str) -> None:
    """Check a process object as config.json's process; name the source in errors.

    Raises:
        SpecError: the object breaks the schema or a rule of the spec, or has
            no args.
    """
    from pyrunc.spec.checks import check_config, check_runnable
    from pyrunc.spec.validate import DOCUMENT, validate

    document = {"ociVersion": SPEC_VERSION, "root": {"path": "rootfs"}}
    document["process"] = process
    try:
        validate(document)
        check_config(document)
        check_runnable(document)
    except SpecError as err:
        detail = str(err).removeprefix(f"{DOCUMENT}: ").removeprefix("process")
        raise SpecError(f"{name}: {detail.lstrip('.:').strip()}") from None
