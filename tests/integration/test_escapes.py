"""Known container escapes, each built against pyrunc: the host must stay untouched.

Every attack aims at files the test made on the host (decoys in its
temporary directory, a decoy copy of the Python interpreter) or at host
paths that do not exist and must not come to exist; none aims at a real
host file. Where runc is the reference, the runc tests say what it does.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import (
    Bundle,
    Runtime,
    bind_mount,
    create,
    detached,
    error_message,
    leftovers,
    mounts_under,
    pyrunc_command,
    wait_for_file,
)

HOOK_PATH = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"


class Decoy:
    """A host file an attack aims at; remembers its content and mode."""

    def __init__(self, path: Path, content: str = "host decoy\n") -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        path.chmod(0o600)
        self.content = content

    def assert_untouched(self) -> None:
        found = os.lstat(self.path)
        assert stat.S_ISREG(found.st_mode), f"{self.path} is no longer a file"
        assert stat.S_IMODE(found.st_mode) == 0o600, f"{self.path} changed mode"
        assert self.path.read_text() == self.content, f"{self.path} was written"
        assert mounts_under(self.path) == [], f"{self.path} has a mount on it"


@pytest.fixture
def decoy(tmp_path: Path) -> Decoy:
    return Decoy(tmp_path / "host" / "decoy")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A host path no container may create or mount on."""
    return tmp_path / "outside"


def assert_outside_untouched(outside: Path) -> None:
    assert not os.path.lexists(outside), f"{outside} was created on the host"
    assert mounts_under(outside) == []


def run_bounded(
    runtime: Runtime, bundle: Bundle, container_id: str, *flags: str
) -> subprocess.CompletedProcess[str]:
    """Run the bundle, failing the test rather than hanging if the runtime does."""
    path = bundle.write(container_id)
    try:
        return runtime("run", "--bundle", str(path), *flags, container_id, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{runtime.name} run hung")


def assert_refused(
    runtime: Runtime,
    bundle: Bundle,
    container_id: str,
    result: subprocess.CompletedProcess[str],
    *words: str,
) -> str:
    """The runtime refused the container with a message holding words; nothing left."""
    assert result.returncode == 1, result.stdout + result.stderr
    message = error_message(result.stderr)
    for word in words:
        assert word in message
    assert leftovers(runtime, bundle, container_id) == []
    return message


def drop_dev_mounts(bundle: Bundle) -> Bundle:
    """Use the rootfs's own /dev: no tmpfs, devpts, shm or mqueue on it."""
    bundle.config["mounts"] = [
        m for m in bundle.config["mounts"] if not m["destination"].startswith("/dev")
    ]
    return bundle


def make_dev_null(bundle: Bundle) -> None:
    os.mknod(bundle.rootfs / "dev" / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))


# ---- CVE-2019-5736: the runtime's own binary, reached through /proc -------------

# Run by a startContainer hook in the container's namespaces while the init,
# a copy of the runtime until execve, waits for start. /proc/1's files belong
# to the init's user unless it is not dumpable, when they belong to root.
# The prober is an unprivileged user of the container, as the init will be.
PROBE_INIT = """
out=$1
grep ^Uid: /proc/1/status > $out/uid
stat -c '%u %g' /proc/1/status > $out/owner
su tester -c 'readlink /proc/1/exe; echo "exe $?"
    cat /proc/1/environ > /dev/null; echo "environ $?"
    echo x >> /proc/1/exe; echo "write $?"' > $out/log 2>&1
"""

# Run by the container's process itself, the same unprivileged user: after
# execve the init is dumpable, and a process like it is readable.
PROBE_AFTER = """
stat -c '%u %g' /proc/1/status
sleep 30 &
readlink /proc/$!/exe
kill $!
"""


