"""linux.seccomp seen from inside a container: each action, argument test and flag.

The probes are busybox applets with a system call and arguments the test
controls: mkdir(2) for the actions, and the shell's `kill -0 PID` for the
argument conditions (kill(PID, 0): "No such process" when the filter lets
it through for a PID that does not exist, the rule's errno when it does not).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import platform
import select
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyrunc import capabilities
from tests.support import Bundle, Runtime, create, error_message, leftovers

pytestmark = pytest.mark.skipif(
    platform.machine() != "x86_64", reason="the profiles name x86_64 architectures"
)

ARCHES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
MKDIR = ["mkdir", "mkdirat"]
ENOSYS_TEXT = "Function not implemented"
SIGSYS_STATUS = "159"  # 128 + SIGSYS (31)
PODMAN_PROFILE = Path("/usr/share/containers/seccomp.json")
# containers.conf's default_capabilities, as podman gives them
PODMAN_CAPS = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_CHROOT",
]


def use_profile(
    bundle: Bundle,
    syscalls: list[dict[str, Any]],
    default: str = "SCMP_ACT_ALLOW",
    **fields: Any,
) -> Bundle:
    """Give the bundle a linux.seccomp profile for x86_64."""
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": default,
        "architectures": ARCHES,
        "syscalls": syscalls,
        **fields,
    }
    return bundle


def rule(names: list[str], action: str, **fields: Any) -> dict[str, Any]:
    return {"names": names, "action": action, **fields}


def arg(index: int, op: str, value: int, value_two: int = 0) -> dict[str, Any]:
    return {"index": index, "op": op, "value": value, "valueTwo": value_two}


def run_ok(runtime: Runtime, bundle: Bundle, container_id: str = "sec") -> str:
    """Run the bundle, check it exited 0, and return its stdout."""
    result = runtime.run(bundle, container_id)
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_both(
    pyrunc: Runtime, runc: Runtime, make_bundle: Callable[[str], Bundle], setup: Any
) -> dict[str, tuple[int, str, str]]:
    """Run one setup under both runtimes; return (status, stdout, stderr) of each."""
    found = {}
    for runtime in (pyrunc, runc):
        bundle = make_bundle(runtime.name)
        setup(bundle)
        result = runtime.run(bundle, "sec")
        found[runtime.name] = (result.returncode, result.stdout, result.stderr)
    return found


def kill_probe(bundle: Bundle, pids: list[int]) -> Bundle:
    """Run `kill -0 PID` for each PID; print "PID denied" or "PID passed"."""
    script = "".join(
        f'case "$(kill -0 {pid} 2>&1)" in'
        f' *"{ENOSYS_TEXT}"*) echo {pid} denied;; *) echo {pid} passed;; esac;'
        for pid in pids
    )
    return bundle.shell(script)


def kill_rule(*args: dict[str, Any]) -> dict[str, Any]:
    return rule(["kill"], "SCMP_ACT_ERRNO", errnoRet=errno.ENOSYS, args=list(args))


def outcomes(output: str) -> dict[int, str]:
    return {
        int(pid): word for pid, word in (line.split() for line in output.splitlines())
    }


# ---- actions -----------------------------------------------------------------


def test_errno_ret_is_the_errno(pyrunc: Runtime, bundle: Bundle) -> None:
    use_profile(bundle, [rule(MKDIR, "SCMP_ACT_ERRNO", errnoRet=errno.ENOSYS)])
    bundle.shell("mkdir /made; echo status $?; test -e /made || echo absent")
    result = pyrunc.run(bundle, "errno")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "status 1\nabsent\n"
    assert f"can't create directory '/made': {ENOSYS_TEXT}" in result.stderr


def test_errno_without_errno_ret_is_eperm(pyrunc: Runtime, bundle: Bundle) -> None:
    use_profile(bundle, [rule(MKDIR, "SCMP_ACT_ERRNO")])
    bundle.shell("mkdir /made")
    result = pyrunc.run(bundle, "eperm")
    assert result.returncode == 1, result.stderr
    assert "Operation not permitted" in result.stderr


def all_syscall_names() -> list[str]:
    """Every syscall name libseccomp knows for this machine."""
    path = ctypes.util.find_library("seccomp")
    if path is None:
        pytest.skip("libseccomp is not installed")
    lib = ctypes.CDLL(path)
    libc = ctypes.CDLL(None)
    resolve = lib.seccomp_syscall_resolve_num_arch
    resolve.restype = ctypes.c_void_p
    resolve.argtypes = [ctypes.c_uint32, ctypes.c_int]
    libc.free.argtypes = [ctypes.c_void_p]
    names = []
    for number in range(1024):
        found = resolve(0, number)  # SCMP_ARCH_NATIVE
        if found:
            names.append(ctypes.string_at(found).decode())
            libc.free(found)
    return names


@pytest.mark.parametrize(
    ("errno_ret", "text"),
    [(errno.ENOSYS, ENOSYS_TEXT), (None, "Operation not permitted")],
    ids=["defaultErrnoRet", "eperm"],
)
def test_default_errno_ret(
    pyrunc: Runtime, bundle: Bundle, errno_ret: int | None, text: str
) -> None:
    """Every call but mkdir is allowed by name; mkdir meets the default action."""
    allowed = [name for name in all_syscall_names() if name not in MKDIR]
    fields = {} if errno_ret is None else {"defaultErrnoRet": errno_ret}
    use_profile(bundle, [rule(allowed, "SCMP_ACT_ALLOW")], "SCMP_ACT_ERRNO", **fields)
    bundle.shell("echo alive; mkdir /made")
    result = pyrunc.run(bundle, "default")
    assert result.stdout == "alive\n"
    assert result.returncode == 1, result.stderr
    assert f"can't create directory '/made': {text}" in result.stderr


@pytest.mark.parametrize(
    "action",
    ["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"],
)
def test_killing_action_sends_sigsys(
    pyrunc: Runtime, bundle: Bundle, action: str
) -> None:
    """The subshell dies of SIGSYS; the shell around it sees 128 + 31."""
    use_profile(bundle, [rule(MKDIR, action)])
    bundle.shell("(mkdir /made); echo status $?; test -e /made || echo absent")
    assert run_ok(pyrunc, bundle) == f"status {SIGSYS_STATUS}\nabsent\n"


@pytest.mark.parametrize(
    "action",
    ["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"],
)
def test_killed_process_exit_status(
    pyrunc: Runtime, bundle: Bundle, action: str
) -> None:
    """When the container's own process dies of SIGSYS, run exits 159 as runc does."""
    use_profile(bundle, [rule(MKDIR, action)])
    bundle.set_args("mkdir", "/made")
    result = pyrunc.run(bundle, "killed")
    assert result.returncode == int(SIGSYS_STATUS), result.stderr
    assert not (bundle.rootfs / "made").exists()


