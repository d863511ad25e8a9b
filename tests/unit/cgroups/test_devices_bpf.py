"""The v2 device program, run by a small interpreter of the instructions it uses."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from pyrunc.cgroups.devices_bpf import program
from pyrunc.errors import SpecError

CHAR, BLOCK = 2, 1
MKNOD, READ, WRITE = 1, 2, 4
DENY_ALL = {"allow": False, "access": "rwm"}


def run(code: bytes, kind: int, access: int, major: int, minor: int) -> int:
    """Run the program on one device access and return r0 (1 allows)."""
    context = struct.pack("<III", kind | access << 16, major, minor)
    registers = [0] * 11
    pc = 0
    while True:
        op, regs, off, imm = struct.unpack_from("<BBhi", code, pc * 8)
        dst, src = regs & 0xF, regs >> 4
        pc += 1
        if op == 0x61:
            registers[dst] = struct.unpack_from("<I", context, off)[0]
        elif op == 0xBF:
            registers[dst] = registers[src]
        elif op == 0xB7:
            registers[dst] = imm
        elif op == 0x57:
            registers[dst] &= imm
        elif op == 0x77:
            registers[dst] >>= imm
        elif op == 0x55:
            pc += off if registers[dst] != imm else 0
        elif op == 0x15:
            pc += off if registers[dst] == imm else 0
        elif op == 0x95:
            return registers[0]
        else:
            raise AssertionError(f"unexpected instruction {op:#x}")


def allowed(rules: list[dict[str, Any]], kind: int, access: int, dev: str) -> bool:
    """Tell whether the program of rules lets access to the device major:minor."""
    major, minor = (int(n) for n in dev.split(":"))
    return run(program(rules), kind, access, major, minor) == 1


def test_instructions_are_whole() -> None:
    assert len(program([DENY_ALL])) % 8 == 0


def test_runcs_defaults_are_allowed_and_the_rest_denied() -> None:
    rules = [DENY_ALL]
    assert allowed(rules, CHAR, READ | WRITE, "1:3")  # /dev/null
    assert allowed(rules, CHAR, READ | WRITE, "136:7")  # a pts
    assert allowed(rules, BLOCK, MKNOD, "8:0")  # mknod of anything
    assert not allowed(rules, BLOCK, READ, "8:0")
    assert not allowed(rules, CHAR, WRITE, "10:229")  # /dev/fuse
    assert not allowed(rules, CHAR, READ, "1:1")  # /dev/mem


def test_an_allow_rule_covers_only_its_access() -> None:
    rules = [DENY_ALL, {"allow": True, "type": "c", "major": 10, "minor": 229}]
    rules[1]["access"] = "r"
    assert allowed(rules, CHAR, READ, "10:229")
    assert not allowed(rules, CHAR, READ | WRITE, "10:229")
    assert not allowed(rules, CHAR, READ, "10:230")


def test_wildcards() -> None:
    rules = [DENY_ALL, {"allow": True, "type": "b", "major": 7, "access": "rw"}]
    assert allowed(rules, BLOCK, READ | WRITE, "7:12")
    assert not allowed(rules, CHAR, READ, "7:12")
    everything = [{"allow": True, "access": "rwm"}]
    assert allowed(everything, BLOCK, READ | WRITE | MKNOD, "8:1")


def test_a_later_rule_wins_and_runcs_defaults_come_last() -> None:
    fuse = {"type": "c", "major": 10, "minor": 229, "access": "rw"}
    rules = [DENY_ALL, {"allow": True, **fuse}, {"allow": False, **fuse}]
    assert not allowed(rules, CHAR, READ, "10:229")
    rules = [{"allow": True, "access": "rwm"}, {"allow": False, "type": "c"}]
    rules[1]["access"] = "w"
    assert not allowed(rules, CHAR, WRITE, "4:1")
    assert allowed(rules, CHAR, READ, "4:1")
    # as on v1, a spec rule cannot take a default device away
    null_write = {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "w"}
    assert allowed([DENY_ALL, null_write], CHAR, WRITE, "1:3")


def test_bad_rules_are_refused() -> None:
    with pytest.raises(SpecError, match=r"devices\[0\]\.access"):
        program([{"allow": True, "type": "c", "access": "x"}])