def test_cve_2019_5736_init_is_not_dumpable_until_execve(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    """Until execve, the container's users can neither read the init's executable
    or memory nor open the executable for writing; afterwards they can read.

    For root's init it is pyrunc's own non-dumpable step that guards it (see
    the shared pid namespace test below); for user 1000 the switch of user
    does as well.
    """
    out = tmp_path / "probe"
    out.mkdir()
    bind_mount(bundle, out, "/probe")
    with open(bundle.rootfs / "etc" / "passwd", "a") as passwd:
        passwd.write("tester:x:1000:1000::/:/bin/sh\n")
    with open(bundle.rootfs / "etc" / "group", "a") as group:
        group.write("tester:x:1000:\n")
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    bundle.config["process"].pop("capabilities")
    bundle.config["hooks"] = {
        "startContainer": [
            {
                "path": "/bin/sh",
                "args": ["sh", "-c", PROBE_INIT, "probe", "/probe"],
                "env": [HOOK_PATH],
            }
        ]
    }
    bundle.shell(PROBE_AFTER)
    result = pyrunc.run(bundle, "dumpable")
    assert result.returncode == 0, result.stderr
    assert (out / "uid").read_text().split()[1:] == ["1000"] * 4
    assert (out / "owner").read_text() == "0 0\n"  # not dumpable
    log = (out / "log").read_text().splitlines()
    assert [line for line in log if line[-2:] in (" 0", " 1")] == [
        "exe 1",
        "environ 1",
        "write 1",
    ]
    assert sum("Permission denied" in line for line in log) == 2
    assert result.stdout.splitlines() == ["1000 1000", "/bin/busybox"]


def _interpreter(command: list[str]) -> str:
    """Return the Python that runs the pyrunc command under test."""
    program = shutil.which(command[0]) or command[0]
    if os.path.basename(program).startswith("python"):
        return program
    with open(program, "rb") as script:
        first = script.readline()
    if not first.startswith(b"#!") or b"python" not in first:
        pytest.skip(f"{program} is not a Python program")
    return first[2:].decode().split()[0]


def _module_path(interpreter: str) -> str:
    """Return the sys.path that finds the pyrunc under test and its libraries."""
    code = (
        "import os, sys, pyrunc; print(os.pathsep.join("
        "[os.path.dirname(os.path.dirname(pyrunc.__file__)), *filter(None, sys.path)]))"
    )
    found = subprocess.run(
        [interpreter, "-c", code], capture_output=True, text=True, check=True
    )
    return found.stdout.strip()


@pytest.fixture
def decoy_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root_only: None
) -> Iterator[tuple[Runtime, Path]]:
    """pyrunc run by a copy of its interpreter in the test's directory.

    The container's init is a clone of that copy until it executes, so the
    copy is what an attack through /proc/PID/exe would overwrite.
    """
    interpreter = _interpreter(pyrunc_command())
    monkeypatch.setenv("PYTHONPATH", _module_path(interpreter))
    copy = tmp_path / "decoy-python"
    shutil.copy2(os.path.realpath(interpreter), copy)
    runtime = Runtime("pyrunc-decoy", [str(copy), "-m", "pyrunc"], tmp_path / "decoy")
    yield runtime, copy
    runtime.cleanup()


ATTACKER = """
while [ ! -e /shared/victim-pid ]; do sleep 0.02; done
v=$(cat /shared/victim-pid)
readlink /proc/$v/exe > /shared/readlink 2>&1
{
    echo opened >> /shared/log
    while [ ! -e /shared/runtime-gone ]; do sleep 0.02; done
    echo pwned > /proc/self/fd/3 && echo wrote >> /shared/log
} 2>> /shared/log 3< /proc/$v/exe
echo "hold $?" >> /shared/log
while [ ! -e /shared/runtime-gone ]; do sleep 0.02; done
readlink /proc/$v/exe > /shared/control 2>&1
touch /shared/done
sleep 600
"""


def _pid_in_namespace(host_pid: int) -> int:
    for line in Path(f"/proc/{host_pid}/status").read_text().splitlines():
        if line.startswith("NSpid:"):
            return int(line.split()[-1])
    raise AssertionError(f"no NSpid line for {host_pid}")