@pytest.mark.parametrize("action", ["SCMP_ACT_LOG", "SCMP_ACT_ALLOW"])
def test_log_and_allow_let_the_call_through(
    pyrunc: Runtime, bundle: Bundle, action: str
) -> None:
    default = "SCMP_ACT_ALLOW" if action == "SCMP_ACT_LOG" else "SCMP_ACT_LOG"
    use_profile(bundle, [rule(MKDIR, action)], default)
    bundle.shell("mkdir /made && echo made")
    assert run_ok(pyrunc, bundle) == "made\n"
    assert (bundle.rootfs / "made").is_dir()


def test_trace_without_a_tracer_is_enosys(pyrunc: Runtime, bundle: Bundle) -> None:
    use_profile(bundle, [rule(MKDIR, "SCMP_ACT_TRACE", errnoRet=7)])
    bundle.shell("mkdir /made")
    result = pyrunc.run(bundle, "trace")
    assert result.returncode == 1, result.stderr
    assert ENOSYS_TEXT in result.stderr
    assert not (bundle.rootfs / "made").exists()


@pytest.mark.runc
@pytest.mark.parametrize(
    "action",
    [
        "SCMP_ACT_ERRNO",
        "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_TRAP",
        "SCMP_ACT_TRACE",
        "SCMP_ACT_LOG",
    ],
)
def test_actions_match_runc(
    pyrunc: Runtime,
    runc: Runtime,
    make_bundle: Callable[[str], Bundle],
    action: str,
) -> None:
    def setup(bundle: Bundle) -> None:
        use_profile(bundle, [rule(MKDIR, action, errnoRet=errno.EXDEV)])
        bundle.shell("(mkdir /made 2>&1); echo status $?")

    found = run_both(pyrunc, runc, make_bundle, setup)
    assert found["pyrunc"][:2] == found["runc"][:2], found


