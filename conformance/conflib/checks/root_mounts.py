"""config.md Root and Mounts."""

from __future__ import annotations

from benchlib.mounts import Mount, parse

from conflib import config as configs
from conflib.case import Case, Failure, equal, must_fail, require
from conflib.config import Config
from conflib.registry import requirement
from conflib.workspace import MARKER

SPEC = "config.md"
WRITE_PROBE = (
    "if touch {0}/probe 2>/dev/null; then echo writable; else echo read-only; fi"
)


def _host_volume(case: Case, name: str = "volume") -> str:
    volume = case.dir / name
    volume.mkdir()
    (volume / "file").write_text("from the host\n")
    return str(volume)


def _mount_of(case: Case, config: Config, point: str) -> Mount | None:
    for mount in parse(case.output(config)):
        if mount.mountpoint == point:
            return mount
    return None


@requirement(SPEC, "Root", "root.path is the container's root filesystem")
def root_path(case: Case) -> None:
    equal(case.sh(f"cat {MARKER}"), "rootfs\n", MARKER)


@requirement(SPEC, "Root", "a relative root.path is relative to the bundle")
def root_relative(case: Case) -> None:
    container_id = case.new_id()
    case.private_rootfs(container_id)
    config = case.config(f"cat {MARKER}")
    config["root"] = {"path": "rootfs", "readonly": True}
    result = case.run(config, container_id=container_id)
    require(result.ok and result.stdout == "rootfs\n", result.describe())


@requirement(SPEC, "Root", "a directory MUST exist at root.path (else an error)")
def root_missing(case: Case) -> None:
    config = case.config()
    config["root"]["path"] = str(case.dir / "no-such-rootfs")
    must_fail(case.run(config), "run with a missing root.path")


@requirement(SPEC, "Root", "readonly true: the root MUST be read-only inside")
def root_readonly(case: Case) -> None:
    equal(case.sh(WRITE_PROBE.format("")).strip(), "read-only", "writing to /")


@requirement(SPEC, "Root", "readonly false: the root is writable inside")
def root_writable(case: Case) -> None:
    container_id = case.new_id()
    rootfs = case.private_rootfs(container_id)
    config = case.config(WRITE_PROBE.format(""))
    config["root"] = {"path": str(rootfs), "readonly": False}
    result = case.run(config, container_id=container_id)
    require(result.ok and result.stdout.strip() == "writable", result.describe())


@requirement(SPEC, "Mounts", "the runtime MUST mount entries in the listed order")
def mounts_in_order(case: Case) -> None:
    config = case.config("cat /mnt/inner/file")
    config["mounts"] += [
        configs.mount("/mnt", "tmpfs", "tmpfs"),
        configs.bind(_host_volume(case), "/mnt/inner"),
    ]
    equal(case.output(config), "from the host\n", "/mnt/inner/file")


@requirement(SPEC, "Mounts", "bind: the source directory is bind mounted")
def mounts_bind(case: Case) -> None:
    config = case.config("cat /data/file")
    config["mounts"].append(configs.bind(_host_volume(case), "/data", "bind"))
    equal(case.output(config), "from the host\n", "/data/file")


@requirement(SPEC, "Mounts", "a bind source relative to the bundle is relative to it")
def mounts_bind_relative(case: Case) -> None:
    container_id = case.new_id()
    volume = case.bundle_dir(container_id) / "volume"
    volume.mkdir(parents=True)
    (volume / "file").write_text("from the bundle\n")
    config = case.config("cat /data/file")
    config["mounts"].append(configs.bind("volume", "/data"))
    result = case.run(config, container_id=container_id)
    require(result.ok and result.stdout == "from the bundle\n", result.describe())


@requirement(SPEC, "Linux mount options", "bind is not recursive")
def mounts_bind_not_recursive(case: Case) -> None:
    volume = _host_volume(case)
    case.mount_tmpfs(case.dir / "volume" / "sub")
    (case.dir / "volume" / "sub" / "file").write_text("submount\n")
    config = case.config("cat /data/sub/file 2>/dev/null || echo absent")
    config["mounts"].append(configs.bind(volume, "/data", "bind"))
    equal(case.output(config), "absent\n", "/data/sub/file from a submount")


@requirement(SPEC, "Linux mount options", "rbind MUST bind mount recursively")
def mounts_rbind(case: Case) -> None:
    volume = _host_volume(case)
    case.mount_tmpfs(case.dir / "volume" / "sub")
    (case.dir / "volume" / "sub" / "file").write_text("submount\n")
    config = case.config("cat /data/sub/file")
    config["mounts"].append(configs.bind(volume, "/data", "rbind"))
    equal(case.output(config), "submount\n", "/data/sub/file from a submount")


@requirement(SPEC, "Linux mount options", "ro MUST make the mount read-only")
def mounts_ro(case: Case) -> None:
    config = case.config(WRITE_PROBE.format("/data"))
    config["mounts"].append(configs.bind(_host_volume(case), "/data", "rbind", "ro"))
    equal(case.output(config).strip(), "read-only", "writing to /data")


@requirement(
    SPEC, "Linux mount options", "nosuid, nodev, noexec MUST apply to the mount"
)
def mounts_flags(case: Case) -> None:
    config = case.config("cat /proc/self/mountinfo")
    config["mounts"].append(
        configs.mount("/mnt", "tmpfs", "tmpfs", "nosuid", "nodev", "noexec")
    )
    mount = _mount_of(case, config, "/mnt")
    if mount is None:
        raise Failure("/mnt is not a mount point")
    flags = {"nosuid", "nodev", "noexec"} - mount.options
    require(not flags, f"/mnt lacks {sorted(flags)}: {mount}")


@requirement(
    SPEC, "Linux mount options", "unknown options SHOULD go to mount(2) as data"
)
def mounts_data(case: Case) -> None:
    config = case.config("df -k /mnt | tail -n 1")
    config["mounts"].append(configs.mount("/mnt", "tmpfs", "tmpfs", "size=1m"))
    size = case.output(config).split()[1:2]
    equal(size, ["1024"], "KiB of a tmpfs mounted with size=1m")
