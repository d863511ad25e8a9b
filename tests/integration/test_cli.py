"""The command line around the lifecycle: version, help, list and the error log."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from pyrunc import SPEC_VERSION, __version__
from pyrunc.cli import COMMANDS
from tests import oci_schema
from tests.support import Bundle, Runtime, create, error_message, pyrunc_command

RFC3339 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"
HEADER = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]


def pyrunc_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run pyrunc with args and no state root: for commands that need none."""
    return subprocess.run(
        [*pyrunc_command(), *args], capture_output=True, text=True, timeout=60
    )


def created(runtime: Runtime, bundle: Bundle, container_id: str) -> None:
    bundle.shell("sleep 30")
    result = create(runtime, bundle, container_id)
    assert result.returncode == 0, result.stderr


# version and help


@pytest.mark.parametrize("flag", ["--version", "-v"])
def test_version_names_pyrunc_and_the_spec(flag: str) -> None:
    result = pyrunc_cli(flag)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"pyrunc version {__version__}\nspec: {SPEC_VERSION}\n"


def test_help_lists_every_command() -> None:
    result = pyrunc_cli("--help")
    assert result.returncode == 0, result.stderr
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), command


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_of_each_command(command: str) -> None:
    result = pyrunc_cli(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()
    assert command in result.stdout


def test_unknown_command_is_refused() -> None:
    result = pyrunc_cli("nosuchcommand")
    assert result.returncode != 0
    assert "nosuchcommand" in result.stderr


# list


@pytest.mark.runc
def test_empty_list_is_runc_table(pyrunc: Runtime, runc: Runtime) -> None:
    ours, theirs = pyrunc("list"), runc("list")
    assert ours.returncode == theirs.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout


def test_list_table_aligns_values_under_headers(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    created(pyrunc, bundle, "tabled")
    state = pyrunc.state("tabled")
    result = pyrunc("list")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.split() == HEADER
    columns = [header.index(name) for name in HEADER]
    ends = [*columns[1:], None]
    cells = [row[a:b].strip() for a, b in zip(columns, ends, strict=True)]
    assert cells == [
        "tabled",
        str(state["pid"]),
        "created",
        str(bundle.path),
        state["created"],
        "root",
    ]


@pytest.mark.runc
def test_list_table_has_runc_layout(
    pyrunc: Runtime, runc: Runtime, make_bundle: Callable[[str], Bundle]
) -> None:
    """IDs and bundles of one length: the columns up to CREATED start where runc's do.

    The OWNER column moves with the width of CREATED, whose trailing zeros
    runc drops, so it is left out.
    """
    rows = []
    for runtime in (pyrunc, runc):
        name = runtime.name.ljust(6, "x")
        created(runtime, make_bundle(f"b-{name}"), f"lay-{name}")
        result = runtime("list")
        assert result.returncode == 0, result.stderr
        rows.append(result.stdout.splitlines())
    for ours, theirs in zip(*rows, strict=True):
        assert starts(ours)[:5] == starts(theirs)[:5], (ours, theirs)


def starts(line: str) -> list[int]:
    """Return where each space-separated cell of a table line starts."""
    return [found.start() for found in re.finditer(r"\S+", line)]


def test_list_json_is_null_when_empty(pyrunc: Runtime) -> None:
    result = pyrunc("list", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) is None


def test_list_json_holds_the_states(
    pyrunc: Runtime, make_bundle: Callable[[str], Bundle]
) -> None:
    for name in ("alpha", "beta"):
        created(pyrunc, make_bundle(name), name)
    result = pyrunc("list", "--format", "json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [item["id"] for item in listed] == ["alpha", "beta"]
    for item in listed:
        assert item == pyrunc.state(item["id"])
        if oci_schema.available():
            oci_schema.validate_official(item, "state")


def test_list_quiet_prints_ids_only(
    pyrunc: Runtime, make_bundle: Callable[[str], Bundle]
) -> None:
    for name in ("beta", "alpha"):
        created(pyrunc, make_bundle(name), name)
    result = pyrunc("list", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "alpha\nbeta\n"


# errors and the log


def test_error_goes_to_stderr_as_a_text_line(pyrunc: Runtime) -> None:
    result = pyrunc("start", "absent")
    assert result.returncode == 1, result.stderr
    assert re.fullmatch(
        rf'time="{RFC3339}" level=error msg="container does not exist"\n',
        result.stderr,
    ), result.stderr


def test_json_log_file_gets_the_error(pyrunc: Runtime, tmp_path: Path) -> None:
    log = tmp_path / "pyrunc.log"
    result = pyrunc("--log", str(log), "--log-format", "json", "start", "absent")
    assert result.returncode == 1, result.stderr
    assert result.stderr == "container does not exist\n"
    line = json.loads(log.read_text().splitlines()[-1])
    assert line["level"] == "error"
    assert line["msg"] == "container does not exist"
    assert re.fullmatch(RFC3339, line["time"])


def test_text_log_file_gets_the_error(pyrunc: Runtime, tmp_path: Path) -> None:
    log = tmp_path / "pyrunc.log"
    result = pyrunc("--log", str(log), "start", "absent")
    assert result.returncode == 1, result.stderr
    assert result.stderr == "container does not exist\n"
    last = log.read_text().splitlines()[-1]
    assert re.fullmatch(
        rf'time="{RFC3339}" level=error msg="container does not exist"', last
    )


def test_log_file_is_appended_to(pyrunc: Runtime, tmp_path: Path) -> None:
    log = tmp_path / "pyrunc.log"
    log.write_text("earlier line\n")
    result = pyrunc("--log", str(log), "--log-format", "json", "state", "absent")
    assert result.returncode == 1, result.stderr
    lines = log.read_text().splitlines()
    assert lines[0] == "earlier line"
    assert json.loads(lines[-1])["msg"] == "container does not exist"


def test_failed_create_is_logged_as_json(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    log = tmp_path / "pyrunc.log"
    bundle.set_args("nosuchprogram")
    path = bundle.write("logged")
    result = pyrunc(
        "--log", str(log), "--log-format", "json", "create", "-b", str(path), "logged"
    )
    assert result.returncode == 1, result.stderr
    line = json.loads(log.read_text().splitlines()[-1])
    assert line["level"] == "error"
    assert "executable file not found" in line["msg"]
    assert result.stderr == line["msg"] + "\n"


@pytest.mark.runc
@pytest.mark.parametrize("log_format", ["json", "text"])
def test_error_log_matches_runc(
    pyrunc: Runtime, runc: Runtime, tmp_path: Path, log_format: str
) -> None:
    seen = []
    for runtime in (pyrunc, runc):
        log = tmp_path / f"{runtime.name}.log"
        result = runtime(
            "--log", str(log), "--log-format", log_format, "delete", "absent"
        )
        last = log.read_text().splitlines()[-1]
        if log_format == "json":
            fields = json.loads(last)
            shape = (sorted(fields), fields["level"], fields["msg"])
        else:
            shape = (re.sub(r'time="[^"]*"', "time", last), "", "")
        seen.append((result.returncode, result.stderr, shape))
    assert seen[0] == seen[1]


def test_error_message_is_one_line(pyrunc: Runtime, bundle: Bundle) -> None:
    (bundle.path / "config.json").write_text("{\n  nope\n")
    result = pyrunc("create", "-b", str(bundle.path), "oneline")
    assert result.returncode == 1, result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "config.json" in error_message(result.stderr)
