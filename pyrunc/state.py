"""The state directory: one folder per container under --root.

Each container's folder holds ``state.json`` (written atomically: a temporary
file renamed into place), the ``exec.fifo`` its init waits on until
``start``, and is locked with flock for the length of any operation, so
concurrent commands on one container take turns. A container's status is
never stored: it is derived from its init process (alive, with the start time
recorded at create, so a reused pid is not mistaken for it), the fifo and the
freezer.
"""

from __future__ import annotations

import fcntl
import os
import time

from pyrunc import SPEC_VERSION, jsonio
from pyrunc.errors import StateError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

STATE_FILE = "state.json"
START_FIFO = "exec.fifo"

# runc's pattern: ASCII word characters and "+,-." (a range in its Go regexp).
# runc's rule: ASCII letters, digits and _ + , - . only
_ID_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+,-."
)


class Status:
    """The status words of the OCI state (plain strings: enum costs an import)."""

    CREATING = "creating"
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


class Record:
    """What the runtime remembers of a container between commands.

    process and seccomp are the spec's process and linux.seccomp, which exec
    starts from; they are None in the state of a container made before pyrunc
    kept them. resources is linux.resources as last applied, by create or
    update.
    """

    def __init__(
        self,
        id: str,
        pid: int,
        pid_start: int,
        bundle: str,
        rootfs: str,
        created: str,
        owner: str,
        annotations: dict[str, str] | None = None,
        hooks: dict[str, Any] | None = None,
        cgroup_paths: dict[str, str] | None = None,
        cgroups_path: str = "",
        namespaces: dict[str, str | None] | None = None,
        terminal: bool = False,
        process: dict[str, Any] | None = None,
        seccomp: dict[str, Any] | None = None,
        resources: dict[str, Any] | None = None,
    ) -> None:
        self.id = id
        self.pid = pid
        self.pid_start = pid_start
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.owner = owner
        self.annotations = annotations or {}
        self.hooks = hooks or {}
        self.cgroup_paths = cgroup_paths or {}
        self.cgroups_path = cgroups_path
        self.namespaces = namespaces or {}
        self.terminal = terminal
        self.process = process
        self.seccomp = seccomp
        self.resources = resources or {}

    def to_dict(self) -> dict[str, Any]:
        """Return the record as the JSON object state.json holds."""
        return dict(vars(self))


def validate_id(container_id: str) -> None:
    """Refuse an ID runc would refuse: empty, a path, or with odd characters.

    Raises:
        StateError: the ID is not valid.
    """
    if not container_id:
        raise StateError("container id cannot be empty")
    if container_id in (".", "..") or not _ID_CHARACTERS.issuperset(container_id):
        raise StateError(f"invalid container id format: {container_id}")


_PF_EXITING = 0x4


def process_start_time(pid: int) -> int | None:
    """Return pid's start time (/proc/PID/stat field 22); None if gone or exiting.

    A process counts as gone once it is exiting (flag PF_EXITING, field 9):
    the kernel may hold a pid namespace's dying init until its last child is
    reaped, and such an init runs nothing any more.
    """
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            raw = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X") or int(fields[6]) & _PF_EXITING:
        return None
    return int(fields[19])


def now_rfc3339() -> str:
    """Return the current time as runc writes it in state."""
    t = time.time()
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e9):09d}Z"
    )


