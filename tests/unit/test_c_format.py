"""The C of csrc/ is laid out as csrc/.clang-format says (kernel style, 100 columns)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CSRC = Path(__file__).resolve().parents[2] / "csrc"


@pytest.mark.parametrize(
    "source", sorted(p.name for p in CSRC.iterdir() if p.suffix in (".c", ".h"))
)
def test_c_source_is_formatted(source: str) -> None:
    if shutil.which("clang-format") is None:
        pytest.skip("clang-format is not installed (scripts/test.sh installs it)")

    result = subprocess.run(
        ["clang-format", "--style=file", "--dry-run", "--Werror", str(CSRC / source)],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
