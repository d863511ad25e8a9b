"""`pyrunc exec`: run a new process inside a container.

The process starts from the container's own process object, as create
stored it, with the command line and the flags laid over it; or it is read
whole from the file --process names. Any failure exits 255, as runc's does.

Known shortcoming: runc 1.1's --cgroup, which puts the process in a
sub-cgroup of the container's, is not implemented; the flag is refused as
unknown and the process always joins the container's own cgroup.
"""

from __future__ import annotations

import os

from pyrunc import container
from pyrunc.cli import Context
from pyrunc.cli._common import add_container_id
from pyrunc.errors import NotSupportedError, PyruncError, SpecError, UsageError
from pyrunc.state import Record, Store, write_atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pyrunc.cli.args import Namespace, Parser
    from pyrunc.foreground import Forwarder
    from pyrunc.terminal import Console

_ID_LIMIT = 1 << 32


class ExecError(PyruncError):
    """exec failed; runc's exec exits 255 then."""

    exit_status = 255


def add_arguments(parser: Parser) -> None:
    """Add exec's flags, the container ID and the command."""
    parser.add_argument(
        "--console-socket", help="unix socket that receives the pty master"
    )
    parser.add_argument("--cwd", help="current working directory in the container")
    parser.add_argument(
        "-e", "--env", action="append", help="set a variable, as KEY=value"
    )
    parser.add_argument("-t", "--tty", action="store_true", help="allocate a pty")
    parser.add_argument("-u", "--user", help="user as UID[:GID]")
    parser.add_argument(
        "-g",
        "--additional-gids",
        action="append",
        type=int,
        help="add a supplementary group",
    )
    parser.add_argument("-p", "--process", help="path to a process.json")
    parser.add_argument(
        "-d", "--detach", action="store_true", help="do not wait for the process"
    )
    parser.add_argument("--pid-file", help="file to write the process's pid to")
    parser.add_argument("--process-label", help="SELinux label of the process")
    parser.add_argument("--apparmor", help="AppArmor profile of the process")
    parser.add_argument(
        "--no-new-privs", action="store_true", help="set no_new_privs for the process"
    )
    parser.add_argument(
        "-c", "--cap", action="append", help="add a capability to the process's sets"
    )
    parser.add_argument("--preserve-fds", type=int, default=0, help="extra fds to pass")
    parser.add_argument(
        "--ignore-paused", action="store_true", help="exec in a paused container"
    )
    parser.add_argument(
        "--cgroup",
        action="append",
        help="join an existing cgroup below the container's: [CONTROLLER[,...]:]PATH",
    )
    add_container_id(parser)
    parser.add_argument(
        "command",
        nargs="*",
        dest="argv",
        metavar="COMMAND",
        help="the program and its arguments",
    )


def run(args: Namespace, ctx: Context) -> int:
    """Start the process; wait for it unless detached and return its status.

    Raises:
        ExecError: anything failed before the process could execute.
    """
    try:
        return _exec(args, Store(ctx.root))
    except ExecError:
        raise
    except PyruncError as err:
        raise ExecError(f"exec failed: {err}") from err


def _exec(args: Namespace, store: Store) -> int:
    process = _process(args, store)
    forwarder = None if args.detach else _forwarder()
    console, console_fd = _console(args, process)
    opts = container.ExecOptions(
        process,
        console_fd,
        args.preserve_fds,
        args.ignore_paused,
        sub_cgroups(args.cgroup or []),
    )
    try:
        pid = container.exec_process(store, args.container_id, opts)
        if console is not None:
            console.receive()
    except BaseException:
        if console is not None:
            console.close()
        raise
    finally:
        if console is None and console_fd >= 0:
            os.close(console_fd)
    if args.pid_file:
        write_atomic(os.path.abspath(args.pid_file), str(pid))
    if forwarder is None:
        return 0
    return _wait(pid, forwarder, console)


def _wait(pid: int, forwarder: Forwarder, console: Console | None) -> int:
    from pyrunc import foreground

    try:
        return foreground.wait(pid, forwarder, console)
    finally:
        if console is not None:
            console.close()


def sub_cgroups(values: list[str]) -> dict[str, str]:
    """Return --cgroup's paths below the container's cgroup, by controller.

    "PATH" applies to every controller not named otherwise and is kept
    under ""; "memory,pids:PATH" to those two.

    Raises:
        UsageError: two paths for one controller, or an empty path.
    """
    paths: dict[str, str] = {}
    for value in values:
        controllers, colon, path = value.partition(":")
        if not colon:
            controllers, path = "", value
        if not path:
            raise UsageError(f"--cgroup {value!r}: the path is empty")
        for controller in controllers.split(",") if controllers else [""]:
            if controller in paths:
                which = controller or "every controller"
                raise UsageError(f"--cgroup: a second path for {which}")
            paths[controller] = path
    return paths


def _forwarder() -> Forwarder:
    from pyrunc.foreground import Forwarder

    return Forwarder()


