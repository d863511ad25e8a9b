"""`exec`: a new process in a running container, checked from inside the container.

The process joins every namespace and cgroup of the init, and gets exactly
the capabilities, rlimits, no_new_privs, seccomp filter, environment, cwd
and user its process object (the container's, with the flags laid over it,
or a --process file) says.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyrunc import capabilities
from tests.support import (
    Bundle,
    Runtime,
    cgroup_pids,
    container_cgroups,
    create,
    detached,
    error_message,
    make_sub_cgroup,
    processes_in,
    running,
    runtime_argv,
    set_frozen,
    stop_process,
    traversable_dir,
    wait_status,
)

CID = "ex"
SPEC_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]


def exec_ok(runtime: Runtime, *args: str) -> str:
    """Run `exec args...` in the foreground, check it exited 0; return its stdout."""
    result = runtime("exec", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def status_field(text: str, name: str) -> str:
    """Return one field of a /proc/PID/status document."""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key == name:
            return value.strip()
    raise AssertionError(f"no {name} in {text!r}")


def executed(pid: int, cmdline: bytes, timeout: float = 5.0) -> bool:
    """Wait until pid runs the program with cmdline (sh -c execs it a moment later)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Path(f"/proc/{pid}/cmdline").read_bytes() == cmdline:
            return True
        time.sleep(0.01)
    return False


def cap_mask(names: list[str]) -> str:
    """Return the hex mask /proc/PID/status shows for a set of capabilities."""
    return f"{capabilities.mask(names):016x}"


@pytest.fixture
def container(pyrunc: Runtime, bundle: Bundle) -> int:
    """A running container of the default busybox bundle; the init's pid."""
    return running(pyrunc, bundle, CID)


ExecDetached = Callable[..., int]


