"""The root filesystem as the container sees it: mounts, /dev, pivot, masks."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Bundle, Runtime, bind_mount, mounts_under

DEFAULT_DEVICES = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
]
DEFAULT_LINKS = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
]


def run_ok(runtime: Runtime, bundle: Bundle, container_id: str = "fs") -> str:
    """Run the bundle, check it exited 0, and return its stdout."""
    result = runtime.run(bundle, container_id)
    assert result.returncode == 0, result.stderr
    return result.stdout


def mountinfo(text: str) -> dict[str, tuple[str, str, str]]:
    """Map each mount point of a mountinfo document to (options, optional, super)."""
    found = {}
    for line in text.splitlines():
        fields = line.split()
        sep = fields.index("-")
        found[fields[4]] = (fields[5], " ".join(fields[6:sep]), fields[sep + 3])
    return found


def add_mount(
    bundle: Bundle, destination: str, kind: str, source: str, *options: str
) -> None:
    bundle.config["mounts"].append(
        {"destination": destination, "type": kind, "source": source}
        | ({"options": list(options)} if options else {})
    )


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    """A host directory holding one file, to bind into containers."""
    path = tmp_path / "host-dir"
    path.mkdir()
    (path / "greeting").write_text("hello from the host\n")
    return path


def test_readonly_root(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.config["root"]["readonly"] = True
    bundle.shell("touch /new-file")
    result = pyrunc.run(bundle, "ro-root")
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr
    assert not (bundle.rootfs / "new-file").exists()


def test_readonly_root_keeps_its_mounts_writable(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    bundle.config["root"]["readonly"] = True
    bundle.shell("echo x > /dev/shm/f && cat /dev/shm/f")
    assert run_ok(pyrunc, bundle) == "x\n"


def test_writable_root(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.shell("echo inside > /new-file")
    run_ok(pyrunc, bundle)
    assert (bundle.rootfs / "new-file").read_text() == "inside\n"


def test_readonly_bind_mount(pyrunc: Runtime, bundle: Bundle, host_dir: Path) -> None:
    bind_mount(bundle, host_dir, "/data", "ro")
    bundle.shell("cat /data/greeting; touch /data/new")
    result = pyrunc.run(bundle, "ro-bind")
    assert result.stdout == "hello from the host\n"
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr
    assert sorted(os.listdir(host_dir)) == ["greeting"]


def test_readwrite_bind_mount(pyrunc: Runtime, bundle: Bundle, host_dir: Path) -> None:
    bind_mount(bundle, host_dir, "/data", "rw")
    bundle.shell("echo from inside > /data/new")
    run_ok(pyrunc, bundle)
    assert (host_dir / "new").read_text() == "from inside\n"


def test_bind_mount_of_a_file(pyrunc: Runtime, bundle: Bundle, host_dir: Path) -> None:
    bind_mount(bundle, host_dir / "greeting", "/etc/motd", "ro")
    bundle.shell("cat /etc/motd")
    assert run_ok(pyrunc, bundle) == "hello from the host\n"


def test_bind_mount_source_relative_to_bundle(pyrunc: Runtime, bundle: Bundle) -> None:
    (bundle.path / "shared").mkdir(parents=True)
    (bundle.path / "shared" / "f").write_text("beside config.json\n")
    bind_mount(bundle, Path("shared"), "/shared")
    bundle.shell("cat /shared/f")
    assert run_ok(pyrunc, bundle) == "beside config.json\n"


def test_mounts_in_order(pyrunc: Runtime, bundle: Bundle, host_dir: Path) -> None:
    """Each mount may land inside the one before; a later one covers an earlier."""
    add_mount(bundle, "/a", "tmpfs", "tmpfs", "mode=755")
    add_mount(bundle, "/a/b", "tmpfs", "tmpfs", "mode=700")
    bind_mount(bundle, host_dir, "/a/b/c")
    add_mount(bundle, "/cover", "tmpfs", "tmpfs", "mode=711")
    add_mount(bundle, "/cover", "tmpfs", "tmpfs", "mode=750")
    bundle.shell(
        "cat /a/b/c/greeting; stat -c %a /a/b /cover; cat /proc/self/mountinfo"
    )
    out = run_ok(pyrunc, bundle).splitlines()
    assert out[:3] == ["hello from the host", "700", "750"]
    points = [line.split()[4] for line in out[3:]]
    wanted = ["/a", "/a/b", "/a/b/c", "/cover"]
    assert [p for p in points if p in wanted] == [*wanted, "/cover"]


@pytest.mark.parametrize(
    "options",
    [
        ["nosuid"],
        ["nodev"],
        ["noexec"],
        ["nosuid", "nodev", "noexec"],
        ["ro", "nosuid", "noexec"],
    ],
)
@pytest.mark.parametrize("kind", ["tmpfs", "bind"])
def test_mount_flags_in_mountinfo(
    pyrunc: Runtime, bundle: Bundle, host_dir: Path, kind: str, options: list[str]
) -> None:
    if kind == "bind":
        bind_mount(bundle, host_dir, "/m", *options)
    else:
        add_mount(bundle, "/m", "tmpfs", "tmpfs", *options)
    bundle.shell("cat /proc/self/mountinfo")
    flags = mountinfo(run_ok(pyrunc, bundle))["/m"][0].split(",")
    assert set(options) <= set(flags)
    assert ("rw" in flags) == ("ro" not in options)


def test_noexec_mount_refuses_to_execute(pyrunc: Runtime, bundle: Bundle) -> None:
    add_mount(bundle, "/m", "tmpfs", "tmpfs", "noexec")
    bundle.shell("cp /bin/busybox /m/bb && /m/bb true")
    result = pyrunc.run(bundle, "noexec")
    assert result.returncode == 126, result.stderr
    assert "Permission denied" in result.stderr


def test_tmpfs_size_and_mode(pyrunc: Runtime, bundle: Bundle) -> None:
    add_mount(bundle, "/scratch", "tmpfs", "tmpfs", "size=1m", "mode=1700")
    bundle.shell("stat -c %a /scratch; cat /proc/self/mountinfo")
    out = run_ok(pyrunc, bundle)
    mode, _, info = out.partition("\n")
    assert mode == "1700"
    super_options = mountinfo(info)["/scratch"][2].split(",")
    assert "size=1024k" in super_options
    assert "mode=1700" in super_options


def run_bounded(
    runtime: Runtime, bundle: Bundle, container_id: str, seconds: float = 8
) -> subprocess.CompletedProcess[str]:
    """Run the bundle, failing the test if the runtime hangs."""
    path = bundle.write(container_id)
    try:
        return runtime("run", "--bundle", str(path), container_id, timeout=seconds)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{runtime.name} run hung for {seconds}s")


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[Path]:
    """A host path no container may create; removed if a test makes it anyway."""
    path = Path("/tmp") / f"pyrunc-escape-{uuid.uuid4().hex}"
    yield path
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


@pytest.mark.parametrize("destination", ["/escape", "/escape/mnt"])
@pytest.mark.parametrize("style", ["dotdot", "absolute"])
def test_mount_via_escaping_symlink_stays_inside(
    pyrunc: Runtime, bundle: Bundle, outside: Path, style: str, destination: str
) -> None:
    """A symlink in the rootfs resolves as if the rootfs were /: nothing on the host."""
    target = "/../../../../.." + str(outside) if style == "dotdot" else str(outside)
    (bundle.rootfs / "escape").symlink_to(target)
    add_mount(bundle, destination, "tmpfs", "tmpfs")
    inside = str(outside) + destination.removeprefix("/escape")
    bundle.shell(
        f"echo marker > {destination}/f; cat {inside}/f;"
        f" grep -c ' {inside} ' /proc/self/mountinfo"
    )
    result = run_bounded(pyrunc, bundle, "escape")
    assert not outside.exists()
    assert mounts_under(outside) == mounts_under(bundle.rootfs) == []
    assert result.returncode == 0, result.stderr
    assert result.stdout == "marker\n1\n"
    assert (bundle.rootfs / inside.lstrip("/")).is_dir()


def test_mount_destination_with_dotdot_stays_inside(
    pyrunc: Runtime, bundle: Bundle, host_dir: Path, outside: Path
) -> None:
    bind_mount(bundle, host_dir, "/../../../.." + str(outside))
    bundle.shell(f"cat {outside}/greeting")
    result = run_bounded(pyrunc, bundle, "dotdot")
    assert not outside.exists()
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello from the host\n"


def test_default_devices(pyrunc: Runtime, bundle: Bundle) -> None:
    names = " ".join(f"/dev/{name}" for name, _, _ in DEFAULT_DEVICES)
    bundle.shell(f"stat -c '%n %F %t:%T %a' {names}")
    expected = [
        f"/dev/{name} character special file {major:x}:{minor:x} 666"
        for name, major, minor in DEFAULT_DEVICES
    ]
    assert run_ok(pyrunc, bundle).splitlines() == expected


def test_default_device_links(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.shell("for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done")
    assert run_ok(pyrunc, bundle).splitlines() == [t for _, t in DEFAULT_LINKS]


def test_default_devices_work(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.shell(
        "head -c 4 /dev/zero | od -An -tx1; echo gone > /dev/null;"
        " head -c 16 /dev/urandom | wc -c; echo ok > /dev/stdout"
    )
    assert run_ok(pyrunc, bundle).split() == ["00", "00", "00", "00", "16", "ok"]


def test_dev_pts_and_ptmx(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.shell("stat -c '%F %t:%T' /dev/pts/ptmx; cat /proc/self/mountinfo")
    out = run_ok(pyrunc, bundle)
    kind, _, info = out.partition("\n")
    assert kind == "character special file 5:2"
    devpts = mountinfo(info)["/dev/pts"][2].split(",")
    assert {"ptmxmode=666", "mode=620", "gid=5"} <= set(devpts)


def test_extra_device(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.config["linux"]["devices"] = [
        {
            "path": "/dev/extra/null2",
            "type": "c",
            "major": 1,
            "minor": 3,
            "fileMode": 0o620,
            "uid": 1000,
            "gid": 1001,
        },
        {"path": "/dev/fifo0", "type": "p", "fileMode": 0o600},
    ]
    bundle.shell("stat -c '%n %F %t:%T %a %u %g' /dev/extra/null2 /dev/fifo0")
    assert run_ok(pyrunc, bundle).splitlines() == [
        "/dev/extra/null2 character special file 1:3 620 1000 1001",
        "/dev/fifo0 fifo 0:0 600 0 0",
    ]


@pytest.fixture
def shared_rootfs(bundle: Bundle) -> Iterator[Bundle]:
    """A bundle whose rootfs is a shared mount on the host; unmounted after."""
    rootfs = str(bundle.rootfs)
    subprocess.run(["mount", "--bind", rootfs, rootfs], check=True)
    try:
        subprocess.run(["mount", "--make-shared", rootfs], check=True)
        yield bundle
    finally:
        subprocess.run(["umount", "--lazy", rootfs], check=True)


@pytest.mark.parametrize(
    ("propagation", "present", "absent"),
    [
        ("shared", "shared:", "none"),
        ("slave", "master:", "shared:"),
        ("private", "none", "master:"),
    ],
)
def test_rootfs_propagation(
    pyrunc: Runtime,
    shared_rootfs: Bundle,
    propagation: str,
    present: str,
    absent: str,
) -> None:
    """The container's / gets the propagation asked for ("none": no peer, no master)."""
    shared_rootfs.config["linux"]["rootfsPropagation"] = propagation
    shared_rootfs.shell("cat /proc/self/mountinfo")
    optional = mountinfo(run_ok(pyrunc, shared_rootfs))["/"][1] or "none"
    assert present in optional
    assert absent not in optional