def _wait_for_text(path: Path, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            break
        time.sleep(0.02)
    return path.read_text() if path.exists() else ""


def test_cve_2019_5736_shared_pid_namespace_cannot_overwrite_the_runtime(
    decoy_runtime: tuple[Runtime, Path],
    make_bundle: Callable[[str], Bundle],
    tmp_path: Path,
) -> None:
    """A container sharing its pid namespace with a new container's init holds the
    init's /proc/PID/exe open, and writes through it once the runtime has exited:
    the init must refuse the open, and the interpreter must stay as it was."""
    runtime, interpreter = decoy_runtime
    before = hashlib.sha256(interpreter.read_bytes()).hexdigest()
    shared = tmp_path / "shared"
    shared.mkdir()

    attacker = bind_mount(make_bundle("attacker"), shared, "/shared")
    attacker.shell(ATTACKER)
    path = attacker.write("attacker")
    result = detached(runtime, "run", "-d", "--bundle", str(path), "attacker")
    assert result.returncode == 0, result.stderr
    attacker_pid = runtime.state("attacker")["pid"]

    victim = bind_mount(make_bundle("victim"), shared, "/shared")
    victim.config["linux"]["namespaces"] = [
        {"type": "pid", "path": f"/proc/{attacker_pid}/ns/pid"}
        if ns["type"] == "pid"
        else ns
        for ns in victim.config["linux"]["namespaces"]
    ]
    victim.set_args("sleep", "600")
    result = create(runtime, victim, "victim")
    assert result.returncode == 0, result.stderr
    try:
        _attack(runtime, shared, runtime.state("victim")["pid"])
    finally:
        _delete_victim_first(runtime)
    assert hashlib.sha256(interpreter.read_bytes()).hexdigest() == before


def _delete_victim_first(runtime: Runtime) -> None:
    """Delete the victim, reap its init (ours once its runtime exited), then the
    attacker: the attacker's init, the pid namespace's, waits for the others."""
    pid = runtime.state("victim")["pid"]
    runtime("delete", "--force", "victim")
    deadline = time.monotonic() + 5
    with contextlib.suppress(ChildProcessError):
        while pid and os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
    runtime("delete", "--force", "attacker")


def _attack(runtime: Runtime, shared: Path, victim_host_pid: int) -> None:
    victim_pid = _pid_in_namespace(victim_host_pid)
    (shared / "victim-pid.tmp").write_text(f"{victim_pid}\n")
    (shared / "victim-pid.tmp").rename(shared / "victim-pid")
    log = _wait_for_text(shared / "log", "hold")
    assert "opened" not in log, "the attacker opened the waiting init's executable"

    started = runtime("start", "victim")
    assert started.returncode == 0, started.stderr
    (shared / "runtime-gone").touch()
    assert wait_for_file(shared / "done", 10), "the attacker did not finish"

    log = (shared / "log").read_text()
    assert "hold 1" in log
    assert "Permission denied" in log
    assert "wrote" not in log
    assert (shared / "readlink").read_text() == ""
    assert (shared / "control").read_text() == "/bin/busybox\n"


def _namespace(pid: int, kind: str) -> str:
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def test_cve_2019_5736_no_runtime_process_stays_in_the_container(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    """After start, every process in the container's namespaces runs its rootfs's
    busybox: no copy of the runtime (init or hook) is left there."""
    true_hook = {"path": "/bin/true", "args": ["true"]}
    bundle.config["hooks"] = {
        "createContainer": [{"path": f"{bundle.rootfs}/bin/busybox", "args": ["true"]}],
        "startContainer": [true_hook],
        "poststart": [true_hook],
    }
    bundle.shell("sleep 600 & sleep 600")
    path = bundle.write("resident")
    result = detached(pyrunc, "run", "-d", "--bundle", str(path), "resident")
    assert result.returncode == 0, result.stderr
    init = pyrunc.state("resident")["pid"]
    time.sleep(0.2)  # let the shell fork its children
    busybox = os.stat(bundle.rootfs / "bin" / "busybox")
    inside = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if _namespace(int(entry), "pid") == _namespace(init, "pid"):
                exe = os.stat(f"/proc/{entry}/exe")
                inside[int(entry)] = os.path.samestat(exe, busybox)
        except OSError:
            continue  # gone meanwhile
    assert init in inside
    assert len(inside) >= 2, inside  # the init and its background sleep
    assert all(inside.values()), f"not the rootfs's busybox: {inside}"


# ---- CVE-2019-19921, CVE-2023-27561, CVE-2023-28642: /proc as a symlink ----------


@pytest.mark.parametrize("where", ["in-root", "relative", "host", "dotdot"])
@pytest.mark.parametrize("kernel_fs", ["proc", "sys"])
def test_proc_or_sys_symlink_is_refused(
    pyrunc: Runtime, bundle: Bundle, outside: Path, where: str, kernel_fs: str
) -> None:
    """proc and sysfs are never mounted through a symlink of the rootfs; the masks
    and read-only paths meant for them thus never land on another target."""
    target = {
        "in-root": f"/fake{kernel_fs}",
        "relative": f"fake{kernel_fs}",
        "host": str(outside),
        "dotdot": "../../../../../../../.." + str(outside),
    }[where]
    (bundle.rootfs / kernel_fs).rmdir()
    (bundle.rootfs / kernel_fs).symlink_to(target)
    bundle.set_args("true")
    result = create(pyrunc, bundle, "linked")
    assert_refused(pyrunc, bundle, "linked", result, f"/{kernel_fs}", "symbolic link")
    assert_outside_untouched(outside)
    assert not (bundle.rootfs / f"fake{kernel_fs}").exists()


@pytest.mark.runc
def test_proc_symlink_is_refused_by_runc_too(runc: Runtime, bundle: Bundle) -> None:
    (bundle.rootfs / "proc").rmdir()
    (bundle.rootfs / "proc").symlink_to("/fakeproc")
    bundle.set_args("true")
    result = runc.run(bundle, "linked")
    assert result.returncode == 1
    assert "must be mounted on ordinary directory" in result.stderr


def test_proc_symlink_into_a_volume_touches_nothing(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    """/proc leads into a host volume mounted after it: neither proc nor the masks,
    read-only paths and sysctl writes that follow may reach the volume's files."""
    volume = tmp_path / "volume"
    fake = {
        name: Decoy(volume / "fakeproc" / name)
        for name in ("keys", "kcore", "sys/net/ipv4/ip_forward", "sys/kernel/x")
    }
    (bundle.rootfs / "proc").rmdir()
    (bundle.rootfs / "proc").symlink_to("/data/fakeproc")
    bind_mount(bundle, volume, "/data")
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    bundle.config["process"]["oomScoreAdj"] = 100
    bundle.set_args("true")
    result = create(pyrunc, bundle, "volume")
    assert_refused(pyrunc, bundle, "volume", result, "/proc")
    for file in fake.values():
        file.assert_untouched()
    assert sorted(p.name for p in volume.iterdir()) == ["fakeproc"]


# ---- CVE-2021-30465, CVE-2024-45310: mount destinations made of symlinks ---------
# (test_rootfs.py covers one symlink to "/.." or to an absolute host path)


@pytest.fixture
def linked_rootfs(bundle: Bundle, outside: Path, tmp_path: Path) -> Bundle:
    """A rootfs of symlink chains that lead "out", and a host volume holding more."""
    root = bundle.rootfs
    (root / "l1").symlink_to("l2")
    (root / "l2").symlink_to("sub/l3")
    (root / "sub").mkdir()
    (root / "sub" / "l3").symlink_to("../../../..")
    (root / "abs").symlink_to("/l1" + str(outside))
    (root / "dots").symlink_to("sub/../sub/../../../" + str(outside).lstrip("/"))
    (root / "dangling").symlink_to(str(outside) + "/made/by/mkdir")
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "up").symlink_to("../../../../../../../.." + str(outside))
    (volume / "loose").symlink_to(str(outside) + "/loose-file")
    (tmp_path / "source-file").write_text("bound file\n")
    return bundle


def test_mount_destinations_through_symlink_chains_stay_inside(
    pyrunc: Runtime, linked_rootfs: Bundle, outside: Path, tmp_path: Path
) -> None:
    volume = tmp_path / "volume"
    source = str(tmp_path / "source-file")
    mounts = [
        ("/l1" + str(outside) + "/chain", "tmpfs", "tmpfs", []),
        ("/abs/absolute", "tmpfs", "tmpfs", []),
        ("/dots/dotted/file", "bind", source, ["bind"]),
        ("/dangling/deeper", "tmpfs", "tmpfs", []),
        ("/vol", "bind", str(volume), ["rbind"]),
        ("/vol/up/through-volume", "tmpfs", "tmpfs", []),
    ]
    for destination, kind, src, options in mounts:
        linked_rootfs.config["mounts"].append(
            {"destination": destination, "type": kind, "source": src}
            | ({"options": options} if options else {})
        )
    linked_rootfs.shell(
        f"cd {outside} && find . | sort; cat dotted/file;"
        f" grep -c ' {outside}/' /proc/self/mountinfo"
    )
    result = run_bounded(pyrunc, linked_rootfs, "chains")
    assert_outside_untouched(outside)
    assert sorted(p.name for p in volume.iterdir()) == ["loose", "up"]
    assert result.returncode == 0, result.stderr
    listing, _, tail = result.stdout.partition("bound file\n")
    assert listing.split() == [
        ".",
        "./absolute",
        "./chain",
        "./dotted",
        "./dotted/file",
        "./made",
        "./made/by",
        "./made/by/mkdir",
        "./made/by/mkdir/deeper",
        "./through-volume",
    ]
    assert tail == "5\n"
    inside = linked_rootfs.rootfs / str(outside).lstrip("/")
    assert (inside / "chain").is_dir() and (inside / "dotted" / "file").is_file()


def test_file_mount_on_a_dangling_symlink_in_a_volume(
    pyrunc: Runtime, linked_rootfs: Bundle, outside: Path, tmp_path: Path
) -> None:
    """The host volume's "loose" leads nowhere: the file a bind mount needs is made
    inside the rootfs, or the mount is refused; never on the host."""
    volume = tmp_path / "volume"
    bind_mount(linked_rootfs, volume, "/vol")
    linked_rootfs.config["mounts"].append(
        {
            "destination": "/vol/loose",
            "type": "bind",
            "source": str(tmp_path / "source-file"),
            "options": ["bind"],
        }
    )
    linked_rootfs.shell("cat /vol/loose")
    result = run_bounded(pyrunc, linked_rootfs, "loose")
    assert_outside_untouched(outside)
    assert sorted(p.name for p in volume.iterdir()) == ["loose", "up"]
    if result.returncode != 0:
        assert_refused(pyrunc, linked_rootfs, "loose", result, "/vol/loose")
    else:
        assert result.stdout == "bound file\n"


@pytest.mark.runc
def test_mount_destinations_through_symlink_chains_match_runc(
    pyrunc: Runtime,
    runc: Runtime,
    make_bundle: Callable[[str], Bundle],
    outside: Path,
    tmp_path: Path,
) -> None:
    found = {}
    for runtime in (pyrunc, runc):
        bundle = make_bundle(runtime.name)
        root = bundle.rootfs
        (root / "l1").symlink_to("l2")
        (root / "l2").symlink_to("sub/l3")
        (root / "sub").mkdir()
        (root / "sub" / "l3").symlink_to("../../../..")
        bundle.config["mounts"].append(
            {"destination": "/l1" + str(outside), "type": "tmpfs", "source": "tmpfs"}
        )
        bundle.shell(f"grep -o ' {outside} ' /proc/self/mountinfo")
        result = run_bounded(runtime, bundle, "chains")
        found[runtime.name] = (result.returncode, result.stdout)
        assert_outside_untouched(outside)
    assert found["pyrunc"] == found["runc"] == (0, f" {outside} \n")


# ---- CVE-2024-21626: a working directory among the runtime's open files ----------


@pytest.mark.parametrize("number", range(3, 13))
def test_cve_2024_21626_cwd_through_proc_self_fd(
    pyrunc: Runtime, bundle: Bundle, number: int
) -> None:
    """Either create refuses the cwd, or the process's cwd is in its own root."""
    bundle.config["process"]["cwd"] = f"/proc/self/fd/{number}"
    bundle.config["hooks"] = {
        "createContainer": [{"path": f"{bundle.rootfs}/bin/busybox", "args": ["true"]}]
    }
    bundle.shell("pwd; ls ..")
    result = pyrunc.run(bundle, "cwdfd")
    if result.returncode != 0:
        assert_refused(
            pyrunc, bundle, "cwdfd", result, "cwd", f"/proc/self/fd/{number}"
        )
        return
    cwd, *listing = result.stdout.splitlines()
    assert (bundle.rootfs / cwd.lstrip("/")).is_dir()
    assert listing == sorted(os.listdir(bundle.rootfs / cwd.lstrip("/") / ".."))


@pytest.mark.parametrize(
    "cwd",
    ["/proc/self/cwd", "/proc/1/cwd", "/proc/self/root/..", "/link/sub", "/link2"],
)
def test_cve_2024_21626_cwd_through_other_proc_links(
    pyrunc: Runtime, bundle: Bundle, cwd: str
) -> None:
    (bundle.rootfs / "link").symlink_to("/proc/self/fd/5")
    (bundle.rootfs / "link2").symlink_to("/proc/1/root/../../..")
    bundle.config["process"]["cwd"] = cwd
    bundle.shell("pwd")
    result = pyrunc.run(bundle, "cwdlink")
    if result.returncode != 0:
        assert_refused(pyrunc, bundle, "cwdlink", result, "cwd")
        return
    assert (bundle.rootfs / result.stdout.strip().lstrip("/")).is_dir()


def test_cve_2024_21626_process_gets_no_host_file(
    pyrunc: Runtime, bundle: Bundle
) -> None:
    """Only stdio reaches the process: pipes from the test, nothing of the host."""
    bundle.config["hooks"] = {
        "createContainer": [{"path": f"{bundle.rootfs}/bin/busybox", "args": ["true"]}],
        "startContainer": [{"path": "/bin/true", "args": ["true"]}],
    }
    bundle.set_args("ls", "-l", "/proc/self/fd")
    result = pyrunc.run(bundle, "fds")
    assert result.returncode == 0, result.stderr
    links = dict(
        line.split()[-3::2] for line in result.stdout.splitlines() if " -> " in line
    )
    assert sorted(links) == ["0", "1", "2"]
    assert links["0"] in (os.readlink("/proc/self/fd/0"), "/dev/null")
    assert links["1"].startswith("pipe:[") and links["2"].startswith("pipe:[")


def test_cve_2024_21626_waiting_init_holds_no_directory(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    """Before execve the init keeps only the files it needs: none is a directory
    that a cwd or a later process could use to reach the host."""
    out = tmp_path / "probe"
    out.mkdir()
    bind_mount(bundle, out, "/probe")
    script = (
        "cd /proc/1/fd && for fd in *; do"
        ' if [ -d "$fd" ]; then echo "$fd $(readlink $fd)"; fi; done > /probe/dirs;'
        " ls /proc/1/fd > /probe/all"
    )
    bundle.config["hooks"] = {
        "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", script]}]
    }
    bundle.set_args("true")
    result = pyrunc.run(bundle, "held")
    assert result.returncode == 0, result.stderr
    assert (out / "all").read_text().split()  # the probe did read the fds
    assert (out / "dirs").read_text() == ""


