"""Compile a validated spec into the flat step list the container's init runs."""

from __future__ import annotations

from _signal import SIGKILL  # signal's C half; no enum import

from pyrunc import capabilities
from pyrunc._sys import OP, Step
from pyrunc.errors import SpecError
from pyrunc.log import get_logger
from pyrunc.process.namespaces import SYNC_HOOKS, NamespacePlan, namespace_types
from pyrunc.process.rootfs import RootfsPlanner, relative

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pyrunc.seccomp import Filter

log = get_logger(__name__)

PR_SET_PDEATHSIG = 1
PR_SET_KEEPCAPS = 8
PR_SET_NO_NEW_PRIVS = 38
CAP_SYS_ADMIN = 21

RLIMITS = {
    "RLIMIT_CPU": 0,
    "RLIMIT_FSIZE": 1,
    "RLIMIT_DATA": 2,
    "RLIMIT_STACK": 3,
    "RLIMIT_CORE": 4,
    "RLIMIT_RSS": 5,
    "RLIMIT_NPROC": 6,
    "RLIMIT_NOFILE": 7,
    "RLIMIT_MEMLOCK": 8,
    "RLIMIT_AS": 9,
    "RLIMIT_LOCKS": 10,
    "RLIMIT_SIGPENDING": 11,
    "RLIMIT_MSGQUEUE": 12,
    "RLIMIT_NICE": 13,
    "RLIMIT_RTPRIO": 14,
    "RLIMIT_RTTIME": 15,
}

_U64 = (1 << 64) - 1
DEFAULT_UMASK = 0o022


class InitOptions:
    """What the caller of create adds to the spec for the init.

    extra_fds counts the fds from 3 up that the process inherits: first
    listen_fds passed by socket activation, then those of --preserve-fds.
    home is the HOME the process gets when its env sets none.
    """

    def __init__(
        self,
        start_fd: int,
        console_fd: int = -1,
        extra_fds: int = 0,
        listen_fds: int = 0,
        keyring: str | None = None,
        no_pivot: bool = False,
        home: str = "/",
        seccomp: Filter | None = None,
        listener_fd: int = -1,
        message_fd: int = -1,
    ) -> None:
        self.start_fd = start_fd
        self.console_fd = console_fd
        self.extra_fds = extra_fds
        self.listen_fds = listen_fds
        self.keyring = keyring
        self.no_pivot = no_pivot
        self.home = home
        self.seccomp = seccomp
        self.listener_fd = listener_fd
        self.message_fd = message_fd


def process_env(
    process: dict[str, Any], listen_fds: int = 0, home: str = "/"
) -> list[str]:
    """Return the process environment, with HOME=home added when it is missing.

    With socket activation the process learns of its sockets through
    LISTEN_FDS, and LISTEN_PID names it as pid 1.
    """
    env = list(process.get("env", []))
    if not any(item.startswith("HOME=") for item in env):
        env.append(f"HOME={home}")
    if listen_fds:
        env += [f"LISTEN_FDS={listen_fds}", "LISTEN_PID=1"]
    return env


def _search_path(env: list[str]) -> str:
    for item in env:
        if item.startswith("PATH="):
            return item[5:]
    return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _u64(value: int) -> int:
    # the kernel's "unlimited" is the all-ones value; JSON may give it as -1
    value &= _U64
    return value - (1 << 64) if value >= 1 << 63 else value


def rlimit_steps(process: dict[str, Any]) -> list[Step]:
    """Return one setrlimit step per process.rlimits entry.

    Raises:
        SpecError: an rlimit type is unknown.
    """
    steps = []
    for index, limit in enumerate(process.get("rlimits", [])):
        kind = limit["type"]
        if kind not in RLIMITS:
            raise SpecError(f"process.rlimits[{index}].type: unknown rlimit {kind}")
        steps.append(
            Step(
                OP.PYRUNC_OP_SETRLIMIT,
                f"set {kind}",
                num=(RLIMITS[kind], _u64(limit["soft"]), _u64(limit["hard"])),
            )
        )
    return steps


