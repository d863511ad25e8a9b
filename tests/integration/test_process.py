"""The spec's process as the container sees it: args, env, ids, limits, stdio, fds."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyrunc import capabilities
from tests.support import Bundle, Runtime, runtime_argv

DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
CAP_LINES = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


def run_ok(runtime: Runtime, bundle: Bundle, container_id: str = "proc") -> str:
    """Run the bundle, check it exited 0, and return its stdout."""
    result = runtime.run(bundle, container_id)
    assert result.returncode == 0, result.stderr
    return result.stdout


def status_fields(text: str, names: tuple[str, ...]) -> dict[str, str]:
    """Return the named fields of a /proc/PID/status document."""
    fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
    return {name: fields[name].strip() for name in names}


def test_args_are_passed_verbatim(pyrunc: Runtime, bundle: Bundle) -> None:
    """No shell sits between the spec and the process: no splitting, no expansion."""
    bundle.set_args("echo", "one  two", "$HOME", "*")
    assert run_ok(pyrunc, bundle) == "one  two $HOME *\n"


def test_missing_executable_is_reported(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.set_args("no-such-program")
    result = pyrunc.run(bundle, "noexec")
    assert result.returncode != 0
    assert "no-such-program" in result.stderr
    assert "executable file not found in $PATH" in result.stderr
    assert pyrunc.container_ids() == []


def test_env_is_exactly_the_spec_env(pyrunc: Runtime, bundle: Bundle) -> None:
    """With no HOME in the spec, HOME comes from the container's /etc/passwd."""
    env = ["PATH=/bin", "A=one two", "EMPTY=", "B=x=y"]
    bundle.config["process"]["env"] = env
    bundle.set_args("env")
    assert run_ok(pyrunc, bundle).splitlines() == [*env, "HOME=/root"]


def test_env_home_of_user_without_passwd_entry(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    bundle.set_args("sh", "-c", 'echo "$HOME"')
    assert run_ok(pyrunc, bundle) == "/\n"


def test_env_keeps_a_home_the_spec_sets(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.config["process"]["env"].append("HOME=/srv")
    bundle.set_args("sh", "-c", 'echo "$HOME"')
    assert run_ok(pyrunc, bundle) == "/srv\n"


@pytest.mark.parametrize(
    ("cwd", "shown"), [("/", "/"), ("/tmp", "/tmp"), ("/etc/", "/etc")]
)
def test_cwd(pyrunc: Runtime, bundle: Bundle, cwd: str, shown: str) -> None:
    bundle.config["process"]["cwd"] = cwd
    bundle.set_args("pwd")
    assert run_ok(pyrunc, bundle) == shown + "\n"


@pytest.mark.parametrize("uid", [0, 1000])
def test_missing_cwd_is_created(pyrunc: Runtime, bundle: Bundle, uid: int) -> None:
    """Like runc, a cwd missing from the rootfs is made (by root, mode 0755)."""
    bundle.config["process"]["user"] = {"uid": uid, "gid": uid}
    bundle.config["process"]["cwd"] = "/work/deep"
    bundle.shell("pwd; stat -c '%a %u' .")
    assert run_ok(pyrunc, bundle) == "/work/deep\n755 0\n"


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"uid": 0, "gid": 0}, "uid=0(root) gid=0(root)"),
        ({"uid": 1000, "gid": 1000}, "uid=1000 gid=1000"),
        (
            {"uid": 1000, "gid": 1000, "additionalGids": [10, 2000]},
            "uid=1000 gid=1000 groups=10,2000",
        ),
        (
            {"uid": 1000, "gid": 0, "additionalGids": [5]},
            "uid=1000 gid=0(root) groups=5",
        ),
    ],
)
def test_user_and_groups(
    pyrunc: Runtime, bundle: Bundle, user: dict[str, object], expected: str
) -> None:
    bundle.config["process"]["user"] = user
    bundle.set_args("id")
    assert run_ok(pyrunc, bundle) == expected + "\n"


def test_user_ids_are_real_effective_and_saved(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1001}
    bundle.shell("grep -E '^(Uid|Gid):' /proc/self/status")
    assert run_ok(pyrunc, bundle).split() == [
        "Uid:",
        *["1000"] * 4,
        "Gid:",
        *["1001"] * 4,
    ]


