"""Namespaces from inside the container: new ones, mapped ones, joined ones."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import (
    Bundle,
    Runtime,
    bind_mount,
    create,
    host_netns,
    traversable_dir,
)

NS_FILES = {
    "pid": "pid",
    "uts": "uts",
    "ipc": "ipc",
    "mount": "mnt",
    "network": "net",
    "cgroup": "cgroup",
    "user": "user",
    "time": "time",
}
USER_MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def run_ok(runtime: Runtime, bundle: Bundle, container_id: str = "ns") -> str:
    """Run the bundle, check it exited 0, and return its stdout."""
    result = runtime.run(bundle, container_id)
    assert result.returncode == 0, result.stderr
    return result.stdout


def set_namespaces(bundle: Bundle, *entries: str | dict[str, str]) -> Bundle:
    """Replace linux.namespaces; a bare string is a new namespace of that type."""
    bundle.config["linux"]["namespaces"] = [
        {"type": entry} if isinstance(entry, str) else entry for entry in entries
    ]
    return bundle


def host_ns(kind: str) -> str:
    return os.readlink(f"/proc/self/ns/{NS_FILES[kind]}")


def test_pid_namespace_makes_the_process_pid_1(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.shell("echo $$ /proc/[0-9]*")  # no fork: the shell is alone
    assert run_ok(pyrunc, bundle).split() == ["1", "/proc/1"]


@pytest.mark.parametrize("kind", ["pid", "uts", "ipc", "mount", "network"])
def test_default_namespaces_are_new(pyrunc: Runtime, bundle: Bundle, kind: str) -> None:
    bundle.shell(f"readlink /proc/self/ns/{NS_FILES[kind]}")
    assert run_ok(pyrunc, bundle).strip() != host_ns(kind)


@pytest.mark.parametrize(
    "kind", ["pid", "uts", "ipc", "network", "cgroup", "user", "time"]
)
def test_namespaces_not_asked_for_are_the_hosts(
    pyrunc: Runtime, bundle: Bundle, kind: str
) -> None:
    if not os.path.exists(f"/proc/self/ns/{NS_FILES[kind]}"):
        pytest.skip(f"this kernel has no {kind} namespaces")
    namespaces = bundle.config["linux"]["namespaces"]
    namespaces[:] = [ns for ns in namespaces if ns["type"] != kind]
    if kind == "uts":
        del bundle.config["hostname"]
    bundle.shell(f"readlink /proc/self/ns/{NS_FILES[kind]}")
    assert run_ok(pyrunc, bundle).strip() == host_ns(kind)


def test_uts_namespace_keeps_the_hosts_name(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.config["hostname"] = "inside-only"
    bundle.shell("hostname")
    assert run_ok(pyrunc, bundle) == "inside-only\n"
    assert os.uname().nodename != "inside-only"


def test_ipc_namespace_is_empty(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.shell("cat /proc/sysvipc/shm /proc/sysvipc/msg /proc/sysvipc/sem | wc -l")
    assert run_ok(pyrunc, bundle) == "3\n"  # the three header lines


def test_mount_namespace_hides_container_mounts(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    bundle.shell("cat /proc/self/mountinfo")
    run_ok(pyrunc, bundle)
    assert str(bundle.rootfs) not in Path("/proc/self/mountinfo").read_text()


def test_network_namespace_has_only_lo(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.shell("ls /sys/class/net; ip -o link | cut -d: -f2")
    assert run_ok(pyrunc, bundle).split() == ["lo", "lo"]


def test_cgroup_namespace_shows_root_paths(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.config["linux"]["namespaces"].append({"type": "cgroup"})
    bundle.shell("cat /proc/self/cgroup")
    paths = {line.split(":", 2)[2] for line in run_ok(pyrunc, bundle).splitlines()}
    assert paths == {"/"}


def test_without_cgroup_namespace_paths_are_the_hosts(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    bundle.shell("cat /proc/self/cgroup")
    paths = {line.split(":", 2)[2] for line in run_ok(pyrunc, bundle).splitlines()}
    assert any(path.endswith("/ns") for path in paths)


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory that the root of a user namespace can reach."""
    with traversable_dir() as path:
        yield path