def _console(args: Namespace, process: dict[str, Any]) -> tuple[Console | None, int]:
    """Return the pyrunc-kept console, if any, and the fd the pty master goes to.

    Raises:
        UsageError: the flags and process.terminal do not agree.
        SyscallError: --console-socket cannot be connected.
    """
    if not process.get("terminal"):
        if args.console_socket:
            raise UsageError("--console-socket: the process does not use a terminal")
        return None, -1
    if args.console_socket:
        from pyrunc import _sys

        return None, _sys.unix_connect(args.console_socket)
    if args.detach:
        raise UsageError(
            "--tty: a detached process needs --console-socket to receive its pty"
        )
    from pyrunc.terminal import Console

    console = Console()
    return console, console.sender


def _process(args: Namespace, store: Store) -> dict[str, Any]:
    """Return the process object to execute, from --process or from the flags.

    The file's apparmorProfile and selinuxLabel are refused by the same
    checks as config.json's.

    Raises:
        PyruncError: the container does not exist, or the flags or the file
            ask for something invalid or unsupported here.
    """
    if args.apparmor:
        raise NotSupportedError("--apparmor: pyrunc does not apply AppArmor profiles")
    if args.process_label:
        raise NotSupportedError("--process-label: pyrunc does not apply SELinux labels")
    if not args.process:
        return process_from_flags(args, _spec_process(store.load(args.container_id)))
    from pyrunc.spec.process_file import load_process

    return load_process(args.process)


def _spec_process(record: Record) -> dict[str, Any]:
    """Return the process object create stored, or for an older state the bundle's.

    Raises:
        SpecError: the bundle's config.json has no valid process.
    """
    if record.process is not None:
        return record.process
    from pyrunc.spec.load import load_config

    process: dict[str, Any] | None = load_config(record.bundle).get("process")
    if process is None:
        raise SpecError("config.json: process: is required to exec in a container")
    return process


def process_from_flags(args: Namespace, base: dict[str, Any]) -> dict[str, Any]:
    """Return base with the command and the flags laid over it, as runc does.

    --env adds or replaces variables, --cap adds a capability to the bounding,
    effective, permitted and ambient sets, --user replaces the uid (and gid)
    and --additional-gids adds groups.

    Raises:
        UsageError: the command is missing, or a flag's value is not valid.
    """
    if not args.argv:
        raise UsageError("process args must not be empty: give a command to execute")
    process = dict(base, args=list(args.argv), terminal=bool(args.tty))
    if args.cwd:
        if not args.cwd.startswith("/"):
            raise UsageError(f"--cwd {args.cwd}: must be an absolute path")
        process["cwd"] = args.cwd
    if args.env:
        process["env"] = merge_env(base.get("env", []), args.env)
    if args.no_new_privs:
        process["noNewPrivileges"] = True
    if args.cap:
        process["capabilities"] = add_capabilities(
            base.get("capabilities") or {}, args.cap
        )
    if args.user or args.additional_gids:
        process["user"] = _user(base.get("user", {}), args.user, args.additional_gids)
    return process


def merge_env(env: list[str], extra: list[str]) -> list[str]:
    """Return env with each KEY=value of extra replacing KEY's entry or appended.

    Raises:
        UsageError: an entry of extra is not KEY=value.
    """
    merged = list(env)
    index = {item.partition("=")[0]: i for i, item in enumerate(merged)}
    for item in extra:
        key, equals, _ = item.partition("=")
        if not key or not equals:
            raise UsageError(f"--env {item}: must be KEY=value")
        if key in index:
            merged[index[key]] = item
        else:
            index[key] = len(merged)
            merged.append(item)
    return merged


def add_capabilities(
    caps: dict[str, list[str]], names: list[str]
) -> dict[str, list[str]]:
    """Return caps with names added to the sets runc's --cap adds to.

    Raises:
        UsageError: a name is not a capability.
    """
    from pyrunc import capabilities

    try:
        capabilities.mask(names)
    except SpecError as err:
        raise UsageError(f"--cap: {err}") from err
    added = dict(caps)
    for field in ("bounding", "effective", "permitted", "ambient"):
        present = list(caps.get(field, []))
        added[field] = present + [n for n in names if n not in present]
    return added


def _user(user: dict[str, Any], spec: str | None, gids: list[int]) -> dict[str, Any]:
    changed = dict(user)
    if spec:
        uid_text, has_gid, gid_text = spec.partition(":")
        changed["uid"] = _id(uid_text, f"--user {spec}: uid")
        if has_gid:
            changed["gid"] = _id(gid_text, f"--user {spec}: gid")
    for gid in gids:
        if not 0 <= gid < _ID_LIMIT:
            raise UsageError(f"--additional-gids {gid}: must be between 0 and 2^32-1")
    changed["additionalGids"] = list(user.get("additionalGids", [])) + gids
    return changed


def _id(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) >= _ID_LIMIT:
        raise UsageError(f"{what} must be a number between 0 and 2^32-1")
    return int(text)