@pytest.mark.parametrize(
    ("umask", "expected"), [(None, "0022"), (0o027, "0027"), (0, "0000")]
)
def test_umask(
    pyrunc: Runtime, bundle: Bundle, umask: int | None, expected: str
) -> None:
    if umask is not None:
        bundle.config["process"]["user"]["umask"] = umask
    bundle.shell("umask")
    assert run_ok(pyrunc, bundle) == expected + "\n"


@pytest.mark.parametrize(
    ("kind", "soft", "hard", "row"),
    [
        ("RLIMIT_NOFILE", 100, 200, "Max open files"),
        ("RLIMIT_NPROC", 50, 60, "Max processes"),
        ("RLIMIT_CORE", 0, (1 << 64) - 1, "Max core file size"),
        ("RLIMIT_MEMLOCK", 65536, 131072, "Max locked memory"),
        ("RLIMIT_MSGQUEUE", 1000, 2000, "Max msgqueue size"),
    ],
)
def test_rlimits(
    pyrunc: Runtime, bundle: Bundle, kind: str, soft: int, hard: int, row: str
) -> None:
    bundle.config["process"]["rlimits"] = [{"type": kind, "soft": soft, "hard": hard}]
    bundle.shell("cat /proc/self/limits")
    line = next(x for x in run_ok(pyrunc, bundle).splitlines() if x.startswith(row))
    shown = line[len(row) :].split()[:2]
    assert shown == [
        "unlimited" if value == (1 << 64) - 1 else str(value) for value in (soft, hard)
    ]


def test_rlimit_nofile_through_ulimit(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 4096}
    ]
    bundle.shell("ulimit -n; ulimit -Hn")
    assert run_ok(pyrunc, bundle) == "512\n4096\n"


