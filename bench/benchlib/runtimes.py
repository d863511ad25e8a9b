"""The container runtimes under test and how to call them."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from benchlib.workspace import Workspace

DEFAULT = "pyrunc,runc,crun"


@dataclass(frozen=True)
class Runtime:
    """One runtime binary with its own state directory.

    launcher, if set, is a command line the runtime's path is appended to,
    such as an interpreter with profiling flags.
    """

    name: str
    path: str
    root: Path
    launcher: tuple[str, ...] = ()

    def argv(self, *args: str) -> list[str]:
        """Return the command line for a subcommand, with --root first."""
        return [*self.launcher, self.path, "--root", str(self.root), *args]

    def version(self) -> str:
        """Return what `RUNTIME --version` prints, its lines joined by `; `."""
        return version_line([self.path, "--version"], every_line=True)


def version_line(argv: list[str], every_line: bool = False) -> str:
    """Return the first line (or all lines) a --version command prints.

    A command that cannot run or prints nothing gives the reason instead.
    """
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except OSError as err:
        return f"unavailable: {err.strerror}"
    lines = (done.stdout or done.stderr).strip().splitlines()
    if not lines:
        return f"exit status {done.returncode}"
    return "; ".join(lines) if every_line else lines[0]


def _resolve_one(item: str, workspace: Workspace) -> Runtime:
    name, _, path = item.partition("=")
    found = shutil.which(path or name)
    if found is None:
        raise SystemExit(f"bench: runtime {name}: {path or name} not found")
    return Runtime(name, found, workspace.state_root(name))


def resolve(spec: str, workspace: Workspace) -> list[Runtime]:
    """Turn `pyrunc,runc,crun` (or `name=/path,...`) into runtimes.

    Raises:
        SystemExit: a runtime's binary is not found.
    """
    items = [item.strip() for item in spec.split(",") if item.strip()]
    return [_resolve_one(item, workspace) for item in items]


def interpreter(script: str) -> str | None:
    """Return the interpreter named on the shebang line of script, if any."""
    try:
        with open(script, "rb") as source:
            first = source.readline().decode(errors="replace")
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    words = first[2:].split()
    return words[0] if words else None
