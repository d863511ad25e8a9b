"""pyrunc side by side with runc: the same bundle gives the same output and status."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support import (
    Bundle,
    Runtime,
    bind_mount,
    host_netns,
    traversable_dir,
)

pytestmark = pytest.mark.runc


@dataclass
class Setup:
    """What a bundle tweak may use: host paths made once for both runtimes."""

    base: Path
    stack: contextlib.ExitStack
    hook_dirs: dict[str, Path] = field(default_factory=dict)
    _netns: Path | None = None

    @property
    def host_dir(self) -> Path:
        path = self.base / "host-dir"
        if not path.exists():
            path.mkdir()
            (path / "greeting").write_text("hello from the host\n")
        return path

    def netns(self) -> Path:
        """A network namespace of the test's own, with 10.199.0.2 on its lo."""
        if self._netns is None:
            self._netns = self.stack.enter_context(host_netns())
            subprocess.run(
                ["ip", "-n", self._netns.name, "addr", "add", "10.199.0.2/32"]
                + ["dev", "lo"],
                check=True,
            )
        return self._netns

    def hook_dir(self, runtime: str) -> Path:
        """Where the hooks of one runtime's run leave their records."""
        return self.hook_dirs.setdefault(runtime, self.base / f"hooks-{runtime}")


Tweak = Callable[[Bundle, Setup, str], None]


def as_is(bundle: Bundle, setup: Setup, runtime: str) -> None:
    """Leave runc's default spec (made non-interactive) as it is."""


def host_pid_namespace(bundle: Bundle, setup: Setup, runtime: str) -> None:
    # an init that is pid 1 of its own namespace ignores a SIGKILL from inside
    namespaces = bundle.config["linux"]["namespaces"]
    namespaces[:] = [ns for ns in namespaces if ns["type"] != "pid"]


def env_and_cwd(bundle: Bundle, setup: Setup, runtime: str) -> None:
    bundle.config["process"]["env"] += ["GREETING=hello world", "EMPTY="]
    bundle.config["process"]["cwd"] = "/tmp"


def user_with_groups(bundle: Bundle, setup: Setup, runtime: str) -> None:
    bundle.config["process"]["user"] = {
        "uid": 1000,
        "gid": 1000,
        "additionalGids": [10, 2000],
    }


def hostname(bundle: Bundle, setup: Setup, runtime: str) -> None:
    bundle.config["hostname"] = "compat-host"


def readonly_root(bundle: Bundle, setup: Setup, runtime: str) -> None:
    bundle.config["root"]["readonly"] = True


def readonly_bind(bundle: Bundle, setup: Setup, runtime: str) -> None:
    bind_mount(bundle, setup.host_dir, "/data", "ro")


def masked(bundle: Bundle, setup: Setup, runtime: str) -> None:
    (bundle.rootfs / "secret").write_text("the secret\n")
    (bundle.rootfs / "secret-dir").mkdir()
    (bundle.rootfs / "secret-dir" / "inside").write_text("also secret\n")
    bundle.config["linux"]["maskedPaths"] += ["/secret", "/secret-dir"]


def rlimit(bundle: Bundle, setup: Setup, runtime: str) -> None:
    bundle.config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456},
        {"type": "RLIMIT_NPROC", "soft": 77, "hard": 88},
    ]


def user_namespace(bundle: Bundle, setup: Setup, runtime: str) -> None:
    mapping = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    bundle.config["linux"]["uidMappings"] = mapping
    bundle.config["linux"]["gidMappings"] = mapping


def join_netns(bundle: Bundle, setup: Setup, runtime: str) -> None:
    namespaces = bundle.config["linux"]["namespaces"]
    namespaces[:] = [ns for ns in namespaces if ns["type"] != "network"]
    namespaces.append({"type": "network", "path": str(setup.netns())})


def hooks(bundle: Bundle, setup: Setup, runtime: str) -> None:
    out = setup.hook_dir(runtime)
    out.mkdir()

    def record(kind: str) -> dict[str, object]:
        # the status the hook saw, and its turn
        script = (
            f'sed -n \'s/.*"status": *"\\([a-z]*\\)".*/\\1/p\' > {out}/{kind};'
            f" echo {kind} >> {out}/order"
        )
        return {"path": "/bin/sh", "args": ["sh", "-c", script]}

    bundle.config["hooks"] = {
        "createRuntime": [record("createRuntime")],
        "poststop": [record("poststop")],
    }


CASES: list[tuple[str, Tweak, str]] = [
    ("exit-0", as_is, "echo bye; exit 0"),
    ("exit-3", as_is, "echo bye; exit 3"),
    ("sigkill", host_pid_namespace, "echo started; kill -9 $$; echo survived"),
    ("env-and-cwd", env_and_cwd, "env; pwd"),
    ("user-and-groups", user_with_groups, "id; umask"),
    ("hostname", hostname, "hostname; cat /proc/sys/kernel/hostname"),
    ("readonly-root", readonly_root, "echo x > /dev/shm/ok; touch /new 2>&1"),
    ("readonly-bind", readonly_bind, "cat /data/greeting; touch /data/new 2>&1"),
    ("masked-path", masked, "cat /secret; ls -A /secret-dir; echo end"),
    ("rlimit", rlimit, "ulimit -n; ulimit -Hn; ulimit -u"),
    ("user-namespace", user_namespace, "id; cat /proc/self/uid_map /proc/self/gid_map"),
    ("join-netns", join_netns, "ip -o -4 addr show dev lo | awk '{print $4}'"),
    ("hooks", hooks, "echo process"),
]


@pytest.fixture
def setup(rootfs_template: Path) -> Iterator[Setup]:
    """A base directory any user may traverse (for user namespaces), and teardown."""
    with traversable_dir() as base, contextlib.ExitStack() as stack:
        yield Setup(base, stack)


class Outcome:
    """What a run shows: stdout, exit status and the hooks' records; stderr aside."""

    def __init__(self, runtime: Runtime, bundle: Bundle, setup: Setup) -> None:
        result = runtime.run(bundle, f"compat-{runtime.name}")
        out = setup.hook_dirs.get(runtime.name)
        records = {p.name: p.read_text() for p in out.iterdir()} if out else {}
        self.seen = (result.stdout, result.returncode, records)
        self.stderr = result.stderr


def run_case(
    runtime: Runtime, rootfs_template: Path, setup: Setup, tweak: Tweak, command: str
) -> Outcome:
    """Build the case's bundle for one runtime and run it."""
    bundle = Bundle(setup.base / f"bundle-{runtime.name}", rootfs_template)
    tweak(bundle, setup, runtime.name)
    bundle.shell(command)
    return Outcome(runtime, bundle, setup)


@pytest.mark.parametrize(
    ("tweak", "command"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_same_as_runc(
    pyrunc: Runtime,
    runc: Runtime,
    rootfs_template: Path,
    setup: Setup,
    tweak: Tweak,
    command: str,
) -> None:
    theirs = run_case(runc, rootfs_template, setup, tweak, command)
    ours = run_case(pyrunc, rootfs_template, setup, tweak, command)
    assert ours.seen == theirs.seen, (
        f"pyrunc stderr: {ours.stderr!r}; runc stderr: {theirs.stderr!r}"
    )