# ---- argument conditions ----------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "value_two", "denied", "passed"),
    [
        ("SCMP_CMP_EQ", 100, 0, [100], [99, 101]),
        ("SCMP_CMP_NE", 100, 0, [99, 101], [100]),
        ("SCMP_CMP_LT", 100, 0, [2, 99], [100, 101]),
        ("SCMP_CMP_LE", 100, 0, [99, 100], [101]),
        ("SCMP_CMP_GE", 100, 0, [100, 101], [99]),
        ("SCMP_CMP_GT", 100, 0, [101, 500], [99, 100]),
        # value is the mask, valueTwo what the masked argument must equal
        ("SCMP_CMP_MASKED_EQ", 0xF0, 0x60, [0x60, 0x6F, 0x160], [0x5F, 0x70]),
    ],
)
def test_argument_operator(
    pyrunc: Runtime,
    bundle: Bundle,
    op: str,
    value: int,
    value_two: int,
    denied: list[int],
    passed: list[int],
) -> None:
    use_profile(bundle, [kill_rule(arg(0, op, value, value_two))])
    kill_probe(bundle, denied + passed)
    expected = dict.fromkeys(denied, "denied") | dict.fromkeys(passed, "passed")
    assert outcomes(run_ok(pyrunc, bundle)) == expected


def test_conditions_on_one_argument_are_ored(pyrunc: Runtime, bundle: Bundle) -> None:
    """Like runc, two conditions on one argument make two rules: either matches."""
    use_profile(
        bundle,
        [kill_rule(arg(0, "SCMP_CMP_EQ", 100), arg(0, "SCMP_CMP_EQ", 200))],
    )
    kill_probe(bundle, [100, 150, 200])
    assert outcomes(run_ok(pyrunc, bundle)) == {
        100: "denied",
        150: "passed",
        200: "denied",
    }


def test_conditions_on_different_arguments_are_anded(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    use_profile(
        bundle, [kill_rule(arg(0, "SCMP_CMP_EQ", 100), arg(1, "SCMP_CMP_EQ", 0))]
    )
    bundle.shell("kill -0 100; kill -0 101; kill -15 100")
    result = pyrunc.run(bundle, "and")
    assert result.stderr.splitlines() == [
        f"sh: can't kill pid 100: {ENOSYS_TEXT}",
        "sh: can't kill pid 101: No such process",
        "sh: can't kill pid 100: No such process",
    ]


@pytest.mark.runc
def test_argument_conditions_match_runc(
    pyrunc: Runtime, runc: Runtime, make_bundle: Callable[[str], Bundle]
) -> None:
    pids = [2, 99, 100, 101, 0x60, 0x6F, 0x70, 200, 300]

    def setup(bundle: Bundle) -> None:
        use_profile(
            bundle,
            [
                kill_rule(arg(0, "SCMP_CMP_GT", 250)),
                kill_rule(arg(0, "SCMP_CMP_MASKED_EQ", 0xF0, 0x60)),
                kill_rule(arg(0, "SCMP_CMP_LE", 99), arg(1, "SCMP_CMP_EQ", 0)),
                kill_rule(arg(0, "SCMP_CMP_EQ", 100), arg(0, "SCMP_CMP_EQ", 200)),
            ],
        )
        kill_probe(bundle, pids)

    found = run_both(pyrunc, runc, make_bundle, setup)
    assert found["pyrunc"][:2] == found["runc"][:2], found


def test_unknown_syscall_name_is_skipped(pyrunc: Runtime, bundle: Bundle) -> None:
    use_profile(
        bundle,
        [rule(["no_such_syscall", *MKDIR], "SCMP_ACT_ERRNO", errnoRet=errno.ENOSYS)],
    )
    bundle.shell("mkdir /made")
    result = pyrunc.run(bundle, "unknown")
    assert result.returncode == 1, result.stderr
    assert ENOSYS_TEXT in result.stderr


# ---- refusals ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda s: s.update(defaultAction="SCMP_ACT_BOGUS"),
            ["linux.seccomp.defaultAction"],
        ),
        (
            lambda s: s["syscalls"][0].update(action="SCMP_ACT_BOGUS"),
            ["linux.seccomp.syscalls[0].action"],
        ),
        (
            lambda s: s["syscalls"][0].update(args=[arg(0, "SCMP_CMP_BOGUS", 1)]),
            ["linux.seccomp.syscalls[0].args[0].op"],
        ),
        (
            lambda s: s.update(flags=["SECCOMP_FILTER_FLAG_BOGUS"]),
            ["linux.seccomp.flags[0]"],
        ),
        (
            lambda s: s["syscalls"][0].update(action="SCMP_ACT_NOTIFY"),
            ["linux.seccomp.listenerPath", "SCMP_ACT_NOTIFY"],
        ),
        (
            lambda s: (
                s.update(listenerPath="/nonexistent/agent.sock")
                or s["syscalls"][0].update(action="SCMP_ACT_NOTIFY")
            ),
            ["linux.seccomp.listenerPath", "/nonexistent/agent.sock"],
        ),
    ],
    ids=["default-action", "action", "operator", "flag", "no-listener", "no-agent"],
)
def test_bad_profile_fails_create_and_leaves_nothing(
    pyrunc: Runtime, bundle: Bundle, change: Any, words: list[str]
) -> None:
    use_profile(bundle, [rule(MKDIR, "SCMP_ACT_ERRNO")])
    change(bundle.config["linux"]["seccomp"])
    bundle.set_args("true")
    result = create(pyrunc, bundle, "badprofile")
    assert result.returncode == 1, result.stderr
    message = error_message(result.stderr)
    for word in words:
        assert word in message
    assert leftovers(pyrunc, bundle, "badprofile") == []