# ---- CVE-2025-31133: /dev/null replaced before masking -------------------------


@pytest.mark.parametrize("target", ["/secret", "/vol/decoy"])
def test_cve_2025_31133_dev_null_symlink_is_not_bound_over_masks(
    pyrunc: Runtime, bundle: Bundle, decoy: Decoy, target: str
) -> None:
    """The rootfs's own /dev/null links to a file of its choosing: masking must not
    bind that file, writable, over a masked path."""
    drop_dev_mounts(bundle)
    secret = Decoy(bundle.rootfs / "secret", "rootfs secret\n")
    (bundle.rootfs / "masked").write_text("to be masked\n")
    (bundle.rootfs / "dev" / "null").symlink_to(target)
    bind_mount(bundle, decoy.path.parent, "/vol")
    bundle.config["linux"]["maskedPaths"] = ["/masked"]
    bundle.shell("cat /masked; echo written > /masked")
    result = run_bounded(pyrunc, bundle, "nullmask")
    decoy.assert_untouched()
    secret.assert_untouched()
    if result.returncode == 0:
        assert result.stdout == ""
        assert (bundle.rootfs / "masked").read_text() == "to be masked\n"
    else:
        # refused when /dev/null is made (not a null device) or when masking
        assert_refused(pyrunc, bundle, "nullmask", result, "/")
        assert (
            "/dev/null: file exists" in result.stderr or "mask /masked" in result.stderr
        )


