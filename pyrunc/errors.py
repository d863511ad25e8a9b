"""The exceptions pyrunc raises; the CLI turns each into one log line and exit 1."""

from __future__ import annotations

import os


class PyruncError(Exception):
    """Base of every error pyrunc reports to its caller.

    exit_status is the status the CLI exits with after reporting it.
    """

    exit_status = 1


class UsageError(PyruncError):
    """A command-line argument is missing or wrong."""


class SpecError(PyruncError):
    """The bundle's config.json is missing, malformed or asks for the impossible."""


class StateError(PyruncError):
    """A container is missing, exists already, or is in the wrong status."""


class CgroupError(PyruncError):
    """A cgroup could not be created, joined, configured or removed."""


class HookError(PyruncError):
    """A lifecycle hook failed, timed out or could not be started."""


class SeccompError(PyruncError):
    """A seccomp profile could not be compiled or loaded."""


class NotSupportedError(PyruncError):
    """The request is valid but this runtime or host cannot do it."""


class SyscallError(PyruncError):
    """A system call failed; carries the operation, errno and path."""

    def __init__(self, operation: str, errno: int, path: str = "") -> None:
        self.operation = operation
        self.errno = errno
        self.path = path
        target = f" {path}" if path else ""
        super().__init__(f"{operation}{target}: {os.strerror(errno).lower()}")