# ---- notify ------------------------------------------------------------------

# ioctl numbers of linux/seccomp.h: _IOWR('!', n, struct ...)
NOTIF_RECV = 0xC0502100  # struct seccomp_notif, 80 bytes
NOTIF_SEND = 0xC0182101  # struct seccomp_notif_resp, 24 bytes
_NOTIF = struct.Struct("=QIIiIQ6Q")
_RESP = struct.Struct("=QqiI")


class SeccompAgent:
    """A listenerPath server: takes the notify fd and the state, answers every call.

    Each notification is answered with `answer`, (value, negative errno); the
    first one received is kept with the message that came with the fd.
    """

    def __init__(self, path: Path, answer: tuple[int, int]) -> None:
        self.path = path
        self.answer = answer
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(1)
        self.server.settimeout(30)
        self.message: dict[str, Any] = {}
        self.fd_count = 0
        self.first: tuple[int, ...] | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.server.accept()
            with conn:
                data, fds, _, _ = socket.recv_fds(conn, 65536, 4)
            self.message = json.loads(data)
            self.fd_count = len(fds)
            for extra in fds[1:]:
                os.close(extra)
            try:
                self._answer_all(fds[0])
            finally:
                os.close(fds[0])
        except BaseException as err:  # reported by result()
            self.error = err

    def _answer_all(self, fd: int) -> None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while True:
            events = poller.poll(30_000)
            if not events or events[0][1] & select.POLLHUP:
                return  # every process under the filter is gone
            notif = bytearray(_NOTIF.size)
            try:
                fcntl.ioctl(fd, NOTIF_RECV, notif, True)
            except OSError as err:
                if err.errno in (errno.ENOENT, errno.EINTR):
                    continue
                raise
            fields = _NOTIF.unpack(notif)
            if self.first is None:
                self.first = fields
            value, error = self.answer
            response = bytearray(_RESP.pack(fields[0], value, error, 0))
            try:
                fcntl.ioctl(fd, NOTIF_SEND, response, True)
            except OSError as err:
                if err.errno != errno.ENOENT:  # the caller died meanwhile
                    raise

    def result(self) -> None:
        """Wait for the agent to finish; raise what went wrong in it."""
        self.thread.join(30)
        assert not self.thread.is_alive(), "the seccomp agent did not finish"
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def agent_path(tmp_path: Path) -> Path:
    return tmp_path / "agent.sock"


@pytest.fixture
def agents() -> Iterator[list[SeccompAgent]]:
    """Agents a test starts; their sockets are closed after it."""
    started: list[SeccompAgent] = []
    yield started
    for agent in started:
        agent.close()


def notify_profile(bundle: Bundle, names: list[str], path: Path) -> None:
    use_profile(
        bundle,
        [rule(names, "SCMP_ACT_NOTIFY")],
        listenerPath=str(path),
        listenerMetadata="agent metadata",
    )


def syscall_number(name: str) -> int:
    from pyrunc import _sys

    return _sys.seccomp_syscall(name)