def identity_steps(process: dict[str, Any], keep_admin: bool = False) -> list[Step]:
    """Return the steps that switch to the process's user, groups, cwd and capabilities.

    Capabilities survive the switch to a non-root user only with keep-caps,
    so the bounding set is cut first and the final sets applied last. As in
    runc, a process without a capabilities object gets none.

    Raises:
        SpecError: a capability name is unknown.
    """
    user = process.get("user", {})
    caps = process.get("capabilities") or {}
    keep = _capability_mask(caps, "bounding")
    steps = [
        Step(
            OP.PYRUNC_OP_DROP_BOUNDING,
            "drop bounding capabilities",
            num=(capabilities.last_cap(),),
            ints=[_u64(keep)],
        ),
        Step(OP.PYRUNC_OP_PRCTL, "keep capabilities", num=(PR_SET_KEEPCAPS, 1)),
    ]
    steps += [
        Step(
            OP.PYRUNC_OP_SETGROUPS,
            "set additional groups",
            ints=user.get("additionalGids", []),
        ),
        Step(
            OP.PYRUNC_OP_SETRESGID,
            f"set gid {user.get('gid', 0)}",
            num=(user.get("gid", 0),),
        ),
        Step(
            OP.PYRUNC_OP_SETRESUID,
            f"set uid {user.get('uid', 0)}",
            num=(user.get("uid", 0),),
        ),
        Step(
            OP.PYRUNC_OP_CHDIR,
            f"chdir to cwd {process.get('cwd', '/')}",
            target=process.get("cwd", "/"),
        ),
        Step(OP.PYRUNC_OP_PRCTL, "clear keep capabilities", num=(PR_SET_KEEPCAPS, 0)),
        Step(
            OP.PYRUNC_OP_SET_CAPS,
            "set capabilities",
            ints=capability_sets(caps, keep_admin),
        ),
    ]
    return steps


def _capability_mask(caps: dict[str, list[str]], name: str) -> int:
    try:
        return capabilities.mask(caps.get(name, []))
    except SpecError as err:
        raise SpecError(f"process.capabilities.{name}: {err}") from err


def capability_sets(caps: dict[str, list[str]], keep_admin: bool = False) -> list[int]:
    """Return the effective, permitted, inheritable and ambient masks to apply.

    The kernel raises an ambient capability only if it is both permitted and
    inheritable; like runc, pyrunc leaves out the others. keep_admin adds
    CAP_SYS_ADMIN to effective and permitted (see keeps_admin_for_seccomp).

    Raises:
        SpecError: a capability name is unknown.
    """
    effective, permitted, inheritable, ambient = (
        _capability_mask(caps, name)
        for name in ("effective", "permitted", "inheritable", "ambient")
    )
    if keep_admin:
        admin = 1 << CAP_SYS_ADMIN
        effective, permitted = effective | admin, permitted | admin
    allowed = ambient & permitted & inheritable
    if allowed != ambient:
        log.debug(
            "process.capabilities.ambient: raising only those permitted and inheritable"
        )
    return [_u64(effective), _u64(permitted), _u64(inheritable), _u64(allowed)]


def uts_steps(spec: dict[str, Any]) -> list[Step]:
    """Return the steps that set the hostname and domain name.

    Raises:
        SpecError: a name is set but the container shares the host's UTS namespace.
    """
    steps = []
    private = "uts" in namespace_types(spec)
    for field, op in (
        ("hostname", OP.PYRUNC_OP_SETHOSTNAME),
        ("domainname", OP.PYRUNC_OP_SETDOMAINNAME),
    ):
        value = spec.get(field)
        if not value:
            continue
        if not private:
            raise SpecError(
                f"{field}: cannot set a {field} without a private UTS namespace"
            )
        steps.append(Step(op, f"set {field} {value}", data=value))
    return steps


def sysctl_steps(spec: dict[str, Any]) -> list[Step]:
    """Return one write to /proc/sys per linux.sysctl entry."""
    return [
        Step(
            OP.PYRUNC_OP_WRITE_FILE,
            f"write sysctl {key}",
            target="/proc/sys/" + key.replace(".", "/"),
            data=str(value),
        )
        for key, value in spec.get("linux", {}).get("sysctl", {}).items()
    ]


def exec_steps(process: dict[str, Any], opts: InitOptions) -> list[Step]:
    """Return the last steps: find the program, hand over, wait for start, execute.

    Without a start_fd (a process exec'd into a container) nothing waits.
    Such a process reports ready only when the parent still has a part to
    play after the pid is known (a seccomp agent's message); otherwise the
    parent learns it has executed when execve closes the sync socket, as
    the socket is close-on-exec, and a failed execve is reported like any
    other step.
    """
    env = process_env(process, opts.listen_fds, opts.home)
    args = process["args"]
    wait = [Step(OP.PYRUNC_OP_WAIT_START, "wait for start", fd=opts.start_fd)]
    ready = [Step(OP.PYRUNC_OP_READY, "report ready")]
    if opts.start_fd < 0 and opts.message_fd < 0:
        ready = []
    return [
        Step(
            OP.PYRUNC_OP_FIND_EXEC,
            f'exec: "{args[0]}"',
            target=args[0],
            data=_search_path(env),
        ),
        Step(
            OP.PYRUNC_OP_CLOSE_FDS,
            "close runtime files",
            num=(3 + opts.extra_fds,),
            ints=[opts.start_fd, opts.listener_fd, opts.message_fd],
        ),
        Step(
            OP.PYRUNC_OP_PRCTL, "clear parent death signal", num=(PR_SET_PDEATHSIG, 0)
        ),
        *ready,
        *(wait if opts.start_fd >= 0 else []),
        *seccomp_steps(process, opts),
        Step(OP.PYRUNC_OP_EXEC, f"exec {args[0]}", argv=list(args), envp=env),
    ]