def test_hostname_and_domainname(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.config["hostname"] = "box-one"
    bundle.config["domainname"] = "example.org"
    bundle.shell("hostname; uname -n; cat /proc/sys/kernel/domainname")
    assert run_ok(pyrunc, bundle) == "box-one\nbox-one\nexample.org\n"


def test_hostname_without_uts_namespace_is_refused(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    namespaces = bundle.config["linux"]["namespaces"]
    namespaces[:] = [ns for ns in namespaces if ns["type"] != "uts"]
    bundle.set_args("true")
    result = pyrunc.run(bundle, "nouts")
    assert result.returncode != 0
    assert "hostname" in result.stderr
    assert os.uname().nodename != "pyrunc"


def test_sysctl_in_new_network_namespace(pyrunc: Runtime, bundle: Bundle) -> None:
    """The write lands in the container's netns; the host's value is untouched."""
    host = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    wanted = "0" if host.strip() == "1" else "1"
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": wanted}
    bundle.shell("cat /proc/sys/net/ipv4/ip_forward")
    assert run_ok(pyrunc, bundle) == wanted + "\n"
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == host


def test_sysctl_stays_read_only_after(pyrunc: Runtime, bundle: Bundle) -> None:
    """/proc/sys, written for the sysctl, is read-only again for the process."""
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    bundle.shell("echo 0 > /proc/sys/net/ipv4/ip_forward")
    result = pyrunc.run(bundle, "sysctl-ro")
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr


@pytest.mark.parametrize("score", [-500, 0, 123, 1000])
def test_oom_score_adj(pyrunc: Runtime, bundle: Bundle, score: int) -> None:
    if score < 0 and not _host_has_capability("CAP_SYS_RESOURCE"):
        pytest.skip(
            "a negative oomScoreAdj needs CAP_SYS_RESOURCE, which root lacks here"
        )
    bundle.config["process"]["oomScoreAdj"] = score
    bundle.shell("cat /proc/self/oom_score_adj")
    assert run_ok(pyrunc, bundle) == f"{score}\n"


@pytest.mark.parametrize(("flag", "expected"), [(True, "1"), (False, "0")])
def test_no_new_privileges(
    pyrunc: Runtime, bundle: Bundle, flag: bool, expected: str
) -> None:
    bundle.config["process"]["noNewPrivileges"] = flag
    bundle.shell("cat /proc/self/status")
    assert status_fields(run_ok(pyrunc, bundle), ("NoNewPrivs",)) == {
        "NoNewPrivs": expected
    }


def _host_has_capability(name: str) -> bool:
    effective = status_fields(Path("/proc/self/status").read_text(), ("CapEff",))
    return bool(int(effective["CapEff"], 16) & capabilities.mask([name]))


def _mask_hex(names: list[str]) -> str:
    return f"{capabilities.mask(names):016x}"


@pytest.mark.parametrize(
    ("sets", "user"),
    [
        (dict.fromkeys(["bounding", "effective", "permitted"], DEFAULT_CAPS), 0),
        (
            dict.fromkeys(
                ["bounding", "effective", "permitted", "inheritable", "ambient"],
                ["CAP_KILL", "CAP_CHOWN"],
            ),
            1000,
        ),
        ({"bounding": ["CAP_SYS_ADMIN", "CAP_KILL"], "effective": []}, 0),
    ],
    ids=["default", "ambient-for-non-root", "bounding-only"],
)
def test_capability_sets(
    pyrunc: Runtime, bundle: Bundle, sets: dict[str, list[str]], user: int
) -> None:
    """Each set the spec names is exactly what the process holds."""
    bundle.config["process"]["capabilities"] = sets
    bundle.config["process"]["user"] = {"uid": user, "gid": user}
    bundle.shell("cat /proc/self/status")
    expected = {
        line: _mask_hex(sets.get(name, []))
        for line, name in zip(
            CAP_LINES,
            ("inheritable", "permitted", "effective", "bounding", "ambient"),
            strict=True,
        )
    }
    assert status_fields(run_ok(pyrunc, bundle), CAP_LINES) == expected


def test_no_capabilities_object_means_none(pyrunc: Runtime, bundle: Bundle) -> None:
    """Like runc, a spec without process.capabilities gives the process none at all."""
    del bundle.config["process"]["capabilities"]
    bundle.shell("cat /proc/self/status")
    assert set(status_fields(run_ok(pyrunc, bundle), CAP_LINES).values()) == {"0" * 16}


@pytest.mark.runc
@pytest.mark.parametrize("user", [0, 1000])
def test_capabilities_match_runc(
    pyrunc: Runtime, runc: Runtime, make_bundle: Callable[[str], Bundle], user: int
) -> None:
    """For runc's default spec, every Cap line in /proc/self/status is runc's."""
    found = {}
    for runtime in (pyrunc, runc):
        bundle = make_bundle(runtime.name)
        bundle.config["process"]["user"] = {"uid": user, "gid": user}
        bundle.shell("cat /proc/self/status")
        found[runtime.name] = status_fields(run_ok(runtime, bundle), CAP_LINES)
    assert found["pyrunc"] == found["runc"]


def test_stdio_is_inherited_without_terminal(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    """The process reads and writes the very files given to pyrunc, not copies."""
    stdin = tmp_path / "stdin"
    stdin.write_text("from stdin\n")
    bundle.shell(
        'read line; echo "$line";'
        " readlink /proc/self/fd/1; readlink /proc/self/fd/2 >&2"
    )
    path = bundle.write("stdio")
    read_end, write_end = os.pipe()
    inode = os.fstat(write_end).st_ino
    with os.fdopen(read_end) as reader, stdin.open() as given:
        try:
            process = subprocess.run(
                runtime_argv(pyrunc, "run", "--bundle", str(path), "stdio"),
                stdin=given,
                stdout=write_end,
                stderr=write_end,
                timeout=60,
            )
        finally:
            os.close(write_end)
        output = reader.read()
    assert process.returncode == 0, output
    assert output.splitlines() == ["from stdin", *[f"pipe:[{inode}]"] * 2]


class ConsoleReceiver:
    """A --console-socket server: takes the pty master and reads all it gives."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(1)
        self.server.settimeout(30)
        self.output = b""
        self.name = b""
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.server.accept()
            with conn:
                self.name, fds, _, _ = socket.recv_fds(conn, 1024, 1)
            master = fds[0]
            try:
                self.output = _read_until_hangup(master)
            finally:
                os.close(master)
        except BaseException as err:  # reported by result()
            self.error = err

    def result(self) -> bytes:
        """Wait for the pty to hang up and return all it said."""
        self.thread.join(30)
        if self.error is not None:
            raise self.error
        return self.output

    def close(self) -> None:
        self.server.close()


def _read_until_hangup(master: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO once the last slave fd is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[ConsoleReceiver]:
    receiver = ConsoleReceiver(tmp_path / "console.sock")
    yield receiver
    receiver.close()


def test_terminal_through_console_socket(
    pyrunc: Runtime, bundle: Bundle, console: ConsoleReceiver
) -> None:
    bundle.config["process"]["terminal"] = True
    bundle.config["process"]["consoleSize"] = {"height": 24, "width": 80}
    bundle.shell("tty; test -t 0 && test -t 2 && echo all-ttys; stty size")
    result = pyrunc.run(bundle, "tty", "--console-socket", str(console.path))
    assert result.returncode == 0, result.stderr
    lines = console.result().decode().splitlines()
    assert console.name.startswith(b"/dev/pts/")
    assert lines == [console.name.decode(), "all-ttys", "24 80"]


def test_terminal_without_console_socket_is_refused(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    """Detached, no one would hold the pty; in the foreground pyrunc relays it."""
    bundle.config["process"]["terminal"] = True
    bundle.set_args("true")
    result = pyrunc.run(bundle, "tty-nosock", "--detach")
    assert result.returncode != 0
    assert "--console-socket" in result.stderr
    assert pyrunc.container_ids() == []


def _run_wrapped(
    runtime: Runtime, bundle: Bundle, container_id: str, shell: str, *flags: str
) -> subprocess.CompletedProcess[str]:
    """Run the bundle through `sh -c shell`, which ends in `exec "$@"` of pyrunc."""
    path = bundle.write(container_id)
    argv = runtime_argv(runtime, "run", "--bundle", str(path), *flags, container_id)
    return subprocess.run(
        ["sh", "-c", shell, "sh", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def fd_source(tmp_path: Path) -> Path:
    path = tmp_path / "passed"
    path.write_text("through fd 3\n")
    return path


def test_preserve_fds(pyrunc: Runtime, bundle: Bundle, fd_source: Path) -> None:
    bundle.shell("cat <&3")
    result = _run_wrapped(
        pyrunc, bundle, "preserve", f'exec "$@" 3<{fd_source}', "--preserve-fds", "1"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "through fd 3\n"


def test_fd_3_not_preserved_is_closed(
    pyrunc: Runtime, bundle: Bundle, fd_source: Path
) -> None:
    bundle.shell("ls /proc/self/fd")
    result = _run_wrapped(pyrunc, bundle, "nopreserve", f'exec "$@" 3<{fd_source}')
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "1", "2", "3"]  # 3 is the one ls opens


def test_listen_fds_for_this_pyrunc(
    pyrunc: Runtime, bundle: Bundle, fd_source: Path
) -> None:
    """Socket activation: fd 3 passes on; LISTEN_PID names the container's init."""
    bundle.shell('echo "$LISTEN_FDS $LISTEN_PID"; cat <&3')
    shell = f'export LISTEN_FDS=1 LISTEN_PID=$$; exec "$@" 3<{fd_source}'
    result = _run_wrapped(pyrunc, bundle, "listen", shell)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1 1\nthrough fd 3\n"


def test_listen_fds_for_another_process_are_ignored(
    pyrunc: Runtime, bundle: Bundle, fd_source: Path
) -> None:
    bundle.shell('echo "${LISTEN_FDS-unset}"; ls /proc/self/fd')
    shell = f'export LISTEN_FDS=1 LISTEN_PID=1; exec "$@" 3<{fd_source}'
    result = _run_wrapped(pyrunc, bundle, "listen-other", shell)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["unset", "0", "1", "2", "3"]


def test_no_runtime_fd_leaks(pyrunc: Runtime, bundle: Bundle, fd_source: Path) -> None:
    """Only stdio reaches the process, even when pyrunc itself holds more fds."""
    bundle.shell("ls /proc/self/fd")
    shell = f'exec "$@" 4<{fd_source} 7<{fd_source} 9<{fd_source}'
    result = _run_wrapped(pyrunc, bundle, "noleak", shell)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "1", "2", "3"]  # 3 is the one ls opens


@pytest.mark.parametrize("flags", [(), ("--no-new-keyring",)], ids=["new", "kept"])
def test_session_keyring(
    pyrunc: Runtime, bundle: Bundle, flags: tuple[str, ...]
) -> None:
    """The container joins a session keyring named after it, unless told not to."""
    bundle.config["linux"]["maskedPaths"] = []
    bundle.shell("grep -c 'keyring *keyring-test:' /proc/keys || true")
    result = pyrunc.run(bundle, "keyring-test", *flags)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("1\n" if not flags else "0\n")