def reap(pid: int, timeout: float = 10.0) -> int | None:
    """Reap pid, one of our children, once it exits; its exit code, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    return None


@pytest.fixture
def exec_detached(pyrunc: Runtime, tmp_path: Path) -> Iterator[ExecDetached]:
    """`exec -d` in the container CID: call with the command; returns its pid.

    When `exec -d` returns, the process is re-parented to the nearest
    subreaper: this test process. It is killed with the container at the
    end and reaped here, or the container's init, waiting in the kernel for
    every process of its pid namespace to be reaped, would never be gone.
    """
    pids: list[int] = []

    def start(*argv: str) -> int:
        pid_file = tmp_path / f"exec-{len(pids)}.pid"
        result = detached(pyrunc, "exec", "-d", "--pid-file", str(pid_file), CID, *argv)
        assert result.returncode == 0, result.stderr
        pids.append(int(pid_file.read_text()))
        return pids[-1]

    yield start
    pyrunc("kill", "--all", CID, "KILL")
    for pid in pids:
        reap(pid)


@pytest.mark.parametrize("ns", ["pid", "net", "ipc", "uts", "mnt"])
def test_exec_joins_every_namespace_of_the_init(
    pyrunc: Runtime, container: int, ns: str
) -> None:
    script = f"readlink /proc/self/ns/{ns}; readlink /proc/1/ns/{ns}"
    mine, inits = exec_ok(pyrunc, CID, "sh", "-c", script).split()
    assert mine == inits
    assert mine == os.readlink(f"/proc/{container}/ns/{ns}")


def test_exec_sees_the_init_as_pid_1(pyrunc: Runtime, container: int) -> None:
    out = exec_ok(pyrunc, CID, "sh", "-c", "echo $$; tr '\\0' ' ' < /proc/1/cmdline")
    pid, *init_argv = out.split()
    assert int(pid) > 1
    host_view = Path(f"/proc/{container}/cmdline").read_bytes().decode()
    assert init_argv == host_view.split("\0")[:-1] == ["sleep", "60"]


def test_exec_joins_the_init_cgroup(pyrunc: Runtime, container: int) -> None:
    out = exec_ok(
        pyrunc, CID, "sh", "-c", "cat /proc/self/cgroup; echo; cat /proc/1/cgroup"
    )
    mine, inits = out.split("\n\n")
    assert mine.strip() == inits.strip()
    assert CID in mine


def test_exec_process_is_in_every_cgroup_hierarchy(
    pyrunc: Runtime, container: int, exec_detached: ExecDetached
) -> None:
    pid = exec_detached("sleep", "60")
    pids = cgroup_pids(CID)
    assert pids
    for path, members in pids.items():
        assert {pid, container} <= members, path


@pytest.mark.runc
@pytest.mark.parametrize("flag", ["sub", "memory,pids:sub", "freezer:sub"])
def test_exec_cgroup_joins_a_sub_cgroup_as_runc_does(
    pyrunc: Runtime, runc: Runtime, make_bundle: Callable[[str], Bundle], flag: str
) -> None:
    outputs = []
    for runtime in (pyrunc, runc):
        running(runtime, make_bundle(runtime.name), CID)
        for path in container_cgroups(CID):
            make_sub_cgroup(path / "sub")
        result = runtime("exec", "--cgroup", flag, CID, "cat", "/proc/self/cgroup")
        runtime("delete", "--force", CID)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)

    assert outputs[0] == outputs[1]
    assert f"/{CID}/sub" in outputs[0]


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        ("missing", "no such file or directory"),
        ("nosuch:sub", "nosuch:sub: no cgroup hierarchy has it"),
        ("../escape", "../escape: must not contain '..'"),
        ("memory:", "--cgroup 'memory:': the path is empty"),
    ],
)
def test_exec_cgroup_refuses_what_it_cannot_join(
    pyrunc: Runtime, container: int, flag: str, reason: str
) -> None:
    result = pyrunc("exec", "--cgroup", flag, CID, "true")

    assert result.returncode != 0
    assert reason in error_message(result.stderr)
    assert all(members == {container} for members in cgroup_pids(CID).values())


def test_exec_default_process_is_the_spec_process(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    """Without flags the process is the config's, with the command replaced."""
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    bundle.config["process"]["cwd"] = "/tmp"
    running(pyrunc, bundle, CID)
    out = exec_ok(pyrunc, CID, "sh", "-c", "id; pwd; ulimit -n; env | sort")
    lines = out.splitlines()
    assert lines[:3] == ["uid=1000 gid=1000", "/tmp", "1024"]
    env = set(lines[3:]) - {"SHLVL=1", "PWD=/tmp"}
    assert env == {*bundle.config["process"]["env"], "HOME=/"}


def test_exec_capabilities_are_the_spec_capabilities(
    pyrunc: Runtime, container: int
) -> None:
    status = exec_ok(pyrunc, CID, "cat", "/proc/self/status")
    for field in ("CapEff", "CapPrm", "CapBnd"):
        assert status_field(status, field) == cap_mask(SPEC_CAPS), field
    assert status_field(status, "CapInh") == cap_mask([])
    assert status_field(status, "NoNewPrivs") == "1"


def test_exec_cap_adds_to_the_sets(pyrunc: Runtime, container: int) -> None:
    """Like runc 1.1, --cap adds to bounding, effective and permitted (and to
    ambient, where it is not raised without being inheritable)."""
    status = exec_ok(
        pyrunc,
        CID,
        "--cap",
        "CAP_SYS_ADMIN",
        "-c",
        "CAP_CHOWN",
        "cat",
        "/proc/self/status",
    )
    wanted = cap_mask([*SPEC_CAPS, "CAP_SYS_ADMIN", "CAP_CHOWN"])
    for field in ("CapEff", "CapPrm", "CapBnd"):
        assert status_field(status, field) == wanted, field
    assert status_field(status, "CapAmb") == cap_mask([])


def test_exec_unknown_cap_is_refused(pyrunc: Runtime, container: int) -> None:
    result = pyrunc("exec", "--cap", "CAP_NOPE", CID, "true")
    assert result.returncode == 255
    assert "CAP_NOPE" in error_message(result.stderr)


