"""The process.json of `exec --process`, checked as config.json's process is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyrunc.errors import SpecError
from pyrunc.spec.process_file import load_process


def write(tmp_path: Path, document: object) -> str:
    path = tmp_path / "process.json"
    path.write_text(json.dumps(document))
    return str(path)


def test_valid_process_is_returned_as_is(tmp_path: Path) -> None:
    process = {"args": ["true"], "cwd": "/", "env": ["A=b"], "terminal": True}
    assert load_process(write(tmp_path, process)) == process


@pytest.mark.parametrize(
    ("process", "detail"),
    [
        ({"args": ["true"]}, "cwd: is required"),
        ({"args": ["true"], "cwd": 7}, "cwd: must be string"),
        ({"args": [], "cwd": "/"}, "args: must not be empty"),
        ({"cwd": "/"}, "args: must not be empty"),
        ({"args": ["true"], "cwd": "x"}, "cwd: must be an absolute path, not 'x'"),
        ({"args": ["true"], "cwd": "/", "env": ["A"]}, "env[0]: 'A' is not of the"),
        (
            {"args": ["true"], "cwd": "/", "user": {"uid": -1, "gid": 0}},
            "user.uid: must be bigger than or equal to 0",
        ),
        (
            {"args": ["t"], "cwd": "/", "capabilities": {"bounding": ["KILL"]}},
            "capabilities.bounding[0]: 'KILL' is not a capability name",
        ),
    ],
)
def test_errors_name_the_file_and_the_field(
    tmp_path: Path, process: dict[str, object], detail: str
) -> None:
    path = write(tmp_path, process)
    with pytest.raises(SpecError) as raised:
        load_process(path)
    assert str(raised.value).startswith(f"{path}: {detail}")


@pytest.mark.parametrize(
    ("text", "detail"),
    [("[1]", "must be a JSON object"), ("{oops", "invalid JSON")],
)
def test_not_an_object(tmp_path: Path, text: str, detail: str) -> None:
    path = tmp_path / "process.json"
    path.write_text(text)
    with pytest.raises(SpecError, match=f"^{path}: {detail}"):
        load_process(str(path))


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing.json"
    with pytest.raises(SpecError, match="cannot read: no such file or directory"):
        load_process(str(path))
