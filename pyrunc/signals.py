"""Signal names and numbers, as `kill` accepts them."""

from __future__ import annotations

import signal

from pyrunc.errors import UsageError


def parse_signal(text: str) -> int:
    """Return the number of a signal given as KILL, SIGKILL or 9.

    Raises:
        UsageError: no such signal.
    """
    if text.isascii() and text.isdigit():
        number = int(text)
        if 0 < number < signal.NSIG:
            return number
        raise UsageError(f'unknown signal "{text}"')
    name = text.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    value = getattr(signal.Signals, name, None) if name.isidentifier() else None
    if value is None:
        raise UsageError(f'unknown signal "{text}"')
    return int(value)


# Signals whose default action is not to end the process (ignore, stop, continue).
_SPARING = frozenset(
    {
        signal.SIGCHLD,
        signal.SIGCONT,
        signal.SIGURG,
        signal.SIGWINCH,
        signal.SIGSTOP,
        signal.SIGTSTP,
        signal.SIGTTIN,
        signal.SIGTTOU,
    }
)


def terminates(sig: int) -> bool:
    """Tell whether sig's default action ends a process (with or without a core)."""
    return sig not in _SPARING
