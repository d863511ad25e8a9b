"""config-linux.md Devices, Default Devices and the Allowed Device list."""

from __future__ import annotations

from typing import Any

from conflib.case import Case, equal, must_fail, require
from conflib.registry import requirement

SPEC = "config-linux.md"
DEFAULTS = {
    "/dev/null": "1:3",
    "/dev/zero": "1:5",
    "/dev/full": "1:7",
    "/dev/random": "1:8",
    "/dev/urandom": "1:9",
    "/dev/tty": "5:0",
}
NODE: dict[str, Any] = {
    "path": "/dev/conformance-node",
    "type": "c",
    "major": 1,
    "minor": 3,
}
# mem minor 12 no longer exists: once the cgroup lets it through, opening it
# fails with ENXIO, while the device cgroup's refusal is EPERM
PROBE: dict[str, Any] = {
    "path": "/dev/conformance-probe",
    "type": "c",
    "major": 1,
    "minor": 12,
}
DENIED = "Operation not permitted"


def _stat(case: Case, device: dict[str, Any], fmt: str) -> str:
    config = case.config(f"stat -c '{fmt}' {device['path']}")
    config["linux"]["devices"] = [device]
    return case.output(config).strip()


def _default_check(path: str, numbers: str) -> None:
    @requirement(SPEC, "Default Devices", f"the runtime MUST supply {path}")
    def check(case: Case) -> None:
        found = case.sh(f"stat -c '%F %t:%T' {path}").strip()
        major, minor = (int(part) for part in numbers.split(":"))
        equal(found, f"character special file {major:x}:{minor:x}", path)


for _path, _numbers in DEFAULTS.items():
    _default_check(_path, _numbers)


@requirement(
    SPEC, "Default Devices", "/dev/ptmx MUST be a bind or symlink of /dev/pts/ptmx"
)
def default_ptmx(case: Case) -> None:
    script = "stat -L -c %d:%i /dev/ptmx /dev/pts/ptmx"
    identities = case.sh(script).split()
    require(
        len(identities) == 2 and identities[0] == identities[1],
        f"/dev/ptmx and /dev/pts/ptmx differ: {identities}",
    )


@requirement(SPEC, "Devices", "a listed device MUST be available (type, major, minor)")
def device_node(case: Case) -> None:
    equal(
        _stat(case, dict(NODE), "%F %t:%T"), "character special file 1:3", NODE["path"]
    )


@requirement(SPEC, "Devices", "fileMode is the device's file mode")
def device_mode(case: Case) -> None:
    equal(_stat(case, dict(NODE, fileMode=0o640), "%a"), "640", "mode")


@requirement(SPEC, "Devices", "uid and gid own the device")
def device_owner(case: Case) -> None:
    equal(_stat(case, dict(NODE, uid=1234, gid=2345), "%u:%g"), "1234:2345", "owner")


@requirement(SPEC, "Devices", "type p makes a FIFO")
def device_fifo(case: Case) -> None:
    fifo = {"path": "/dev/conformance-fifo", "type": "p"}
    equal(_stat(case, fifo, "%F"), "fifo", "file type")


@requirement(SPEC, "Devices", "a file at path that is not the device MUST fail")
def device_mismatch(case: Case) -> None:
    container_id = case.new_id()
    rootfs = case.private_rootfs(container_id)
    config = case.config("true")
    config["root"] = {"path": str(rootfs), "readonly": False}
    config["linux"]["devices"] = [dict(NODE, path="/etc/passwd")]
    must_fail(case.run(config, container_id=container_id), "run")


def _open_probe(case: Case, rules: list[dict[str, Any]]) -> str:
    config = case.config(f"exec 3< {PROBE['path']}; echo opened")
    config["linux"]["devices"] = [dict(PROBE)]
    config["linux"]["resources"]["devices"] = rules
    result = case.run(config)
    return result.stdout + result.stderr


@requirement(SPEC, "Allowed Device list", "an allow entry lets the device be opened")
def device_cgroup_allow(case: Case) -> None:
    rules = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 12, "access": "rw"},
    ]
    output = _open_probe(case, rules)
    require(DENIED not in output, f"the allowed device was refused: {output!r}")


@requirement(
    SPEC, "Allowed Device list", "the runtime MUST apply entries in listed order"
)
def device_cgroup_order(case: Case) -> None:
    rules = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 12, "access": "rw"},
        {"allow": False, "type": "c", "major": 1, "minor": 12, "access": "rw"},
    ]
    output = _open_probe(case, rules)
    require(DENIED in output, f"the device denied last could be opened: {output!r}")