def test_notify_agent_answers_with_an_errno(
    pyrunc: Runtime,
    bundle: Bundle,
    agent_path: Path,
    agents: list[SeccompAgent],
) -> None:
    agent = SeccompAgent(agent_path, (0, -errno.EDQUOT))
    agents.append(agent)
    notify_profile(bundle, MKDIR, agent_path)
    bundle.shell("mkdir /made")
    result = create(pyrunc, bundle, "notified")
    assert result.returncode == 0, result.stderr
    state = pyrunc.state("notified")
    started = pyrunc("start", "notified")
    assert started.returncode == 0, started.stderr
    agent.result()

    assert agent.fd_count == 1
    message = agent.message
    assert message["fds"] == ["seccompFd"]
    assert message["pid"] == state["pid"]
    assert message["metadata"] == "agent metadata"
    assert message["state"]["id"] == "notified"
    assert message["state"]["pid"] == state["pid"]
    assert message["state"]["bundle"] == str(bundle.path)
    assert message["ociVersion"]
    assert agent.first is not None
    _, pid, _, number, *_ = agent.first
    assert pid == state["pid"]
    assert number in {syscall_number(name) for name in MKDIR}
    assert not (bundle.rootfs / "made").exists()


def test_notify_agent_answers_with_a_value(
    pyrunc: Runtime,
    bundle: Bundle,
    agent_path: Path,
    agents: list[SeccompAgent],
) -> None:
    """The shell learns $PPID from getppid(2): the agent decides what it is."""
    agent = SeccompAgent(agent_path, (4242, 0))
    agents.append(agent)
    notify_profile(bundle, ["getppid"], agent_path)
    bundle.shell('echo "ppid $PPID"')
    result = pyrunc.run(bundle, "value")
    agent.result()
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ppid 4242\n"
    assert agent.first is not None
    assert agent.first[3] == syscall_number("getppid")


def test_notify_errno_reaches_the_container(
    pyrunc: Runtime,
    bundle: Bundle,
    agent_path: Path,
    agents: list[SeccompAgent],
) -> None:
    agent = SeccompAgent(agent_path, (0, -errno.EDQUOT))
    agents.append(agent)
    notify_profile(bundle, MKDIR, agent_path)
    bundle.shell("mkdir /made")
    result = pyrunc.run(bundle, "quota")
    agent.result()
    assert result.returncode == 1, result.stderr
    assert "Disk quota exceeded" in result.stderr


# ---- flags and privileges ------------------------------------------------------


@pytest.mark.parametrize(
    "flags",
    [
        ["SECCOMP_FILTER_FLAG_LOG"],
        ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
        ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
    ],
)
def test_flags_are_accepted(pyrunc: Runtime, bundle: Bundle, flags: list[str]) -> None:
    use_profile(
        bundle, [rule(MKDIR, "SCMP_ACT_ERRNO", errnoRet=errno.ENOSYS)], flags=flags
    )
    bundle.shell("grep ^Seccomp: /proc/self/status; mkdir /made")
    result = pyrunc.run(bundle, "flags")
    assert result.stdout == "Seccomp:\t2\n"
    assert result.returncode == 1, result.stderr
    assert ENOSYS_TEXT in result.stderr


STATUS_SCRIPT = (
    "grep -E '^(Seccomp|Seccomp_filters|NoNewPrivs|CapEff|CapPrm):' /proc/self/status;"
    " mkdir /made 2>&1; echo status $?"
)


@pytest.mark.parametrize("no_new_privileges", [True, False], ids=["nnp", "no-nnp"])
@pytest.mark.parametrize("user", [0, 1000])
def test_filter_loads_with_and_without_no_new_privileges(
    pyrunc: Runtime, bundle: Bundle, no_new_privileges: bool, user: int
) -> None:
    """Without no_new_privs, loading needs CAP_SYS_ADMIN; the process keeps none."""
    use_profile(bundle, [rule(MKDIR, "SCMP_ACT_ERRNO", errnoRet=errno.ENOSYS)])
    bundle.config["process"]["noNewPrivileges"] = no_new_privileges
    bundle.config["process"]["user"] = {"uid": user, "gid": user}
    bundle.shell(STATUS_SCRIPT)
    lines = run_ok(pyrunc, bundle).splitlines()
    fields = dict(line.split(":\t") for line in lines[:-2])
    assert fields["Seccomp"] == "2"
    assert fields["Seccomp_filters"] == "1"
    assert fields["NoNewPrivs"] == ("1" if no_new_privileges else "0")
    no_admin = capabilities.mask(["CAP_SYS_ADMIN"])
    assert int(fields["CapEff"], 16) & no_admin == 0
    assert int(fields["CapPrm"], 16) & no_admin == 0
    assert ENOSYS_TEXT in lines[-2]