def test_masking_with_a_real_dev_null(pyrunc: Runtime, bundle: Bundle) -> None:
    """The control: a rootfs /dev/null that is the null device masks as it should."""
    drop_dev_mounts(bundle)
    make_dev_null(bundle)
    (bundle.rootfs / "masked").write_text("to be masked\n")
    bundle.config["linux"]["maskedPaths"] = ["/masked"]
    bundle.shell("cat /masked; echo written > /masked; echo done")
    result = run_bounded(pyrunc, bundle, "realnull")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert (bundle.rootfs / "masked").read_text() == "to be masked\n"


# ---- CVE-2025-52565: /dev/console as a symlink -----------------------------------


class ConsoleReceiver:
    """A --console-socket server that takes the pty master and reads all of it."""

    def __init__(self, path: Path) -> None:
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(1)
        self.server.settimeout(20)
        self.output = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        with conn:
            _, fds, _, _ = socket.recv_fds(conn, 1024, 1)
        for fd in fds[1:]:
            os.close(fd)
        try:
            while chunk := os.read(fds[0], 4096):
                self.output += chunk
        except OSError:  # EIO once the last slave fd is closed
            pass
        finally:
            os.close(fds[0])

    def close(self) -> bytes:
        self.thread.join(20)
        self.server.close()
        return self.output