@pytest.fixture
def userns(open_dir: Path, rootfs_template: Path) -> Bundle:
    """A bundle with a user namespace mapping container 0-65535 to 100000 up."""
    bundle = Bundle(open_dir / "bundle", rootfs_template)
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    bundle.config["linux"]["uidMappings"] = USER_MAP
    bundle.config["linux"]["gidMappings"] = USER_MAP
    return bundle


def test_user_namespace_maps_root(pyrunc: Runtime, userns: Bundle) -> None:
    userns.shell("id; cat /proc/self/uid_map /proc/self/gid_map")
    lines = run_ok(pyrunc, userns).splitlines()
    assert lines[0] == "uid=0(root) gid=0(root)"
    assert [line.split() for line in lines[1:]] == [["0", "100000", "65536"]] * 2
    userns.shell("readlink /proc/self/ns/user")
    assert run_ok(pyrunc, userns, "ns2").strip() != host_ns("user")


def test_user_namespace_file_owner_on_host(
    pyrunc: Runtime, userns: Bundle, open_dir: Path
) -> None:
    """A file made by the container's root belongs to the mapped ids on the host."""
    shared = open_dir / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    (userns.rootfs / "shared").mkdir()  # the mapped root may not create it
    bind_mount(userns, shared, "/shared")
    userns.shell("touch /shared/by-root; stat -c '%u %g' /shared/by-root")
    assert run_ok(pyrunc, userns) == "0 0\n"
    info = (shared / "by-root").stat()
    assert (info.st_uid, info.st_gid) == (100000, 100000)


def test_user_namespace_host_root_is_unmapped(pyrunc: Runtime, userns: Bundle) -> None:
    """Files of the host's root show as the overflow ids inside."""
    userns.shell("stat -c '%u %g' /bin/busybox")
    overflow = Path("/proc/sys/kernel/overflowuid").read_text().strip()
    assert run_ok(pyrunc, userns).split() == [overflow, overflow]


def test_user_namespace_with_other_user(pyrunc: Runtime, userns: Bundle) -> None:
    userns.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    userns.shell("id; grep -E '^(Uid|Gid):' /proc/self/status")
    lines = run_ok(pyrunc, userns).splitlines()
    assert lines[0] == "uid=1000 gid=1000"
    assert lines[1].split()[1:] == ["1000"] * 4


@pytest.fixture
def time_namespaces() -> None:
    if not os.path.exists("/proc/self/ns/time"):
        pytest.skip("this kernel has no time namespaces")


def test_time_namespace_offsets(
    pyrunc: Runtime, bundle: Bundle, time_namespaces: None
) -> None:
    day = 86400
    bundle.config["linux"]["namespaces"].append({"type": "time"})
    bundle.config["linux"]["timeOffsets"] = {
        "boottime": {"secs": 1000 * day, "nanosecs": 0},
        "monotonic": {"secs": 2000 * day, "nanosecs": 0},
    }
    bundle.shell("cat /proc/uptime; cat /proc/self/timens_offsets")
    before = float(Path("/proc/uptime").read_text().split()[0])
    lines = run_ok(pyrunc, bundle).splitlines()
    after = float(Path("/proc/uptime").read_text().split()[0])
    uptime = float(lines[0].split()[0]) - 1000 * day
    assert before - 1 <= uptime <= after + 1
    offsets = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert offsets["boottime"] == [str(1000 * day), "0"]
    assert offsets["monotonic"] == [str(2000 * day), "0"]


def test_time_namespace_without_offsets(
    pyrunc: Runtime, bundle: Bundle, time_namespaces: None
) -> None:
    bundle.config["linux"]["namespaces"].append({"type": "time"})
    bundle.shell("readlink /proc/self/ns/time; cat /proc/self/timens_offsets")
    lines = run_ok(pyrunc, bundle).splitlines()
    assert lines[0] != host_ns("time")
    assert [line.split()[1:] for line in lines[1:]] == [["0", "0"]] * 2


@pytest.fixture
def netns() -> Iterator[Path]:
    """A network namespace of the test's own, with 10.199.0.1 on its lo."""
    with host_netns() as path:
        subprocess.run(
            ["ip", "-n", path.name, "addr", "add", "10.199.0.1/32", "dev", "lo"],
            check=True,
        )
        yield path


