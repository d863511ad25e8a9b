"""config-linux.md Namespaces and User namespace mappings.

A container prints `readlink /proc/self/ns/NAME`; a new namespace is one
that differs from the suite's own, a joined one is the namespace bound to
the file the suite made with unshare.
"""

from __future__ import annotations

import re
from typing import Any

from conflib import config as configs
from conflib.case import Case, Failure, equal, must_fail, require
from conflib.hostns import KINDS, inode, own_link
from conflib.registry import requirement

SPEC = "config-linux.md"
NS_LINK = re.compile(r"^[a-z_]+:\[(\d+)\]$")
MAPPING = {"containerID": 0, "hostID": 100000, "size": 65536}


def userns_config(case: Case, script: str) -> Any:
    """Return a config with a new user namespace mapping 0 to host 100000."""
    config = case.config(script)
    config["mounts"] = [
        configs.mount("/proc", "proc", "proc"),
        configs.mount("/dev", "tmpfs", "tmpfs", "nosuid", "mode=755"),
        configs.bind(str(case.out), "/out"),
    ]
    configs.set_namespace(config, "user")
    config["linux"]["uidMappings"] = [dict(MAPPING)]
    config["linux"]["gidMappings"] = [dict(MAPPING)]
    return config


def _joined_config(case: Case, kind: str, script: str) -> tuple[Any, str]:
    # for user, the mappings repeat those of the joined namespace, for
    # runtimes that want them; nothing may be written to it
    config = userns_config(case, script) if kind == "user" else case.config(script)
    path = str(case.namespaces.make(kind))
    configs.set_namespace(config, kind, path)
    return config, path


def _link(case: Case, config: Any, name: str) -> str:
    config["process"]["args"] = ["readlink", f"/proc/self/ns/{name}"]
    return case.output(config).strip()


def _new_check(kind: str) -> None:
    name = KINDS[kind][1]

    @requirement(
        SPEC, "Namespaces", f"{kind} without path: a new namespace MUST be made"
    )
    def check(case: Case) -> None:
        if kind == "user":
            config = userns_config(case, "")
        else:
            config = case.config()
            configs.set_namespace(config, kind)
        link = _link(case, config, name)
        require(NS_LINK.match(link) is not None, f"readlink printed {link!r}")
        require(link != own_link(name), f"container is in the runtime's {name}: {link}")


def _joined_check(kind: str) -> None:
    name = KINDS[kind][1]

    @requirement(SPEC, "Namespaces", f"{kind} with path: the process MUST join it")
    def check(case: Case) -> None:
        config, path = _joined_config(case, kind, "")
        expected = inode(path)
        match = NS_LINK.match(_link(case, config, name))
        if match is None:
            raise Failure(f"cannot read the container's {name} namespace")
        equal(int(match.group(1)), expected, f"{name} namespace inode")


for _kind in KINDS:
    _new_check(_kind)
for _kind in KINDS:
    _joined_check(_kind)


@requirement(SPEC, "Namespaces", "a path of another namespace type MUST fail")
def wrong_type_path(case: Case) -> None:
    config = case.config()
    configs.set_namespace(config, "network", str(case.namespaces.make("uts")))
    must_fail(case.run(config), "run with a uts namespace as network path")


@requirement(SPEC, "Namespaces", "duplicated namespace types MUST fail")
def duplicated_types(case: Case) -> None:
    config = case.config()
    config["linux"]["namespaces"].append({"type": "uts"})
    must_fail(case.run(config), "run with uts listed twice")


@requirement(
    SPEC, "Namespaces", "a type not listed MUST be the runtime's namespace (ipc)"
)
def inherited_type(case: Case) -> None:
    config = case.config()
    configs.drop_namespace(config, "ipc")
    equal(_link(case, config, "ipc"), own_link("ipc"), "ipc namespace")


def _map(case: Case, file: str) -> list[list[int]]:
    text = case.output(userns_config(case, f"cat /proc/self/{file}"))
    return [[int(word) for word in line.split()] for line in text.splitlines()]


@requirement(SPEC, "User namespace mappings", "uidMappings map container to host uids")
def uid_mappings(case: Case) -> None:
    equal(_map(case, "uid_map"), [[0, 100000, 65536]], "/proc/self/uid_map")


@requirement(SPEC, "User namespace mappings", "gidMappings map container to host gids")
def gid_mappings(case: Case) -> None:
    equal(_map(case, "gid_map"), [[0, 100000, 65536]], "/proc/self/gid_map")


@requirement(
    SPEC, "User namespace mappings", "the runtime SHOULD NOT chown the root filesystem"
)
def mappings_keep_ownership(case: Case) -> None:
    container_id = case.new_id()
    rootfs = case.private_rootfs(container_id)
    config = userns_config(case, "true")
    config["root"] = {"path": str(rootfs), "readonly": False}
    result = case.run(config, container_id=container_id)
    require(result.ok, result.describe())
    owners = {
        (path.stat().st_uid, path.stat().st_gid) for path in (rootfs, rootfs / "bin")
    }
    equal(owners, {(0, 0)}, "owners of the root filesystem after the run")
