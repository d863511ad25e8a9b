"""config-linux.md: sysctl, seccomp, propagation, masked and read-only paths.

Also the Mount Label section, whose absence this host can show.
"""

from __future__ import annotations

import os
from typing import Any

from benchlib.mounts import Mount, parse

from conflib import config as configs
from conflib.case import Case, Failure, Skip, equal, require
from conflib.registry import requirement

SPEC = "config-linux.md"
MKDIR_PROBE = "mkdir /out/blocked 2>&1; echo status=$?"


def _root_mount(case: Case, propagation: str) -> Mount:
    config = case.config("cat /proc/self/mountinfo")
    config["linux"]["rootfsPropagation"] = propagation
    for mount in parse(case.output(config)):
        if mount.mountpoint == "/":
            return mount
    raise Failure("no mount at / in the container's mountinfo")


def _seccomp(case: Case, rule: dict[str, Any]) -> str:
    config = case.config(MKDIR_PROBE)
    rule = {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", **rule}
    config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]}
    output = case.output(config)
    require(not (case.out / "blocked").exists(), "mkdir succeeded despite the filter")
    return output


@requirement(
    SPEC, "Sysctl", "sysctl sets kernel parameters (net, in the container's netns)"
)
def sysctl_net(case: Case) -> None:
    config = case.config("cat /proc/sys/net/ipv4/ip_forward")
    config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    equal(case.output(config), "1\n", "net.ipv4.ip_forward")


@requirement(
    SPEC, "Sysctl", "sysctl sets kernel parameters (ipc, in the container's ipcns)"
)
def sysctl_ipc(case: Case) -> None:
    config = case.config("cat /proc/sys/kernel/msgmax")
    config["linux"]["sysctl"] = {"kernel.msgmax": "4242"}
    equal(case.output(config), "4242\n", "kernel.msgmax")


@requirement(SPEC, "Seccomp", "SCMP_ACT_ERRNO fails the syscall with EPERM by default")
def seccomp_errno(case: Case) -> None:
    output = _seccomp(case, {})
    require("Operation not permitted" in output, f"mkdir said {output!r}")


@requirement(SPEC, "Seccomp", "errnoRet is the errno SCMP_ACT_ERRNO returns")
def seccomp_errno_ret(case: Case) -> None:
    output = _seccomp(case, {"errnoRet": 13})
    require("Permission denied" in output, f"mkdir said {output!r}")


@requirement(SPEC, "Rootfs Mount Propagation", "shared: / is in a peer group")
def propagation_shared(case: Case) -> None:
    mount = _root_mount(case, "shared")
    require(any(tag.startswith("shared:") for tag in mount.tags), f"/ is {mount}")


@requirement(SPEC, "Rootfs Mount Propagation", "private: / neither sends nor receives")
def propagation_private(case: Case) -> None:
    mount = _root_mount(case, "private")
    tags = [tag for tag in mount.tags if tag.startswith(("shared:", "master:"))]
    require(not tags, f"/ has propagation {tags}")


@requirement(SPEC, "Rootfs Mount Propagation", "unbindable: / cannot be bind mounted")
def propagation_unbindable(case: Case) -> None:
    mount = _root_mount(case, "unbindable")
    require("unbindable" in mount.tags, f"/ is {mount}")


@requirement(SPEC, "Masked Paths", "a masked file cannot be read (reads nothing)")
def masked_file(case: Case) -> None:
    if not os.path.exists("/proc/timer_list"):
        raise Skip("this kernel has no /proc/timer_list")
    config = case.config("wc -c < /proc/timer_list")
    config["linux"]["maskedPaths"] = ["/proc/timer_list"]
    equal(case.output(config).strip(), "0", "bytes read from /proc/timer_list")


@requirement(SPEC, "Masked Paths", "a masked directory cannot be read (is empty)")
def masked_directory(case: Case) -> None:
    if not os.listdir("/sys/firmware"):
        raise Skip("/sys/firmware is empty on this host")
    config = case.config("ls -A /sys/firmware | wc -l")
    config["linux"]["maskedPaths"] = ["/sys/firmware"]
    equal(case.output(config).strip(), "0", "entries in /sys/firmware")


@requirement(SPEC, "Readonly Paths", "a readonly path is read-only (mount flag)")
def readonly_proc_sys(case: Case) -> None:
    config = case.config("cat /proc/self/mountinfo")
    config["linux"]["readonlyPaths"] = ["/proc/sys"]
    mounts = [m for m in parse(case.output(config)) if m.mountpoint == "/proc/sys"]
    require(bool(mounts) and "ro" in mounts[-1].options, f"/proc/sys mounts: {mounts}")


@requirement(SPEC, "Readonly Paths", "a readonly path cannot be written")
def readonly_write(case: Case) -> None:
    config = case.config(
        "touch /mnt/probe 2>/dev/null && echo writable || echo read-only"
    )
    config["mounts"].append(configs.mount("/mnt", "tmpfs", "tmpfs"))
    config["linux"]["readonlyPaths"] = ["/mnt"]
    equal(case.output(config).strip(), "read-only", "writing to /mnt")


@requirement(
    SPEC, "Mount Label", "without mountLabel no SELinux context is given to mounts"
)
def no_mount_label(case: Case) -> None:
    mounts = parse(case.sh("cat /proc/self/mountinfo"))
    labelled = [
        m.mountpoint
        for m in mounts
        if any(o.startswith("context=") for o in m.super_options)
    ]
    require(not labelled, f"mounts with an SELinux context: {labelled}")
