"""Helpers for tests that run real containers: busybox bundles and runtime drivers.

Every container a test makes lives under a state root of its own and under a
cgroup path relative to the test process's own cgroup; ``Runtime.cleanup``
removes all of it, whatever the test's outcome.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pyrunc.spec.default import default_config

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
REPO = Path(__file__).resolve().parents[1]
CGROUP_PARENT = f"pyrunc-tests-{os.getpid()}"


def generate_validator_code(schema: dict[str, Any]) -> str:
    """Return the validator module csrc/build_validator.py generates from schema."""
    spec = importlib.util.spec_from_file_location(
        "build_validator", REPO / "csrc" / "build_validator.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    code: str = module.generate(schema)
    return code


def pyrunc_command() -> list[str]:
    """Return the argv prefix that runs pyrunc under test.

    PYRUNC_CMD overrides it (e.g. "python3 -m pyrunc" against a source
    tree); otherwise the `pyrunc` installed beside this interpreter, or on
    PATH.
    """
    if os.environ.get("PYRUNC_CMD"):
        return shlex.split(os.environ["PYRUNC_CMD"])
    beside = Path(sys.executable).with_name("pyrunc")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("pyrunc")
    return [found] if found else [sys.executable, "-m", "pyrunc"]


def make_rootfs(path: Path) -> Path:
    """Fill path with a busybox-static root filesystem and return it."""
    bin_dir = path / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("etc", "tmp", "proc", "sys", "dev", "root"):
        (path / name).mkdir(exist_ok=True)
    shutil.copy2(BUSYBOX, bin_dir / "busybox")
    applets = subprocess.run(
        [BUSYBOX, "--list"], capture_output=True, text=True, check=True
    )
    for applet in applets.stdout.split():
        if applet != "busybox":
            (bin_dir / applet).symlink_to("busybox")
    (path / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (path / "etc" / "group").write_text("root:x:0:\n")
    return path


class Bundle:
    """An OCI bundle directory whose config.json the test can shape before use."""

    def __init__(self, path: Path, rootfs_template: Path) -> None:
        self.path = path
        self.rootfs = path / "rootfs"
        shutil.copytree(rootfs_template, self.rootfs, symlinks=True)
        self.config: dict[str, Any] = copy.deepcopy(default_config())
        self.config["process"]["terminal"] = False
        self.config["root"]["readonly"] = False

    def set_args(self, *args: str) -> Bundle:
        """Set process.args."""
        self.config["process"]["args"] = list(args)
        return self

    def shell(self, script: str) -> Bundle:
        """Run script with /bin/sh -c."""
        return self.set_args("sh", "-c", script)

    def write(self, container_id: str) -> Path:
        """Write config.json (cgroup under the test's) and return the bundle path."""
        config = copy.deepcopy(self.config)
        config.setdefault("linux", {}).setdefault(
            "cgroupsPath", f"{CGROUP_PARENT}/{container_id}"
        )
        (self.path / "config.json").write_text(json.dumps(config, indent=2))
        return self.path


class Runtime:
    """Drives one runtime binary through its CLI, with a state root of its own."""

    def __init__(self, name: str, command: list[str], root: Path) -> None:
        self.name = name
        self.command = command
        self.root = root

    def __call__(
        self, *args: str, input: str | None = None, timeout: float = 60, **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        """Run `runtime --root ROOT args...` and return the finished process."""
        argv = [*self.command, "--root", str(self.root), *args]
        return subprocess.run(
            argv, input=input, capture_output=True, text=True, timeout=timeout, **kwargs
        )

    def run(
        self, bundle: Bundle, container_id: str, *flags: str
    ) -> subprocess.CompletedProcess[str]:
        """Write the bundle's config and `run` it in the foreground."""
        path = bundle.write(container_id)
        return self("run", "--bundle", str(path), *flags, container_id)

    def state(self, container_id: str) -> dict[str, Any]:
        """Return the parsed output of `state`."""
        result = self("state", container_id)
        assert result.returncode == 0, result.stderr
        state: dict[str, Any] = json.loads(result.stdout)
        return state

    def container_ids(self) -> list[str]:
        """Return the IDs this runtime lists under its root."""
        result = self("list", "-q")
        return result.stdout.split() if result.returncode == 0 else []

    def cleanup(self) -> None:
        """Force-delete every container under the root, then remove the root."""
        for container_id in self.container_ids():
            self("delete", "--force", container_id)
        if self.root.exists():
            for leftover in self.root.iterdir():
                self("delete", "--force", leftover.name)
        shutil.rmtree(self.root, ignore_errors=True)


def cgroup_parent_dirs() -> list[Path]:
    """Return the test run's cgroup parent directory in every v1 hierarchy or v2."""
    found = []
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, own = line.split(":", 2)
        names = names.replace("name=", "")
        base = Path("/sys/fs/cgroup") / names if names else Path("/sys/fs/cgroup")
        if not names and (Path("/sys/fs/cgroup") / "unified").is_dir():
            base = Path("/sys/fs/cgroup") / "unified"  # a hybrid host's v2 tree
        candidate = base / own.lstrip("/") / CGROUP_PARENT
        if candidate.exists():
            found.append(candidate)
    return found


def remove_test_cgroups() -> None:
    """Remove the test run's (empty) cgroup parents, deepest first."""
    for parent in cgroup_parent_dirs():
        remove_empty_cgroups(parent)


def remove_empty_cgroups(top: Path) -> bool:
    """Remove the cgroup top and those below it that are empty, deepest first.

    Returns whether top is gone.
    """
    for path in sorted(top.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir():
            with contextlib.suppress(OSError):
                path.rmdir()
    try:
        top.rmdir()
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return True


def mounts_under(path: Path) -> list[str]:
    """Return the mount points of this mount namespace at or below path."""
    prefix = str(path)
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4]
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return points


def detached(runtime: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `runtime --root ROOT args...` whose container outlives it (create, run -d).

    The container inherits the runtime's stdout and stderr; pipes would keep
    the caller waiting until the container exits, so both go to unlinked
    files, read back once the runtime returns.
    """
    argv = [*runtime.command, "--root", str(runtime.root), *args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        code = subprocess.run(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=60
        ).returncode
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(argv, code, out.read(), err.read())


def create(
    runtime: Runtime, bundle: Bundle, container_id: str, *flags: str
) -> subprocess.CompletedProcess[str]:
    """Write the bundle's config and `create` the container."""
    path = bundle.write(container_id)
    return detached(runtime, "create", "--bundle", str(path), *flags, container_id)


def runtime_argv(runtime: Runtime, *args: str) -> list[str]:
    """Return the argv of `runtime --root ROOT args...`, for tests that wrap it."""
    return [*runtime.command, "--root", str(runtime.root), *args]


def bind_mount(bundle: Bundle, source: Path, destination: str, *options: str) -> Bundle:
    """Append a recursive bind mount of the host's source at destination."""
    bundle.config["mounts"].append(
        {
            "destination": destination,
            "type": "bind",
            "source": str(source),
            "options": ["rbind", *options],
        }
    )
    return bundle


def write_script(path: Path, body: str) -> Path:
    """Write an executable /bin/sh script with body and return its path."""
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


_NETNS_NUMBERS = itertools.count()


@contextlib.contextmanager
def host_netns() -> Iterator[Path]:
    """Make a network namespace named pyrunc-test-<pid>-N; delete it on exit.

    Yields its file under /run/netns, which a spec can join by path.
    """
    name = f"pyrunc-test-{os.getpid()}-{next(_NETNS_NUMBERS)}"
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    try:
        yield Path("/run/netns") / name
    finally:
        subprocess.run(["ip", "netns", "delete", name], capture_output=True)


def _same_or_below(link: Path, place: Path, place_stat: os.stat_result | None) -> bool:
    try:
        target = os.readlink(link)
        found = os.stat(link)
    except OSError:
        return False
    if target == str(place) or target.startswith(str(place) + "/"):
        return True
    # after pivot_root the link reads "/", but it is still the same directory
    return place_stat is not None and os.path.samestat(found, place_stat)


def processes_in(rootfs: Path) -> list[int]:
    """Return the pids whose root or cwd is rootfs (or below it, before pivot_root)."""
    try:
        rootfs_stat: os.stat_result | None = os.stat(rootfs)
    except OSError:
        rootfs_stat = None
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        if any(
            _same_or_below(proc / link, rootfs, rootfs_stat) for link in ("root", "cwd")
        ):
            found.append(int(proc.name))
    return found


def leftovers(runtime: Runtime, bundle: Bundle, container_id: str) -> list[str]:
    """Describe what a container left behind: state, cgroups, mounts and processes.

    Every test gives its runtime a root of its own, so any entry there counts.
    """
    found = []
    if runtime.root.exists():
        found += [f"state {entry}" for entry in runtime.root.iterdir()]
    for parent in cgroup_parent_dirs():
        path = Path(os.path.normpath(parent / container_id))
        if path != parent and path.exists():
            found.append(f"cgroup {path}")
    found += [f"mount {point}" for point in mounts_under(bundle.path)]
    found += [f"process {pid}" for pid in processes_in(bundle.rootfs)]
    return found


def wait_status(
    runtime: Runtime, container_id: str, status: str, timeout: float = 5.0
) -> dict[str, Any]:
    """Poll `state` until the container has status; return the last state document."""
    deadline = time.monotonic() + timeout
    state = runtime.state(container_id)
    while state["status"] != status and time.monotonic() < deadline:
        time.sleep(0.02)
        state = runtime.state(container_id)
    return state


def wait_for_file(path: Path, timeout: float = 5.0) -> bool:
    """Poll until path exists; return whether it does."""
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return path.exists()


def error_message(stderr: str) -> str:
    """Return the msg of the last level=error line of a text log, unquoted."""
    messages = [
        json.loads(found[1])
        for line in stderr.splitlines()
        if "level=error" in line
        and (found := re.search(r'msg=("(?:[^"\\]|\\.)*")', line))
    ]
    assert messages, f"no error line in {stderr!r}"
    return str(messages[-1])


@contextlib.contextmanager
def traversable_dir() -> Iterator[Path]:
    """Make a temporary directory that any user may traverse (0711); remove it after.

    The root of a user namespace is not the host's root: it reaches a bundle
    or a bind-mount source only through directories open to others, which
    pytest's temporary directories are not.
    """
    path = Path(tempfile.mkdtemp(prefix="pyrunc-test-"))
    try:
        path.chmod(0o711)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def running(
    runtime: Runtime, bundle: Bundle, container_id: str, script: str = "sleep 60"
) -> int:
    """Create and start a container whose init runs script; return the init's pid."""
    bundle.shell(script)
    result = create(runtime, bundle, container_id)
    assert result.returncode == 0, result.stderr
    result = runtime("start", container_id)
    assert result.returncode == 0, result.stderr
    pid: int = runtime.state(container_id)["pid"]
    return pid


def container_cgroups(container_id: str) -> list[Path]:
    """Return a test container's cgroup directory in every hierarchy."""
    return [parent / container_id for parent in cgroup_parent_dirs()]


def make_sub_cgroup(path: Path) -> None:
    """Make a cgroup that takes processes: a v1 cpuset one needs cpus and mems."""
    path.mkdir()
    for name in ("cpuset.cpus", "cpuset.mems"):
        if (path / name).exists():
            (path / name).write_text((path.parent / name).read_text())


def cgroup_pids(container_id: str) -> dict[Path, set[int]]:
    """Return the pids in each of a test container's cgroup directories."""
    found = {}
    for path in container_cgroups(container_id):
        procs = (path / "cgroup.procs").read_text().split()
        found[path] = {int(pid) for pid in procs}
    return found


def set_frozen(container_id: str, frozen: bool, timeout: float = 5.0) -> None:
    """Freeze or thaw a test container through its cgroup, as `pause` would."""
    for path in container_cgroups(container_id):
        v1 = path / "freezer.state"
        if v1.exists():
            v1.write_text("FROZEN" if frozen else "THAWED")
            wanted = "FROZEN" if frozen else "THAWED"
            deadline = time.monotonic() + timeout
            while v1.read_text().strip() != wanted:
                assert time.monotonic() < deadline, f"{v1} stays {v1.read_text()}"
                time.sleep(0.01)
        elif (path / "cgroup.freeze").exists():
            (path / "cgroup.freeze").write_text("1" if frozen else "0")


def children_of(pid: int) -> list[tuple[int, str]]:
    """Return (pid, state letter) of every process whose parent is pid."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            raw = (proc / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append((int(proc.name), fields[0]))
    return found


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """Kill a process the test started, if it still runs, and reap it."""
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


def cgroup_dir(controller: str, container_id: str) -> Path:
    """Return a test container's cgroup directory holding controller's files.

    On v1 that is the directory in the controller's hierarchy; on a v2-only
    host, the container's one directory.
    """
    own_v2 = "/"
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, own = line.split(":", 2)
        if controller in names.split(","):
            base = Path("/sys/fs/cgroup") / names / own.lstrip("/")
            return base / CGROUP_PARENT / container_id
        if not names:
            own_v2 = own
    return Path("/sys/fs/cgroup") / own_v2.lstrip("/") / CGROUP_PARENT / container_id
