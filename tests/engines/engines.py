"""Real container engines driving a runtime: containerd through ctr, podman with conmon.

Each engine runs as a private instance of the test's own: its own root,
state, socket and configuration under a temporary directory, so nothing of
the machine's own engines (if any run) is seen or touched. The runtime the
engine calls is a recording wrapper: a script that writes down each command
line it is given, with the exit status, and runs the real runtime with it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyrunc.cgroups import hierarchies
from pyrunc.errors import UsageError
from tests.support import (
    CGROUP_PARENT,
    make_rootfs,
    mounts_under,
    remove_empty_cgroups,
)

IMAGE = "localhost/pyrunc-tests/busybox:latest"


class Call:
    """One command line an engine gave the runtime, and how it ended."""

    def __init__(self, argv: list[str], status: int | None) -> None:
        self.argv = argv
        self.status = status

    def __repr__(self) -> str:
        return f"Call({shlex.join(self.argv)!r}, status={self.status})"


class RecordedRuntime:
    """A runtime behind a wrapper script that records every command line."""

    def __init__(self, name: str, command: list[str], workdir: Path) -> None:
        self.name = name
        self.command = command
        self.calls_dir = workdir / f"{name}-calls"
        self.calls_dir.mkdir(parents=True)
        self.binary = workdir / name
        keep = ""
        if os.environ.get("PYTHONPATH"):  # a runtime run from a source tree
            keep = f"export PYTHONPATH={shlex.quote(os.environ['PYTHONPATH'])}\n"
        self.binary.write_text(
            "#!/bin/sh\n"
            f"{keep}"
            f"record={self.calls_dir}/call.$(date +%s%N).$$\n"
            'printf \'%s\\0\' "$@" > "$record"\n'
            f'{shlex.join(command)} "$@"\n'
            "status=$?\n"
            'echo "$status" > "$record.status"\n'
            'exit "$status"\n'
        )
        self.binary.chmod(0o755)

    def calls(self) -> list[Call]:
        """Return the recorded calls, oldest first."""
        records = [p for p in self.calls_dir.iterdir() if p.suffix != ".status"]
        records.sort(key=lambda p: p.stat().st_mtime_ns)
        found = []
        for record in records:
            argv = record.read_text().split("\0")[:-1]
            status_file = record.with_name(record.name + ".status")
            status = int(status_file.read_text()) if status_file.exists() else None
            found.append(Call(argv, status))
        return found


def command_of(argv: list[str]) -> str:
    """Return the subcommand a runtime command line names, as pyrunc parses it.

    The switches --all, --force, --detach and --help follow the name where
    given ("kill --all"). Raises UsageError if pyrunc would reject the line.
    """
    from pyrunc.cli import parse
    from pyrunc.cli.args import HelpShown

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            _, args = parse(argv)
    except HelpShown:
        words = [word for word in argv if not word.startswith("-")]
        return f"{words[-1]} --help"
    flags = [flag for flag in ("all", "force", "detach") if getattr(args, flag, False)]
    return " ".join([args.command, *(f"--{flag}" for flag in flags)])


def wait_until(ready: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Poll ready() until it is true; fail naming what did not happen."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout} s"
        time.sleep(0.05)


def sort_calls(calls: list[Call]) -> tuple[set[str], list[str]]:
    """Return the commands the calls name (see command_of) and the rejected calls."""
    commands = set()
    rejected = []
    for call in calls:
        try:
            commands.add(command_of(call.argv))
        except UsageError as err:
            rejected.append(f"{call}: {err}")
    return commands, rejected


def runtime_state(
    runtime: RecordedRuntime, root: Path, container_id: str
) -> dict[str, Any]:
    """Return the runtime's own `state` of a container, asked directly."""
    result = subprocess.run(
        [*runtime.command, "--root", str(root), "state", container_id],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    state: dict[str, Any] = json.loads(result.stdout)
    return state


def processes_naming(text: str) -> list[int]:
    """Return the pids whose command line contains text."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(proc.name))
    return found


def unmount_under(path: Path) -> None:
    """Lazily unmount whatever is still mounted at or below path, deepest first."""
    for point in sorted(mounts_under(path), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


class Containerd:
    """A private containerd, with ctr to drive it and the CRI plugin disabled."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.socket = workdir / "containerd.sock"
        self.fifo_dir = workdir / "fifo"
        self.config = workdir / "config.toml"
        self.log = workdir / "containerd.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.sockets_before = self.shim_sockets()

    def start(self) -> None:
        """Write the configuration, start the daemon and wait until it answers."""
        self.fifo_dir.mkdir(parents=True)
        self.config.write_text(
            "version = 2\n"
            f'root = "{self.workdir / "root"}"\n'
            f'state = "{self.workdir / "state"}"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            "[grpc]\n"
            f'  address = "{self.socket}"\n'
            '[plugins."io.containerd.internal.v1.opt"]\n'
            f'  path = "{self.workdir / "opt"}"\n'
        )
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                ["containerd", "--config", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        wait_until(lambda: self.ctr("version").returncode == 0, "containerd's start")

    def ctr(
        self, *args: str, timeout: float = 60, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ctr against this daemon and return the finished process."""
        return subprocess.run(
            ["ctr", "--address", str(self.socket), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
        )

    def ctr_argv(self, *args: str) -> list[str]:
        """Return the command line of a ctr call, for a terminal to run."""
        return ["ctr", "--address", str(self.socket), *args]

    @staticmethod
    def shim_sockets() -> set[str]:
        """Return the sockets in the fixed directory where every shim keeps its own."""
        directory = Path("/run/containerd/s")
        return {p.name for p in directory.iterdir()} if directory.is_dir() else set()

    def shims(self) -> list[int]:
        """Return the pids of the shims this daemon started."""
        return [
            pid
            for pid in processes_naming(f"-address {self.socket}")
            if Path(f"/proc/{pid}/exe").resolve().name.startswith("containerd-shim")
        ]

    def remove_everything(self) -> None:
        """Kill and remove every task and container the tests left."""
        listing = self.ctr("containers", "list", "--quiet")
        for container_id in listing.stdout.split():
            self.ctr("task", "kill", "--all", "--signal", "SIGKILL", container_id)
            self.ctr("task", "delete", "--force", container_id)
            self.ctr("containers", "delete", container_id)

    def stop(self) -> None:
        """Stop the daemon and its shims; unmount what is left mounted.

        The files stay in the test's temporary directory, which pytest
        removes with its old runs.
        """
        if self.process is not None and self.process.poll() is None:
            self.remove_everything()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        # a shim whose task could not be deleted outlives the daemon
        for pid in self.shims():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        unmount_under(self.workdir)


class Podman:
    """podman with private configuration, storage and events, run through conmon."""

    def __init__(self, workdir: Path, runtimes: list[RecordedRuntime]) -> None:
        self.workdir = workdir
        self.runtimes = runtimes
        storage = workdir / "storage"
        self.env = dict(os.environ)
        self.env.update(
            CONTAINERS_CONF=str(workdir / "containers.conf"),
            CONTAINERS_STORAGE_CONF=str(workdir / "storage.conf"),
            CONTAINERS_REGISTRIES_CONF=str(workdir / "registries.conf"),
            TMPDIR=str(workdir / "tmp"),
        )
        (workdir / "tmp").mkdir(parents=True)
        (workdir / "networks").mkdir()
        (workdir / "storage.conf").write_text(
            "[storage]\n"
            'driver = "overlay"\n'
            f'graphroot = "{storage / "graph"}"\n'
            f'runroot = "{storage / "run"}"\n'
        )
        (workdir / "registries.conf").write_text("unqualified-search-registries = []\n")
        names = ", ".join(f'"{runtime.name}"' for runtime in runtimes)
        table = "".join(f'{r.name} = ["{r.binary}"]\n' for r in runtimes)
        # This host's hard open-file limit (20000) is below podman's default
        # of 1048576, and without CAP_SYS_RESOURCE it cannot be raised.
        (workdir / "containers.conf").write_text(
            "[containers]\n"
            'netns = "none"\n'
            'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n'
            "[network]\n"
            f'network_config_dir = "{workdir / "networks"}"\n'
            "[engine]\n"
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f'events_logfile_path = "{workdir / "events.log"}"\n'
            f'tmp_dir = "{workdir / "libpod"}"\n'
            f"runtime_supports_json = [{names}]\n"
            "[engine.runtimes]\n"
            f"{table}"
        )

    def __call__(
        self, *args: str, timeout: float = 120, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run podman with this instance's configuration, in its directory.

        conmon leaves a file named oom in its working directory when an
        exec'd process is killed for memory.
        """
        return subprocess.run(
            ["podman", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            env=self.env,
            cwd=self.workdir,
        )

    def config_env(self) -> dict[str, str]:
        """Return the variables that point podman at this instance."""
        return {
            name: value
            for name, value in self.env.items()
            if name.startswith("CONTAINERS_") or name == "TMPDIR"
        }

    def reset(self) -> None:
        """Remove every container and image, and unmount the storage."""
        self("rm", "--all", "--force", "--time", "0")
        self("system", "reset", "--force")
        unmount_under(self.workdir)


def podman_cgroup_root() -> str:
    """Return the absolute cgroup under which podman's containers of this run live.

    podman's cgroupfs manager takes a single absolute path for every
    hierarchy, so a hybrid host's per-controller placements of the test
    process cannot all be honoured: the v2 (or first listed) placement is,
    and the tree is removed from every hierarchy at the end.
    """
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    unified = [line for line in lines if line.startswith("0::")]
    own = (unified or lines)[0].split(":", 2)[2]
    return f"{own.rstrip('/')}/{CGROUP_PARENT}-podman"


def podman_cgroup_parent(runtime_name: str) -> str:
    """Return the cgroup parent for podman's containers run by runtime_name."""
    return f"{podman_cgroup_root()}/{runtime_name}"


def remove_cgroup_tree(absolute: str) -> list[str]:
    """Remove the cgroup at absolute in every hierarchy; return what stays."""
    stays = []
    for hierarchy in hierarchies():
        top = Path(hierarchy.mountpoint) / absolute.lstrip("/")
        if top.is_dir() and not remove_empty_cgroups(top):
            stays.append(str(top))
    return stays


def build_image(podman: Podman, archive: Path) -> None:
    """Make the busybox image without a registry and save it as an OCI archive.

    A busybox-static root filesystem is packed as a tarball, imported into
    podman's storage, and copied out with skopeo for containerd to import.
    """
    rootfs = make_rootfs(podman.workdir / "image-rootfs")
    tarball = podman.workdir / "rootfs.tar"
    subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], check=True)
    shutil.rmtree(rootfs)
    imported = podman("import", "--change", 'CMD ["/bin/sh"]', str(tarball), IMAGE)
    assert imported.returncode == 0, imported.stderr
    tarball.unlink()
    copied = subprocess.run(
        [
            "skopeo",
            "copy",
            f"containers-storage:{IMAGE}",
            f"oci-archive:{archive}:{IMAGE}",
        ],
        capture_output=True,
        text=True,
        env=podman.env,
        timeout=120,
    )
    assert copied.returncode == 0, copied.stderr