@pytest.fixture
def console_socket(tmp_path: Path) -> Iterator[tuple[Path, list[ConsoleReceiver]]]:
    path = tmp_path / "console.sock"
    started: list[ConsoleReceiver] = []
    yield path, started
    for receiver in started:
        receiver.close()


def console_bundle(bundle: Bundle) -> Bundle:
    """A terminal process on the rootfs's own /dev, with devpts for the pty."""
    drop_dev_mounts(bundle)
    make_dev_null(bundle)
    (bundle.rootfs / "dev" / "pts").mkdir()
    (bundle.rootfs / "dev" / "ptmx").symlink_to("pts/ptmx")
    bundle.config["mounts"].append(
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666"],
        }
    )
    bundle.config["process"]["terminal"] = True
    return bundle


@pytest.mark.parametrize("target", ["/vol/decoy", "/secret"])
def test_cve_2025_52565_console_symlink_is_not_followed(
    pyrunc: Runtime,
    bundle: Bundle,
    decoy: Decoy,
    console_socket: tuple[Path, list[ConsoleReceiver]],
    target: str,
) -> None:
    path, receivers = console_socket
    console_bundle(bundle)
    secret = Decoy(bundle.rootfs / "secret", "rootfs secret\n")
    (bundle.rootfs / "dev" / "console").symlink_to(target)
    bind_mount(bundle, decoy.path.parent, "/vol")
    bundle.shell(
        "grep -c console /proc/self/mountinfo; echo via-console > /dev/console"
    )
    receivers.append(ConsoleReceiver(path))
    config = bundle.write("console")
    result = detached(
        pyrunc, "run", "--bundle", str(config), "--console-socket", str(path), "console"
    )
    output = receivers[0].close()
    decoy.assert_untouched()
    secret.assert_untouched()
    if result.returncode == 0:
        assert b"via-console" not in output
    else:
        assert_refused(pyrunc, bundle, "console", result, "console")