def test_exec_cwd(pyrunc: Runtime, container: int) -> None:
    assert exec_ok(pyrunc, "--cwd", "/etc", CID, "pwd") == "/etc\n"


def test_exec_missing_cwd_is_an_error(pyrunc: Runtime, container: int) -> None:
    result = pyrunc("exec", "--cwd", "/no/such/dir", CID, "true")
    assert result.returncode == 255
    message = error_message(result.stderr)
    assert message.startswith("exec failed:")
    assert "/no/such/dir" in message and "no such file or directory" in message


def test_exec_relative_cwd_is_refused(pyrunc: Runtime, container: int) -> None:
    result = pyrunc("exec", "--cwd", "tmp", CID, "true")
    assert result.returncode == 255
    assert "absolute" in error_message(result.stderr)


def test_exec_env_adds_and_replaces(pyrunc: Runtime, container: int) -> None:
    out = exec_ok(pyrunc, "-e", "PATH=/bin", "--env", "NEW=a b", "-e", "E=", CID, "env")
    assert out.splitlines() == [
        "PATH=/bin",
        "TERM=xterm",
        "NEW=a b",
        "E=",
        "HOME=/root",
    ]


def test_exec_env_without_equals_is_refused(pyrunc: Runtime, container: int) -> None:
    result = pyrunc("exec", "-e", "JUSTNAME", CID, "true")
    assert result.returncode == 255
    assert "JUSTNAME" in error_message(result.stderr)


@pytest.mark.parametrize(
    ("flag", "expected"),
    [("1000", "uid=1000 gid=0(root)"), ("1000:1001", "uid=1000 gid=1001")],
)
def test_exec_user(pyrunc: Runtime, container: int, flag: str, expected: str) -> None:
    assert exec_ok(pyrunc, "-u", flag, CID, "id") == expected + "\n"


def test_exec_user_without_passwd_entry_gets_home_slash(
    pyrunc: Runtime, container: int
) -> None:
    out = exec_ok(pyrunc, "--user", "1000:1000", CID, "sh", "-c", 'echo "$HOME"')
    assert out == "/\n"


@pytest.mark.parametrize("flag", ["root", "1:x", "-1", "4294967296"])
def test_exec_bad_user_is_refused(pyrunc: Runtime, container: int, flag: str) -> None:
    result = pyrunc("exec", f"--user={flag}", CID, "true")
    assert result.returncode == 255
    assert "--user" in error_message(result.stderr)


def test_exec_additional_gids(pyrunc: Runtime, container: int) -> None:
    out = exec_ok(
        pyrunc, "-u", "1000:1000", "-g", "10", "--additional-gids", "20", CID, "id"
    )
    assert out == "uid=1000 gid=1000 groups=10,20\n"


def test_exec_negative_gid_is_refused(pyrunc: Runtime, container: int) -> None:
    result = pyrunc("exec", "-g", "-5", CID, "true")
    assert result.returncode == 255
    assert "--additional-gids" in error_message(result.stderr)


def test_exec_no_new_privs(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.config["process"]["noNewPrivileges"] = False
    running(pyrunc, bundle, CID)
    without = exec_ok(pyrunc, CID, "cat", "/proc/self/status")
    with_flag = exec_ok(pyrunc, "--no-new-privs", CID, "cat", "/proc/self/status")
    assert status_field(without, "NoNewPrivs") == "0"
    assert status_field(with_flag, "NoNewPrivs") == "1"


@pytest.mark.parametrize(
    ("flag", "module"), [("--apparmor", "AppArmor"), ("--process-label", "SELinux")]
)
def test_exec_security_labels_are_refused(
    pyrunc: Runtime, container: int, flag: str, module: str
) -> None:
    result = pyrunc("exec", flag, "some_label", CID, "true")
    assert result.returncode == 255
    message = error_message(result.stderr)
    assert message.startswith(f"exec failed: {flag}:")
    assert module in message


def test_exec_rlimits_are_the_spec_rlimits(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654},
        {"type": "RLIMIT_NPROC", "soft": 77, "hard": 88},
    ]
    running(pyrunc, bundle, CID)
    out = exec_ok(
        pyrunc, CID, "sh", "-c", "ulimit -n; ulimit -Hn; ulimit -u; ulimit -Hu"
    )
    assert out.split() == ["321", "654", "77", "88"]