def test_join_network_namespace_by_path(
    pyrunc: Runtime, bundle: Bundle, netns: Path
) -> None:
    namespaces = bundle.config["linux"]["namespaces"]
    namespaces[:] = [ns for ns in namespaces if ns["type"] != "network"]
    namespaces.append({"type": "network", "path": str(netns)})
    bundle.shell("readlink /proc/self/ns/net; ip -o -4 addr show dev lo")
    lines = run_ok(pyrunc, bundle).splitlines()
    inode = os.stat(netns).st_ino
    assert lines[0] == f"net:[{inode}]"
    assert "10.199.0.1/32" in lines[1]


def test_join_network_namespace_with_user_namespace(
    pyrunc: Runtime, userns: Bundle, netns: Path
) -> None:
    """The host's netns is joined before the user namespace is made."""
    namespaces = userns.config["linux"]["namespaces"]
    namespaces[:] = [ns for ns in namespaces if ns["type"] != "network"]
    namespaces.append({"type": "network", "path": str(netns)})
    # sysfs needs a network namespace the user namespace owns
    userns.config["mounts"] = [
        m for m in userns.config["mounts"] if not m["destination"].startswith("/sys")
    ]
    userns.shell("ip -o -4 addr show dev lo; id -u")
    lines = run_ok(pyrunc, userns).splitlines()
    assert "10.199.0.1/32" in lines[0]
    assert lines[1] == "0"


@pytest.fixture
def first(pyrunc: Runtime, make_bundle) -> Iterator[int]:  # type: ignore[no-untyped-def]
    """A created (not started) container named "first"; yields its init's pid."""
    bundle = make_bundle("first")
    bundle.config["hostname"] = "first-host"
    bundle.set_args("true")
    result = create(pyrunc, bundle, "first")
    assert result.returncode == 0, result.stderr
    yield pyrunc.state("first")["pid"]
    pyrunc("delete", "--force", "first")


@pytest.mark.parametrize("kind", ["ipc", "uts", "network", "pid"])
def test_join_namespace_of_another_container(
    pyrunc: Runtime, bundle: Bundle, first: int, kind: str
) -> None:
    name = NS_FILES[kind]
    namespaces = bundle.config["linux"]["namespaces"]
    namespaces[:] = [ns for ns in namespaces if ns["type"] != kind]
    namespaces.append({"type": kind, "path": f"/proc/{first}/ns/{name}"})
    if kind == "uts":
        del bundle.config["hostname"]
    bundle.shell(f"readlink /proc/self/ns/{name}; hostname")
    lines = run_ok(pyrunc, bundle, "second").splitlines()
    assert lines[0] == os.readlink(f"/proc/{first}/ns/{name}")
    assert (lines[1] == "first-host") == (kind == "uts")


def test_joined_pid_namespace_sees_the_other_init(
    pyrunc: Runtime, bundle: Bundle, first: int
) -> None:
    """The first container's init is pid 1 there; the second process is not."""
    namespaces = bundle.config["linux"]["namespaces"]
    namespaces[:] = [ns for ns in namespaces if ns["type"] != "pid"]
    namespaces.append({"type": "pid", "path": f"/proc/{first}/ns/pid"})
    bundle.shell("echo $$; test -d /proc/1 && echo has-init")
    pid, seen = run_ok(pyrunc, bundle, "second").split()
    assert pid != "1"
    assert seen == "has-init"


@pytest.mark.parametrize("kind", ["network", "ipc", "uts"])
def test_missing_namespace_path_is_a_clear_error(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path, kind: str
) -> None:
    missing = tmp_path / "no-such-ns"
    namespaces = bundle.config["linux"]["namespaces"]
    namespaces[:] = [ns for ns in namespaces if ns["type"] != kind]
    namespaces.append({"type": kind, "path": str(missing)})
    bundle.set_args("true")
    result = pyrunc.run(bundle, "badns")
    assert result.returncode == 1
    assert str(missing) in result.stderr
    assert "no such file or directory" in result.stderr.lower()
    assert pyrunc.container_ids() == []
    assert not (pyrunc.root / "badns").exists()


def test_namespace_path_of_the_wrong_type_is_refused(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    namespaces = bundle.config["linux"]["namespaces"]
    namespaces[:] = [ns for ns in namespaces if ns["type"] != "ipc"]
    namespaces.append({"type": "ipc", "path": "/proc/self/ns/uts"})
    bundle.set_args("true")
    result = pyrunc.run(bundle, "wrongns")
    assert result.returncode == 1
    assert "ipc" in result.stderr
    assert pyrunc.container_ids() == []