@pytest.mark.runc
@pytest.mark.parametrize("no_new_privileges", [True, False], ids=["nnp", "no-nnp"])
@pytest.mark.parametrize("user", [0, 1000])
def test_filter_status_matches_runc(
    pyrunc: Runtime,
    runc: Runtime,
    make_bundle: Callable[[str], Bundle],
    no_new_privileges: bool,
    user: int,
) -> None:
    def setup(bundle: Bundle) -> None:
        use_profile(bundle, [rule(MKDIR, "SCMP_ACT_ERRNO", errnoRet=errno.ENOSYS)])
        bundle.config["process"]["noNewPrivileges"] = no_new_privileges
        bundle.config["process"]["user"] = {"uid": user, "gid": user}
        bundle.shell(STATUS_SCRIPT)

    found = run_both(pyrunc, runc, make_bundle, setup)
    assert found["pyrunc"][:2] == found["runc"][:2], found


# ---- podman's profile ----------------------------------------------------------

PODMAN_ARCH = {"x86_64": "amd64"}


def podman_profile(capability_set: list[str]) -> dict[str, Any]:
    """Convert podman's seccomp.json to linux.seccomp as podman does on this host.

    The architectures are the host's and its sub-architectures from archMap;
    an entry is kept when its includes allow the host architecture and the
    capability set, and its excludes do not rule them out.
    """
    document = json.loads(PODMAN_PROFILE.read_text())
    native = "SCMP_ARCH_" + platform.machine().upper()
    arches = [native]
    for entry in document.get("archMap") or []:
        if entry["architecture"] == native:
            arches += entry.get("subArchitectures") or []
    arch = PODMAN_ARCH.get(platform.machine(), platform.machine())
    caps = set(capability_set)
    syscalls = []
    for entry in document["syscalls"]:
        includes = entry.get("includes") or {}
        excludes = entry.get("excludes") or {}
        if includes.get("arches") and arch not in includes["arches"]:
            continue
        if includes.get("caps") and not set(includes["caps"]) <= caps:
            continue
        if arch in (excludes.get("arches") or []):
            continue
        if caps & set(excludes.get("caps") or []):
            continue
        kept = {"names": entry["names"], "action": entry["action"]}
        if entry.get("args"):
            kept["args"] = entry["args"]
        if entry.get("errnoRet") is not None:
            kept["errnoRet"] = entry["errnoRet"]
        syscalls.append(kept)
    profile = {
        "defaultAction": document["defaultAction"],
        "architectures": arches,
        "syscalls": syscalls,
    }
    if document.get("defaultErrnoRet") is not None:
        profile["defaultErrnoRet"] = document["defaultErrnoRet"]
    return profile


@pytest.fixture
def podman_profile_path() -> Path:
    if not PODMAN_PROFILE.exists():
        pytest.skip(f"{PODMAN_PROFILE} is missing (package containers-common)")
    return PODMAN_PROFILE


# The profile denies sethostname without CAP_SYS_ADMIN; the container gets
# that capability all the same, so that only the filter can refuse the call.
PODMAN_SCRIPT = (
    "echo shell works; ls / > /dev/null && echo ls works;"
    " grep ^Seccomp: /proc/self/status; mkdir /tmp/d && echo mkdir works;"
    " hostname other-name 2>&1; hostname"
)


def podman_setup(bundle: Bundle, with_profile: bool = True) -> None:
    if with_profile:
        bundle.config["linux"]["seccomp"] = podman_profile(PODMAN_CAPS)
    bundle.config["process"]["capabilities"] = {
        kind: [*PODMAN_CAPS, "CAP_SYS_ADMIN"]
        for kind in ("bounding", "effective", "permitted")
    }
    bundle.shell(PODMAN_SCRIPT)


def test_podman_profile_loads_and_denies(
    pyrunc: Runtime, make_bundle: Callable[[str], Bundle], podman_profile_path: Path
) -> None:
    confined = make_bundle("confined")
    podman_setup(confined)
    assert run_ok(pyrunc, confined, "confined").splitlines() == [
        "shell works",
        "ls works",
        "Seccomp:\t2",
        "mkdir works",
        "hostname: sethostname: Operation not permitted",
        "pyrunc",
    ]
    free = make_bundle("free")
    podman_setup(free, with_profile=False)
    assert run_ok(pyrunc, free, "free").splitlines()[-1] == "other-name"


@pytest.mark.runc
def test_podman_profile_matches_runc(
    pyrunc: Runtime,
    runc: Runtime,
    make_bundle: Callable[[str], Bundle],
    podman_profile_path: Path,
) -> None:
    found = run_both(pyrunc, runc, make_bundle, podman_setup)
    assert found["pyrunc"][:2] == found["runc"][:2], found