class Store:
    """The containers under one root directory."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def dir(self, container_id: str) -> str:
        """Return the folder of a container."""
        return os.path.join(self.root, container_id)

    def ids(self) -> list[str]:
        """Return the IDs of every container with a state file, sorted."""
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        return sorted(
            n for n in names if os.path.exists(os.path.join(self.root, n, STATE_FILE))
        )

    def new(self, container_id: str) -> _NewFolder:
        """Make and lock a new container's folder; remove it if the block fails.

        Raises:
            StateError: the ID is invalid or taken.
        """
        validate_id(container_id)
        os.makedirs(self.root, mode=0o711, exist_ok=True)
        path = self.dir(container_id)
        try:
            os.mkdir(path, 0o711)
        except FileExistsError:
            raise StateError(f"container with id exists: {container_id}") from None
        return _NewFolder(path, _lock(path))

    def locked(self, container_id: str) -> _LockedRecord:
        """Lock an existing container's folder and yield its record.

        Raises:
            StateError: the container does not exist.
        """
        validate_id(container_id)
        path = self.dir(container_id)
        try:
            fd = _lock(path)
        except FileNotFoundError:
            raise StateError("container does not exist") from None
        try:
            record = self.load(container_id)
        except BaseException:
            os.close(fd)
            raise
        return _LockedRecord(path, fd, record)

    def load(self, container_id: str) -> Record:
        """Read a container's record.

        Raises:
            StateError: the container does not exist or its state is unreadable.
        """
        path = os.path.join(self.dir(container_id), STATE_FILE)
        try:
            with open(path, encoding="utf-8") as f:
                return Record(**jsonio.loads(f.read()))
        except FileNotFoundError:
            raise StateError("container does not exist") from None
        except (ValueError, TypeError) as err:
            raise StateError(f"read state {path}: {err}") from err

    def save(self, record: Record) -> None:
        """Write a container's record atomically."""
        write_atomic(
            os.path.join(self.dir(record.id), STATE_FILE),
            jsonio.dumps(record.to_dict()),
        )

    def remove(self, container_id: str) -> None:
        """Remove a container's folder."""
        remove_folder(self.dir(container_id))

    def fifo(self, container_id: str) -> str:
        """Return the path of the fifo a created container's init waits on."""
        return os.path.join(self.dir(container_id), START_FIFO)

    def status(self, record: Record) -> str:
        """Derive a container's status from its init process and folder."""
        if not record.pid or process_start_time(record.pid) != record.pid_start:
            return Status.STOPPED
        # a created container can be paused too, and then shows as paused
        if _frozen(record.cgroup_paths):
            return Status.PAUSED
        if os.path.exists(self.fifo(record.id)):
            return Status.CREATED
        return Status.RUNNING

    def oci_state(self, record: Record) -> dict[str, Any]:
        """Return the OCI state document, with runc's extra fields."""
        status = self.status(record)
        return {
            "ociVersion": SPEC_VERSION,
            "id": record.id,
            "pid": record.pid if status != Status.STOPPED else 0,
            "status": status,
            "bundle": record.bundle,
            "rootfs": record.rootfs,
            "created": record.created,
            "owner": record.owner,
            "annotations": record.annotations,
        }


def _frozen(cgroup_paths: dict[str, str]) -> bool:
    for name, path in cgroup_paths.items():
        state_file = (
            "freezer.state"
            if "freezer" in name.split(",")
            else "cgroup.freeze"
            if name == ""
            else None
        )
        if state_file is None:
            continue
        try:
            with open(os.path.join(path, state_file), encoding="utf-8") as f:
                return f.read().strip() in ("FROZEN", "1")
        except OSError:
            return False
    return False


class _FolderLock:
    """A container folder's flock, held for the length of a with block.

    (Small classes rather than contextlib.contextmanager, whose import costs
    more than a `pyrunc state`'s own work.)
    """

    def __init__(self, path: str, fd: int) -> None:
        self.path = path
        self.fd = fd

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        os.close(self.fd)


class _NewFolder(_FolderLock):
    """The lock of a new container's folder, removed again if the block fails."""

    def __enter__(self) -> str:
        return self.path

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if kind is not None:
                remove_folder(self.path)
        finally:
            super().__exit__(kind, error, trace)


class _LockedRecord(_FolderLock):
    """The lock of an existing container's folder, with its record."""

    def __init__(self, path: str, fd: int, record: Record) -> None:
        super().__init__(path, fd)
        self.record = record

    def __enter__(self) -> Record:
        return self.record


def _lock(path: str) -> int:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def write_atomic(path: str, text: str) -> None:
    """Write text to path through a temporary file and a rename."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.rename(tmp, path)


def remove_folder(path: str) -> None:
    """Remove a container's folder and the files in it, if it is there.

    A container folder holds only files, so this stands in for shutil.rmtree,
    which costs more to import than pyrunc spends here.
    """
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return
    for name in names:
        try:
            os.unlink(os.path.join(path, name))
        except FileNotFoundError:
            pass
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
