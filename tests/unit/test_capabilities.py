"""Check pyrunc.capabilities against the running kernel and libcap."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from pyrunc import capabilities
from pyrunc.capabilities import CAPABILITIES, known, last_cap, mask
from pyrunc.errors import SpecError, SyscallError

NAMES_BY_NUMBER = {number: name for name, number in CAPABILITIES.items()}


def test_numbers_run_from_zero_without_gaps() -> None:
    assert sorted(CAPABILITIES.values()) == list(range(len(CAPABILITIES)))


def test_names_match_the_features_schema_pattern() -> None:
    pattern = re.compile(r"^CAP_[A-Z_]+$")
    assert all(pattern.match(name) for name in CAPABILITIES)


def test_last_cap_is_the_kernel_value() -> None:
    text = Path("/proc/sys/kernel/cap_last_cap").read_text()
    assert last_cap() == int(text)


def test_table_names_every_capability_of_this_kernel() -> None:
    assert last_cap() <= max(CAPABILITIES.values())


def test_known_lists_names_in_number_order_up_to_the_kernel() -> None:
    assert known() == list(CAPABILITIES)[: last_cap() + 1]


def test_bounding_set_of_this_process_has_only_known_bits() -> None:
    status = Path("/proc/self/status").read_text()
    found = re.search(r"^CapBnd:\s*([0-9a-f]+)$", status, re.MULTILINE)
    assert found is not None
    bounding = int(found[1], 16)
    assert bounding & ~mask(known()) == 0


def test_last_cap_reports_an_unreadable_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "cap_last_cap"
    monkeypatch.setattr(capabilities, "CAP_LAST_CAP_PATH", str(missing))
    with pytest.raises(SyscallError, match="no such file") as caught:
        last_cap()
    assert caught.value.errno == errno.ENOENT
    assert caught.value.path == str(missing)


@pytest.fixture(scope="module")
def libcap_name() -> Callable[[int], str]:
    """Return libcap's cap_to_name, skipping the test when libcap is absent."""
    found = ctypes.util.find_library("cap")
    if found is None:
        pytest.skip("libcap is not installed")
    lib = ctypes.CDLL(found)
    lib.cap_to_name.argtypes = [ctypes.c_int]
    lib.cap_to_name.restype = ctypes.c_void_p
    lib.cap_free.argtypes = [ctypes.c_void_p]

    def name(number: int) -> str:
        pointer = lib.cap_to_name(number)
        try:
            return ctypes.string_at(pointer).decode()
        finally:
            lib.cap_free(pointer)

    return name


def test_names_agree_with_libcap(libcap_name: Callable[[int], str]) -> None:
    # libcap prints a bare number for a capability newer than itself.
    theirs = {n: libcap_name(n) for n in CAPABILITIES.values()}
    named = {n: text for n, text in theirs.items() if not text.isdigit()}
    assert named, "libcap named no capability"
    assert {n: NAMES_BY_NUMBER[n].lower() for n in named} == named


def test_mask_of_nothing_is_zero() -> None:
    assert mask([]) == 0


def test_mask_sets_one_bit_per_name() -> None:
    names = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    assert mask(names) == (1 << 0) | (1 << 5) | (1 << 10)


def test_mask_ignores_repeats_and_takes_any_iterable() -> None:
    assert mask(n for n in ("CAP_SYS_ADMIN", "CAP_SYS_ADMIN")) == 1 << 21


def test_mask_of_every_name_fills_the_table() -> None:
    assert mask(CAPABILITIES) == (1 << len(CAPABILITIES)) - 1


@pytest.mark.parametrize("name", ["CAP_BOGUS", "cap_chown", "CHOWN", ""])
def test_mask_refuses_an_unknown_name(name: str) -> None:
    with pytest.raises(SpecError, match=f"^unknown capability {name}$"):
        mask(["CAP_CHOWN", name])
