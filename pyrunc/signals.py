"""Signal names and numbers, as `kill` accepts them."""

from __future__ import annotations

import _signal  # signal's C half: the numbers, without the enum classes

from pyrunc.errors import UsageError

# SIGKILL: 9, ... with aliases such as SIGIOT and SIGRTMIN
_NUMBERS = {
    name: value
    for name, value in vars(_signal).items()
    if name.startswith("SIG") and not name.startswith("SIG_") and isinstance(value, int)
}


def parse_signal(text: str) -> int:
    """Return the number of a signal given as KILL, SIGKILL or 9.

    Raises:
        UsageError: no such signal.
    """
    if text.isascii() and text.isdigit():
        number = int(text)
        if 0 < number < _signal.NSIG:
            return number
        raise UsageError(f'unknown signal "{text}"')
    name = text.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    value = _NUMBERS.get(name)
    if value is None:
        raise UsageError(f'unknown signal "{text}"')
    return int(value)
