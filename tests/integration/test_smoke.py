"""A first real container: run, exit status and output."""

from __future__ import annotations

from tests.support import Bundle, Runtime


def test_run_prints_and_exits(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.shell("echo hello from $(hostname); exit 3")
    result = pyrunc.run(bundle, "smoke")
    assert result.stdout == "hello from pyrunc\n"
    assert result.returncode == 3, result.stderr
    assert pyrunc.container_ids() == []