def _allowed_points(bundle: Bundle) -> set[str]:
    """Mount points a container of this bundle may show: its own, none of the host."""
    linux = bundle.config["linux"]
    return (
        {"/"}
        | {m["destination"] for m in bundle.config["mounts"]}
        | set(linux.get("maskedPaths", []))
        | set(linux.get("readonlyPaths", []))
    )


@pytest.mark.parametrize("flags", [(), ("--no-pivot",)], ids=["pivot", "no-pivot"])
def test_host_root_is_not_visible(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    """/ is the rootfs, and init's mount table names nothing of the host."""
    (bundle.rootfs / "marker").write_text("this rootfs\n")
    bundle.shell("cat /marker; ls -A /; echo --; cat /proc/1/mountinfo")
    result = pyrunc.run(bundle, "pivot", *flags)
    assert result.returncode == 0, result.stderr
    head, _, info = result.stdout.partition("--\n")
    marker, *listing = head.splitlines()
    assert marker == "this rootfs"
    assert sorted(listing) == sorted(os.listdir(bundle.rootfs))
    allowed = _allowed_points(bundle)
    strays = [
        point
        for point in mountinfo(info)
        if not any(point == a or point.startswith(a + "/") for a in allowed)
    ]
    assert strays == []
    assert str(tmp_path) not in " ".join(mountinfo(info))


@pytest.fixture
def secrets(bundle: Bundle) -> Bundle:
    """A bundle with a secret file and a secret directory in its rootfs."""
    (bundle.rootfs / "secret-file").write_text("the secret\n")
    (bundle.rootfs / "secret-dir").mkdir()
    (bundle.rootfs / "secret-dir" / "inside").write_text("also secret\n")
    (bundle.rootfs / "ro-dir").mkdir()
    return bundle


def test_masked_file_reads_empty(pyrunc: Runtime, secrets: Bundle) -> None:
    secrets.config["linux"]["maskedPaths"] = ["/secret-file"]
    secrets.shell("cat /secret-file; echo end")
    assert run_ok(pyrunc, secrets) == "end\n"


def test_masked_dir_is_empty(pyrunc: Runtime, secrets: Bundle) -> None:
    secrets.config["linux"]["maskedPaths"] = ["/secret-dir"]
    secrets.shell("ls -A /secret-dir; echo end")
    assert run_ok(pyrunc, secrets) == "end\n"


def test_masked_path_that_is_missing_is_ignored(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    bundle.config["linux"]["maskedPaths"] = ["/no/such/path"]
    bundle.shell("test -e /no/such/path || echo absent")
    assert run_ok(pyrunc, bundle) == "absent\n"


def test_default_masked_proc_paths(pyrunc: Runtime, bundle: Bundle) -> None:
    bundle.shell("wc -c < /proc/keys; ls -A /sys/firmware | wc -l")
    assert run_ok(pyrunc, bundle).split() == ["0", "0"]


@pytest.mark.parametrize("path", ["/ro-dir", "/proc/sys"])
def test_readonly_path_refuses_writes(
    pyrunc: Runtime, secrets: Bundle, path: str
) -> None:
    secrets.config["linux"]["readonlyPaths"] = ["/ro-dir", "/proc/sys"]
    target = "/ro-dir/f" if path == "/ro-dir" else "/proc/sys/kernel/hostname"
    secrets.shell(f"ls {path} >/dev/null && echo readable; echo x > {target}")
    result = pyrunc.run(secrets, "ro-path")
    assert result.stdout == "readable\n"
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr
