"""cgroup v2 device rules: an eBPF program made from the rules, attached to the cgroup.

v2 has no devices.allow and devices.deny; a BPF_PROG_TYPE_CGROUP_DEVICE
program attached to the cgroup decides every open and mknod of a device node
(cgroup-v2.rst, "Device controller"). The program built here checks the rules
from the last to the first and the first that matches decides, so a later
rule overrides an earlier one; a device no rule matches is denied, as after
v1's opening "deny all". An allow rule matches an access it fully covers, a
deny rule one it touches at all.

The two bpf(2) calls go through ctypes: only a v2 `create` makes them.
"""

from __future__ import annotations

import ctypes
import os
import struct

from pyrunc.cgroups import reason
from pyrunc.cgroups.resources import DEFAULT_DEVICE_RULES, v1_device_writes
from pyrunc.errors import CgroupError, NotSupportedError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_BPF_SYSCALL = {"x86_64": 321, "aarch64": 280, "ppc64le": 361, "s390x": 351}
_BPF_PROG_LOAD = 5
_BPF_PROG_ATTACH = 8
_BPF_PROG_TYPE_CGROUP_DEVICE = 15
_BPF_CGROUP_DEVICE = 6
_BPF_F_ALLOW_MULTI = 2

# struct bpf_cgroup_dev_ctx: access_type (device type | access << 16), major, minor
_DEV_TYPES = {"c": 2, "b": 1}
_ACCESS_BITS = {"m": 1, "r": 2, "w": 4}

# instruction codes (linux/bpf.h, linux/bpf_common.h)
_LDX_W = 0x61  # dst = *(u32 *)(src + off)
_MOV_X = 0xBF  # dst = src
_MOV_K = 0xB7  # dst = imm
_AND_K = 0x57  # dst &= imm
_RSH_K = 0x77  # dst >>= imm
_JNE_K = 0x55  # if dst != imm: pc += off
_JEQ_K = 0x15  # if dst == imm: pc += off
_EXIT = 0x95

# registers: r1 the context; r2 device type, r3 access, r4 major, r5 minor
_CTX, _TYPE, _ACCESS, _MAJOR, _MINOR, _SCRATCH = 1, 2, 3, 4, 5, 6


def _insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def _prologue() -> list[bytes]:
    return [
        _insn(_LDX_W, _TYPE, _CTX, 0),
        _insn(_MOV_X, _ACCESS, _TYPE),
        _insn(_AND_K, _TYPE, imm=0xFFFF),
        _insn(_RSH_K, _ACCESS, imm=16),
        _insn(_LDX_W, _MAJOR, _CTX, 4),
        _insn(_LDX_W, _MINOR, _CTX, 8),
    ]


def _rule_block(rule: dict[str, Any]) -> list[bytes]:
    """Return the instructions of one rule: skip past it unless it matches."""
    tests: list[tuple[int, int, int]] = []  # (jump code, register, value)
    kind = rule.get("type") or "a"
    if kind != "a":
        tests.append((_JNE_K, _TYPE, _DEV_TYPES[kind]))
        for register, key in ((_MAJOR, "major"), (_MINOR, "minor")):
            if rule.get(key) not in (None, -1):
                tests.append((_JNE_K, register, int(rule[key])))
    bits = sum(_ACCESS_BITS[c] for c in set(rule["access"]))
    allow = bool(rule.get("allow"))
    # allow: no access outside the rule's; deny: some access inside it
    mask, skip_code = (~bits & 7, _JNE_K) if allow else (bits, _JEQ_K)
    length = len(tests) + 2 + 1 + 2
    block: list[bytes] = []
    for code, register, value in tests:
        block.append(_insn(code, register, off=length - len(block) - 1, imm=value))
    block.append(_insn(_MOV_X, _SCRATCH, _ACCESS))
    block.append(_insn(_AND_K, _SCRATCH, imm=mask))
    block.append(_insn(skip_code, _SCRATCH, off=length - len(block) - 1, imm=0))
    block += [_insn(_MOV_K, 0, imm=int(allow)), _insn(_EXIT)]
    return block


def program(rules: list[dict[str, Any]]) -> bytes:
    """Return the eBPF instructions that enforce rules, then runc's defaults.

    Raises:
        SpecError: a rule has a bad type or access.
    """
    v1_device_writes(rules)  # the same checks as on v1
    code = _prologue()
    for rule in reversed([*rules, *DEFAULT_DEVICE_RULES]):
        code += _rule_block(rule)
    code += [_insn(_MOV_K, 0, imm=0), _insn(_EXIT)]
    return b"".join(code)


def _bpf(command: int, attr: ctypes.Array[ctypes.c_char]) -> int:
    number = _BPF_SYSCALL.get(os.uname().machine)
    if number is None:
        raise NotSupportedError(
            f"linux.resources.devices: no bpf(2) number known for {os.uname().machine}"
        )
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    result: int = libc.syscall(
        ctypes.c_long(number), ctypes.c_int(command), attr, ctypes.c_uint(len(attr))
    )
    if result < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return result


def _load(code: bytes) -> int:
    insns = ctypes.create_string_buffer(code, len(code))
    license = ctypes.create_string_buffer(b"Apache-2.0")
    log = ctypes.create_string_buffer(1 << 16)
    attr = ctypes.create_string_buffer(128)
    struct.pack_into(
        "<IIQQIIQ",
        attr,
        0,
        _BPF_PROG_TYPE_CGROUP_DEVICE,
        len(code) // 8,
        ctypes.addressof(insns),
        ctypes.addressof(license),
        1,
        len(log),
        ctypes.addressof(log),
    )
    try:
        return _bpf(_BPF_PROG_LOAD, attr)
    except OSError as err:
        detail = log.value.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise CgroupError(
            f"linux.resources.devices: load device program: {reason(err)}"
            f" {detail[0]}".rstrip()
        ) from err


def attach(path: str, rules: list[dict[str, Any]]) -> None:
    """Attach the device program of rules to the cgroup at path.

    Raises:
        SpecError: a rule has a bad type or access.
        CgroupError: the kernel refused the program or the attachment.
        NotSupportedError: pyrunc knows no bpf(2) on this architecture.
    """
    prog_fd = _load(program(rules))
    try:
        cgroup_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            attr = ctypes.create_string_buffer(128)
            flags = _BPF_F_ALLOW_MULTI
            struct.pack_into(
                "<IIII", attr, 0, cgroup_fd, prog_fd, _BPF_CGROUP_DEVICE, flags
            )
            _bpf(_BPF_PROG_ATTACH, attr)
        finally:
            os.close(cgroup_fd)
    except OSError as err:
        raise CgroupError(
            f"linux.resources.devices: attach device program to {path}: {reason(err)}"
        ) from err
    finally:
        os.close(prog_fd)
