"""One benchmark session: set up the workspace and runtimes, always clean up."""

from __future__ import annotations

import signal
import sys
import time
from types import FrameType, TracebackType

from benchlib import cleanup
from benchlib.runtimes import Runtime, resolve
from benchlib.workspace import Workspace


def _exit_on_signal(signum: int, _: FrameType | None) -> None:
    raise SystemExit(128 + signum)


class Session:
    """Workspace and runtimes for a run; leaving it removes all they made.

    After leaving, `left` lists anything that could not be removed.
    """

    def __init__(self, runtime_spec: str) -> None:
        self.runtime_spec = runtime_spec
        self.workspace = Workspace()
        self.runtimes: list[Runtime] = []
        self.left: list[str] = []

    def __enter__(self) -> Session:
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, _exit_on_signal)
        try:
            self.workspace.make_rootfs()
            self.runtimes = resolve(self.runtime_spec, self.workspace)
        except BaseException:
            self._clean()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._clean()

    def _clean(self) -> None:
        started = time.monotonic()
        cleanup.clean(self.workspace, self.runtimes)
        self.left = cleanup.leftovers(self.workspace)
        elapsed = time.monotonic() - started
        print(f"bench: cleaned up in {elapsed:.1f} s", file=sys.stderr)
        for thing in self.left:
            print(f"bench: left behind: {thing}", file=sys.stderr)