def keeps_admin_for_seccomp(process: dict[str, Any], opts: InitOptions) -> bool:
    """Tell whether CAP_SYS_ADMIN must outlive the other capabilities.

    Without no_new_privs the kernel loads a filter only for a process with
    CAP_SYS_ADMIN; when the process is not to keep it, the init holds it
    until the filter is in and drops it with one more capset, the only call
    besides execve that then meets the filter.
    """
    if opts.seccomp is None or process.get("noNewPrivileges"):
        return False
    caps = process.get("capabilities") or {}
    return "CAP_SYS_ADMIN" not in caps.get("effective", [])


def seccomp_steps(process: dict[str, Any], opts: InitOptions) -> list[Step]:
    """Return the steps that load the filter, last before execve."""
    if opts.seccomp is None:
        return []
    steps = [
        Step(
            OP.PYRUNC_OP_SECCOMP,
            "load seccomp filter",
            data=opts.seccomp.program,
            flags=opts.seccomp.flags,
            fd=opts.listener_fd,
            num=(opts.seccomp.instructions, opts.message_fd),
        )
    ]
    if keeps_admin_for_seccomp(process, opts):
        caps = process.get("capabilities") or {}
        steps.append(
            Step(OP.PYRUNC_OP_SET_CAPS, "set capabilities", ints=capability_sets(caps))
        )
    return steps


def needs_create_hooks(spec: dict[str, Any]) -> bool:
    """Tell whether hooks are due between mounting and pivot_root."""
    hooks = spec.get("hooks", {})
    return any(
        hooks.get(kind) for kind in ("prestart", "createRuntime", "createContainer")
    )


def session_steps(opts: InitOptions) -> list[Step]:
    """Return the steps that give the init its own session and keyring."""
    steps = [
        Step(OP.PYRUNC_OP_SETSID, "create session"),
        Step(
            OP.PYRUNC_OP_PRCTL,
            "set parent death signal",
            num=(PR_SET_PDEATHSIG, SIGKILL),
        ),
    ]
    if opts.keyring:
        steps.append(
            Step(OP.PYRUNC_OP_JOIN_KEYRING, "join session keyring", data=opts.keyring)
        )
    return steps


def console_steps(
    process: dict[str, Any], console_fd: int, console: str | None = "/dev/console"
) -> list[Step]:
    """Return the step that makes a pty the process's terminal, if it wants one.

    The pty is bound over the file console, if one is given.
    """
    if not process.get("terminal"):
        return []
    size = process.get("consoleSize", {})
    return [
        Step(
            OP.PYRUNC_OP_CONSOLE,
            "set up console",
            fd=console_fd,
            target=console,
            num=(size.get("height", 0), size.get("width", 0)),
        )
    ]


def cwd_steps(process: dict[str, Any]) -> list[Step]:
    """Return the step that makes a missing cwd, as root, before the user switch."""
    cwd = process.get("cwd", "/")
    return [
        Step(
            OP.PYRUNC_OP_MKDIR_IN_ROOT,
            f"create cwd {cwd}",
            root="/",
            target=relative(cwd),
        )
    ]


def privilege_steps(
    process: dict[str, Any], default_umask: int | None = DEFAULT_UMASK
) -> list[Step]:
    """Return the steps that set the umask and no_new_privs.

    Without user.umask the umask is default_umask, or left as it is for None.
    """
    umask = process.get("user", {}).get("umask", default_umask)
    steps = []
    if umask is not None:
        steps.append(Step(OP.PYRUNC_OP_UMASK, "set umask", num=(umask,)))
    if process.get("noNewPrivileges"):
        steps.append(
            Step(OP.PYRUNC_OP_PRCTL, "set no_new_privs", num=(PR_SET_NO_NEW_PRIVS, 1))
        )
    return steps


def init_plan(
    spec: dict[str, Any],
    namespaces: NamespacePlan,
    rootfs: RootfsPlanner,
    opts: InitOptions,
) -> list[Step]:
    """Return the init's whole plan, in the order runtime.md and the kernel need.

    Raises:
        SpecError, NotSupportedError: the spec asks for something impossible.
    """
    process = spec["process"]
    steps = [*namespaces.steps, *session_steps(opts), *rootfs.before_pivot()]
    if needs_create_hooks(spec):
        # runtime.md: createRuntime and createContainer run before pivot_root
        steps.append(
            Step(OP.PYRUNC_OP_SYNC, "wait for create hooks", num=(SYNC_HOOKS,))
        )
    steps += rootfs.pivot(opts.no_pivot)
    steps += rootfs.after_pivot()
    steps += uts_steps(spec)
    steps += sysctl_steps(spec)
    steps += rootfs.protect()
    steps += rlimit_steps(process)
    steps += console_steps(process, opts.console_fd)
    steps += cwd_steps(process)
    steps += identity_steps(process, keeps_admin_for_seccomp(process, opts))
    steps += privilege_steps(process)
    steps += exec_steps(process, opts)
    return steps
