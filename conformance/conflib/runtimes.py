"""The runtimes under test and how to call them through their CLI."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from conflib import proc

DEFAULT = ("pyrunc", "runc", "crun")
# pyrunc is reinstalled from its tree now and then and is briefly missing
_REAPPEAR_SECONDS = 60.0


@dataclass(frozen=True)
class Runtime:
    """One runtime binary with a state directory (--root) of its own."""

    name: str
    path: str
    root: Path
    global_flags: tuple[str, ...] = ()

    def argv(self, *args: str) -> list[str]:
        """Return the command line of a subcommand, global flags first."""
        return [self.path, "--root", str(self.root), *self.global_flags, *args]

    def call(
        self,
        *args: str,
        timeout: float = proc.DEFAULT_TIMEOUT,
        stdin: bytes | None = None,
        launcher: tuple[str, ...] = (),
    ) -> proc.Result:
        """Run one subcommand and return how it ended.

        launcher, if given, is a command line the runtime's is appended to.
        """
        _await_binary(self.path)
        argv = [*launcher, *self.argv(*args)]
        return proc.run(argv, timeout=timeout, stdin=stdin)

    def version(self) -> str:
        """Return what `RUNTIME --version` prints, its lines joined by `; `."""
        _await_binary(self.path)
        done = proc.run([self.path, "--version"], timeout=30)
        lines = (done.stdout or done.stderr).strip().splitlines()
        return "; ".join(lines) if lines else f"exit status {done.status}"


def _await_binary(path: str) -> None:
    deadline = time.monotonic() + _REAPPEAR_SECONDS
    while not os.access(path, os.X_OK) and time.monotonic() < deadline:
        time.sleep(0.5)


def _unique_name(path: str, taken: set[str]) -> str:
    base = os.path.basename(path)
    name, number = base, 2
    while name in taken:
        name, number = f"{base}{number}", number + 1
    return name


def resolve(
    paths: list[str], state_dir: Path, global_flags: list[str]
) -> list[Runtime]:
    """Turn names or paths into runtimes, each with its own state directory.

    Raises:
        SystemExit: a runtime is not found.
    """
    runtimes: list[Runtime] = []
    for item in paths or list(DEFAULT):
        found = shutil.which(item)
        if found is None:
            raise SystemExit(f"conformance: runtime {item} not found")
        name = _unique_name(found, {runtime.name for runtime in runtimes})
        root = state_dir / name
        root.mkdir(parents=True)
        runtimes.append(
            Runtime(name, os.path.abspath(found), root, tuple(global_flags))
        )
    return runtimes