def test_console_on_a_regular_file(
    pyrunc: Runtime,
    bundle: Bundle,
    console_socket: tuple[Path, list[ConsoleReceiver]],
) -> None:
    """The control: a plain /dev/console file gets the pty bound over it."""
    path, receivers = console_socket
    console_bundle(bundle)
    (bundle.rootfs / "dev" / "console").write_text("")
    bundle.shell("tty; grep -c ' /dev/console ' /proc/self/mountinfo")
    receivers.append(ConsoleReceiver(path))
    config = bundle.write("console")
    result = detached(
        pyrunc, "run", "--bundle", str(config), "--console-socket", str(path), "console"
    )
    output = receivers[0].close()
    assert result.returncode == 0, result.stderr
    assert output.replace(b"\r", b"").split() == [b"/dev/pts/0", b"1"]
    assert (bundle.rootfs / "dev" / "console").read_text() == ""


# ---- CVE-2025-52881: procfs writes redirected ------------------------------------


def sysctl(bundle: Bundle) -> Bundle:
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    return bundle.shell("cat /proc/sys/net/ipv4/ip_forward")


def test_sysctl_write_reaches_the_kernel(pyrunc: Runtime, bundle: Bundle) -> None:
    """The control: with /proc as it should be, the write is the kernel's."""
    result = run_bounded(pyrunc, sysctl(bundle), "sysctl")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1\n"


def test_cve_2025_52881_sysctl_into_a_file_mounted_over_proc(
    pyrunc: Runtime, bundle: Bundle, decoy: Decoy
) -> None:
    """A mount over the sysctl's file (runc refuses mounts inside /proc)."""
    sysctl(bundle).config["mounts"].append(
        {
            "destination": "/proc/sys/net/ipv4/ip_forward",
            "type": "bind",
            "source": str(decoy.path),
            "options": ["bind"],
        }
    )
    result = create(pyrunc, bundle, "overproc")
    decoy.assert_untouched()
    assert_refused(pyrunc, bundle, "overproc", result, "sysctl net.ipv4.ip_forward")