def test_exec_seccomp_is_the_containers(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
        ],
    }
    running(pyrunc, bundle, CID)
    script = "grep ^Seccomp: /proc/self/status; mkdir /tmp/x && echo made"
    result = pyrunc("exec", CID, "sh", "-c", script)
    assert result.stdout.split() == ["Seccomp:", "2"]
    assert "Operation not permitted" in result.stderr
    assert not (bundle.rootfs / "tmp" / "x").exists()


def test_exec_seccomp_without_no_new_privs_for_a_user(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    """The filter is loaded for a non-root user lacking CAP_SYS_ADMIN, too."""
    bundle.config["process"]["noNewPrivileges"] = False
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}],
    }
    running(pyrunc, bundle, CID)
    result = pyrunc(
        "exec", "-u", "1000:1000", CID, "grep", "^Seccomp:", "/proc/self/status"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Seccomp:", "2"]


@pytest.mark.parametrize(
    ("script", "status"), [("true", 0), ("exit 3", 3), ("exit 200", 200)]
)
def test_exec_exit_status_passes_through(
    pyrunc: Runtime, container: int, script: str, status: int
) -> None:
    assert pyrunc("exec", CID, "sh", "-c", script).returncode == status


@pytest.mark.parametrize(("signal_name", "status"), [("KILL", 137), ("TERM", 143)])
def test_exec_killed_by_signal_is_128_plus_n(
    pyrunc: Runtime, container: int, signal_name: str, status: int
) -> None:
    result = pyrunc("exec", CID, "sh", "-c", f"kill -{signal_name} $$")
    assert result.returncode == status


def test_exec_missing_executable(pyrunc: Runtime, container: int) -> None:
    result = pyrunc("exec", CID, "no-such-program")
    assert result.returncode == 255
    assert error_message(result.stderr) == (
        'exec failed: exec: "no-such-program": executable file not found in $PATH'
    )
    for members in cgroup_pids(CID).values():
        assert members == {container}


def test_exec_without_command_is_refused(pyrunc: Runtime, container: int) -> None:
    result = pyrunc("exec", CID)
    assert result.returncode == 255
    assert "args" in error_message(result.stderr)


def test_exec_in_missing_container(pyrunc: Runtime) -> None:
    result = pyrunc("exec", "nothing-here", "true")
    assert result.returncode == 255
    assert error_message(result.stderr) == "exec failed: container does not exist"


def test_exec_in_stopped_container_fails(pyrunc: Runtime, bundle: Bundle) -> None:
    running(pyrunc, bundle, CID, "true")
    assert wait_status(pyrunc, CID, "stopped")["status"] == "stopped"
    result = pyrunc("exec", CID, "touch", "/ran")
    assert result.returncode == 255
    assert error_message(result.stderr) == (
        "exec failed: cannot exec in a stopped container"
    )
    assert not (bundle.rootfs / "ran").exists()


def test_exec_in_created_container(pyrunc: Runtime, bundle: Bundle) -> None:
    """As in runc, a created container's namespaces can be entered before start.

    The waiting init is not dumpable until it executes, so the process sees
    it as pid 1 but may not look into it.
    """
    bundle.shell("sleep 60")
    assert create(pyrunc, bundle, CID).returncode == 0
    init = pyrunc.state(CID)["pid"]
    script = "readlink /proc/self/ns/pid; readlink /proc/1/ns/pid || echo refused"
    mine, refused = exec_ok(pyrunc, CID, "sh", "-c", script).split()
    assert mine == os.readlink(f"/proc/{init}/ns/pid")
    assert refused == "refused"
    assert pyrunc.state(CID)["status"] == "created"


def test_exec_in_paused_container_fails(pyrunc: Runtime, container: int) -> None:
    set_frozen(CID, True)
    try:
        assert pyrunc.state(CID)["status"] == "paused"
        result = pyrunc("exec", CID, "true")
    finally:
        set_frozen(CID, False)
    assert result.returncode == 255
    assert error_message(result.stderr) == (
        "exec failed: cannot exec in a paused container"
        " (use --ignore-paused to override)"
    )


def test_exec_ignore_paused_runs_once_resumed(
    pyrunc: Runtime, container: int, tmp_path: Path
) -> None:
    """The process joins the frozen cgroup first, so it runs only after a resume."""
    set_frozen(CID, True)
    out = tmp_path / "out"
    with out.open("w") as sink:
        argv = runtime_argv(pyrunc, "exec", "--ignore-paused", CID, "echo", "ran")
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
    try:
        time.sleep(0.5)
        assert proc.poll() is None
        assert out.read_text() == ""
        set_frozen(CID, False)
        assert proc.wait(timeout=30) == 0
        assert out.read_text() == "ran\n"
    finally:
        set_frozen(CID, False)
        stop_process(proc)


def test_exec_detach_and_pid_file(
    bundle: Bundle, container: int, exec_detached: ExecDetached
) -> None:
    pid = exec_detached("sh", "-c", "sleep 60")
    assert executed(pid, b"sleep\x0060\x00")
    assert pid in processes_in(bundle.rootfs)


def test_exec_detach_returns_once_the_program_runs(
    container: int, exec_detached: ExecDetached
) -> None:
    pid = exec_detached("sleep", "60")

    assert Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x0060\x00"


def test_exec_detach_reports_a_failed_execve(
    pyrunc: Runtime, bundle: Bundle, container: int
) -> None:
    # found and executable, but not a program the kernel can load
    (bundle.rootfs / "not-a-program").write_text("neither ELF nor #!\n")
    (bundle.rootfs / "not-a-program").chmod(0o755)

    result = pyrunc("exec", "-d", CID, "/not-a-program")

    assert result.returncode != 0
    assert "exec format error" in error_message(result.stderr)


def test_exec_leaks_no_runtime_fd(
    pyrunc: Runtime, container: int, exec_detached: ExecDetached
) -> None:
    listed = exec_ok(pyrunc, CID, "sh", "-c", "ls /proc/$$/fd; true")
    assert listed.split() == ["0", "1", "2"]
    pid = exec_detached("sleep", "60")
    assert executed(pid, b"sleep\x0060\x00")
    fds = {n: os.readlink(f"/proc/{pid}/fd/{n}") for n in os.listdir(f"/proc/{pid}/fd")}
    assert sorted(fds) == ["0", "1", "2"], fds


def test_exec_preserve_fds(pyrunc: Runtime, container: int, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("passed in\n")
    argv = runtime_argv(
        pyrunc, "exec", "--preserve-fds", "1", CID, "sh", "-c", "cat <&3"
    )
    result = subprocess.run(
        ["sh", "-c", 'exec 3<"$0"; exec "$@"', str(secret), *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "passed in\n"


def test_kill_all_reaches_an_exec_process(
    pyrunc: Runtime, bundle: Bundle, container: int, exec_detached: ExecDetached
) -> None:
    pid = exec_detached("sleep", "60")
    assert pyrunc("kill", "--all", CID, "KILL").returncode == 0
    assert reap(pid) == -9
    assert wait_status(pyrunc, CID, "stopped")["status"] == "stopped"
    deadline = time.monotonic() + 5
    while processes_in(bundle.rootfs) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert processes_in(bundle.rootfs) == []


def write_process(path: Path, process: dict[str, object]) -> str:
    """Write a process.json and return its path."""
    path.write_text(json.dumps(process))
    return str(path)


def test_exec_process_file(pyrunc: Runtime, container: int, tmp_path: Path) -> None:
    process = {
        "args": [
            "sh",
            "-c",
            "id; pwd; echo $GREETING; grep ^CapEff: /proc/self/status",
        ],
        "cwd": "/etc",
        "env": ["PATH=/bin", "GREETING=hello"],
        "user": {"uid": 0, "gid": 0, "additionalGids": [7]},
        "capabilities": {
            "bounding": ["CAP_CHOWN"],
            "effective": ["CAP_CHOWN"],
            "permitted": ["CAP_CHOWN"],
        },
    }
    path = write_process(tmp_path / "process.json", process)
    out = exec_ok(pyrunc, "--process", path, CID)
    assert out.splitlines() == [
        "uid=0(root) gid=0(root) groups=7",
        "/etc",
        "hello",
        f"CapEff:\t{cap_mask(['CAP_CHOWN'])}",
    ]


@pytest.mark.parametrize(
    ("process", "expected"),
    [
        ({"args": ["true"]}, "cwd: is required"),
        ({"args": ["true"], "cwd": "/", "user": {"uid": "x", "gid": 0}}, "user.uid:"),
        ({"args": [], "cwd": "/"}, "args: must not be empty"),
        ({"args": ["true"], "cwd": "relative"}, "cwd: must be an absolute path"),
        ({"args": ["true"], "cwd": "/", "env": ["NOEQUALS"]}, "env[0]:"),
        ({"args": ["true"], "cwd": "/", "apparmorProfile": "p"}, "apparmorProfile:"),
    ],
)
def test_exec_bad_process_file_names_the_field(
    pyrunc: Runtime,
    container: int,
    tmp_path: Path,
    process: dict[str, object],
    expected: str,
) -> None:
    path = write_process(tmp_path / "process.json", process)
    result = pyrunc("exec", "-p", path, CID)
    assert result.returncode == 255
    assert error_message(result.stderr).startswith(f"exec failed: {path}: {expected}")


def test_exec_process_file_that_is_not_json(
    pyrunc: Runtime, container: int, tmp_path: Path
) -> None:
    path = tmp_path / "process.json"
    path.write_text("{not json")
    result = pyrunc("exec", "-p", str(path), CID)
    assert result.returncode == 255
    assert error_message(result.stderr).startswith(f"exec failed: {path}: invalid JSON")


def test_exec_in_user_namespace_container(
    pyrunc: Runtime, rootfs_template: Path
) -> None:
    """The user namespace is joined last; ids are then those inside it."""
    mapping = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    script = "id; readlink /proc/self/ns/user; cat /proc/self/uid_map"
    with traversable_dir() as open_dir:
        bundle = Bundle(open_dir / "bundle", rootfs_template)
        bundle.config["linux"]["namespaces"].append({"type": "user"})
        bundle.config["linux"]["uidMappings"] = mapping
        bundle.config["linux"]["gidMappings"] = mapping
        init = running(pyrunc, bundle, CID)
        try:
            init_userns = os.readlink(f"/proc/{init}/ns/user")
            out = exec_ok(pyrunc, "-u", "1000:1000", CID, "sh", "-c", script)
        finally:
            pyrunc("delete", "--force", CID)
    lines = out.splitlines()
    assert lines[:2] == ["uid=1000 gid=1000", init_userns]
    assert lines[2].split() == ["0", "100000", "65536"]


@pytest.mark.runc
@pytest.mark.parametrize(
    "flags",
    [
        [],
        ["--cwd", "/tmp", "-e", "X=1", "-e", "PATH=/bin"],
        ["-u", "1000:1000", "-g", "5"],
        ["--cap", "CAP_SYS_ADMIN"],
        ["--no-new-privs"],
    ],
)
def test_exec_matches_runc(
    pyrunc: Runtime, runc: Runtime, make_bundle: object, flags: list[str]
) -> None:
    script = "id; pwd; env | sort; grep -E '^(Cap|NoNewPrivs)' /proc/self/status"
    outputs = []
    for runtime in (pyrunc, runc):
        bundle = make_bundle(runtime.name)  # type: ignore[operator]
        bundle.config["process"]["noNewPrivileges"] = False
        running(runtime, bundle, CID)
        result = runtime("exec", *flags, CID, "sh", "-c", script)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
        runtime("delete", "--force", CID)
    assert outputs[0] == outputs[1]