def test_cve_2025_52881_sysctl_into_a_volume_steered_by_a_symlink(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    """The rootfs's /data leads into /proc/sys: the config's volume for /data lands
    there, and the sysctl write would go to the volume's file."""
    volume = tmp_path / "volume"
    target = Decoy(volume / "ip_forward")
    (bundle.rootfs / "data").symlink_to("/proc/sys/net/ipv4")
    bind_mount(sysctl(bundle), volume, "/data")
    result = create(pyrunc, bundle, "steered")
    target.assert_untouched()
    assert_refused(pyrunc, bundle, "steered", result, "sysctl net.ipv4.ip_forward")


def volume_as_proc(bundle: Bundle, volume: Path) -> dict[str, Decoy]:
    """Mount a host volume at /proc in place of procfs; return its decoy files."""
    fake = {
        name: Decoy(volume / name)
        for name in ("self/oom_score_adj", "sys/net/ipv4/ip_forward", "keys")
    }
    bundle.config["mounts"] = [
        m for m in bundle.config["mounts"] if m["destination"] != "/proc"
    ]
    bind_mount(bundle, volume, "/proc")
    # masks and read-only paths need a procfs at /proc: none is asked for here
    bundle.config["linux"]["maskedPaths"] = []
    bundle.config["linux"]["readonlyPaths"] = []
    return fake


def test_cve_2025_52881_sysctl_into_a_volume_mounted_as_proc(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    fake = volume_as_proc(sysctl(bundle), tmp_path / "volume")
    result = create(pyrunc, bundle, "fakeproc")
    for file in fake.values():
        file.assert_untouched()
    assert_refused(pyrunc, bundle, "fakeproc", result, "sysctl net.ipv4.ip_forward")


def test_cve_2025_52881_oom_score_adj_goes_through_the_hosts_proc(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    """oomScoreAdj is written by the runtime in the host's /proc, whatever the
    container mounts at its own."""
    fake = volume_as_proc(bundle, tmp_path / "volume")
    bundle.config["process"]["oomScoreAdj"] = 123
    bundle.set_args("sleep", "600")
    path = bundle.write("oom")
    result = detached(pyrunc, "run", "-d", "--bundle", str(path), "oom")
    assert result.returncode == 0, result.stderr
    pid = pyrunc.state("oom")["pid"]
    assert Path(f"/proc/{pid}/oom_score_adj").read_text() == "123\n"
    for file in fake.values():
        file.assert_untouched()


# ---- /dev entries that are symlinks, and bind sources that leave the bundle ------


@pytest.fixture
def host_device(tmp_path: Path) -> Decoy:
    """A host file standing in for a disk device: /dev/sda of the host."""
    return Decoy(tmp_path / "host" / "sda")


def linked_devices(bundle: Bundle, host_device: Decoy) -> tuple[Bundle, Decoy]:
    """A rootfs /dev of symlinks: to a decoy disk in the rootfs, and to the host's."""
    drop_dev_mounts(bundle)
    rootfs_disk = Decoy(bundle.rootfs / "dev" / "sda-decoy", "rootfs disk\n")
    (bundle.rootfs / "dev" / "null").symlink_to("/dev/sda-decoy")
    (bundle.rootfs / "dev" / "zero").symlink_to(str(host_device.path))
    (bundle.rootfs / "dev" / "full").symlink_to(
        "../../../../../.." + str(host_device.path)
    )
    bundle.shell("echo from-container > /dev/zero; echo from-container > /dev/full")
    return bundle, rootfs_disk


def test_dev_symlinks_reach_no_host_device(
    pyrunc: Runtime, bundle: Bundle, host_device: Decoy
) -> None:
    linked, rootfs_disk = linked_devices(bundle, host_device)
    result = run_bounded(pyrunc, linked, "devlinks")
    host_device.assert_untouched()
    rootfs_disk.assert_untouched()
    if result.returncode != 0:  # /dev/null is no null device: refused
        assert_refused(pyrunc, linked, "devlinks", result, "/dev/")


@pytest.mark.runc
def test_dev_symlinks_reach_no_host_device_in_runc(
    runc: Runtime, bundle: Bundle, host_device: Decoy
) -> None:
    """The reference: runc, too, keeps the container's writes inside the rootfs."""
    linked, _ = linked_devices(bundle, host_device)
    run_bounded(runc, linked, "devlinks")
    host_device.assert_untouched()


def device_over_symlink(bundle: Bundle, host_device: Decoy) -> Bundle:
    """linux.devices names a path the rootfs made a symlink to the host's disk."""
    (bundle.rootfs / "opt").mkdir()
    (bundle.rootfs / "opt" / "null").symlink_to(str(host_device.path))
    bundle.config["linux"]["devices"] = [
        {"path": "/opt/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666}
    ]
    return bundle.shell("echo from-container > /opt/null")


def test_device_node_over_a_symlink_leaves_the_host_alone(
    pyrunc: Runtime, bundle: Bundle, host_device: Decoy
) -> None:
    """Creating the node before pivot_root must neither chmod nor chown through the
    symlink: an absolute one leads to the host."""
    device_over_symlink(bundle, host_device)
    result = run_bounded(pyrunc, bundle, "devnode")
    host_device.assert_untouched()
    if result.returncode != 0:
        assert_refused(pyrunc, bundle, "devnode", result, "/opt/null")


@pytest.mark.runc
def test_device_node_over_a_symlink_in_runc(
    runc: Runtime, bundle: Bundle, host_device: Decoy
) -> None:
    """The reference: runc makes the node at the symlink's target inside the rootfs."""
    device_over_symlink(bundle, host_device)
    result = run_bounded(runc, bundle, "devnode")
    assert result.returncode == 0, result.stderr
    host_device.assert_untouched()
    inside = bundle.rootfs / str(host_device.path).lstrip("/")
    assert stat.S_ISCHR(os.lstat(inside).st_mode)


def bind_from_symlinks(bundle: Bundle, tmp_path: Path) -> Bundle:
    """Bind sources that are symlinks in the bundle, leading out of it."""
    elsewhere = tmp_path / "elsewhere"
    if not elsewhere.exists():
        elsewhere.mkdir()
        (elsewhere / "f").write_text("outside the bundle\n")
    (bundle.path / "absolute-link").symlink_to(elsewhere)
    (bundle.path / "relative-link").symlink_to("../elsewhere")
    for destination, source in (
        ("/a", "absolute-link"),
        ("/b", "relative-link"),
        ("/c", str(bundle.path / "absolute-link")),
    ):
        bundle.config["mounts"].append(
            {
                "destination": destination,
                "type": "bind",
                "source": source,
                "options": ["rbind"],
            }
        )
    return bundle.shell(
        "cat /a/f /b/f /c/f;"
        " grep -E ' /(a|b|c) ' /proc/self/mountinfo | cut -d' ' -f4,5"
    )


def test_bind_source_symlink_is_followed_on_the_host(
    pyrunc: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    """A bind source is the host's path: its symlinks are the host's to follow."""
    result = run_bounded(pyrunc, bind_from_symlinks(bundle, tmp_path), "bindlink")
    assert result.returncode == 0, result.stderr
    elsewhere = tmp_path / "elsewhere"
    assert result.stdout.splitlines() == ["outside the bundle"] * 3 + [
        f"{elsewhere} /{name}" for name in "abc"
    ]


@pytest.mark.runc
def test_bind_source_symlink_matches_runc(
    pyrunc: Runtime,
    runc: Runtime,
    make_bundle: Callable[[str], Bundle],
    tmp_path: Path,
) -> None:
    found = {}
    for runtime in (pyrunc, runc):
        bundle = bind_from_symlinks(make_bundle(runtime.name), tmp_path)
        result = run_bounded(runtime, bundle, "bindlink")
        found[runtime.name] = (result.returncode, result.stdout)
    assert found["pyrunc"] == found["runc"]
