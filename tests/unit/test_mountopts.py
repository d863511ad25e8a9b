"""Mount options of config.json split into mount(2) flags, propagation, data, attrs."""

from __future__ import annotations

import pytest

from pyrunc.process import mountopts as mo
from pyrunc.process.mountopts import parse

FLAG_CASES = [
    ([], 0),
    (["defaults"], 0),
    (["ro"], mo.MS_RDONLY),
    (["rw"], 0),
    (["ro", "rw"], 0),
    (["rw", "ro"], mo.MS_RDONLY),
    (["nosuid", "nodev", "noexec"], mo.MS_NOSUID | mo.MS_NODEV | mo.MS_NOEXEC),
    (["nosuid", "suid"], 0),
    (["noexec", "exec"], 0),
    (["nodev", "dev"], 0),
    (["bind"], mo.MS_BIND),
    (["rbind"], mo.MS_BIND | mo.MS_REC),
    (["noatime", "nodiratime"], mo.MS_NOATIME | mo.MS_NODIRATIME),
    (["relatime"], mo.MS_RELATIME),
    (["strictatime"], mo.MS_STRICTATIME),
    (["sync", "async"], 0),
    (["dirsync"], mo.MS_DIRSYNC),
    (["remount", "ro"], mo.MS_REMOUNT | mo.MS_RDONLY),
    (["silent"], mo.MS_SILENT),
    (["nosymfollow"], mo.MS_NOSYMFOLLOW),
    (["lazytime", "nolazytime"], 0),
]

PROPAGATION_CASES = [
    (["private"], mo.MS_PRIVATE),
    (["rprivate"], mo.MS_PRIVATE | mo.MS_REC),
    (["shared"], mo.MS_SHARED),
    (["rshared"], mo.MS_SHARED | mo.MS_REC),
    (["slave"], mo.MS_SLAVE),
    (["rslave"], mo.MS_SLAVE | mo.MS_REC),
    (["unbindable"], mo.MS_UNBINDABLE),
    (["runbindable"], mo.MS_UNBINDABLE | mo.MS_REC),
]

# (options, flags of the remount a bind mount needs, or 0)
REMOUNT_CASES = [
    (["bind"], 0),
    (["rbind", "rprivate"], 0),
    (["bind", "ro"], mo.MS_BIND | mo.MS_REMOUNT | mo.MS_RDONLY),
    (
        ["rbind", "ro", "nosuid"],
        mo.MS_BIND | mo.MS_REMOUNT | mo.MS_RDONLY | mo.MS_NOSUID,
    ),
    (["ro"], 0),
    (["nosuid", "mode=755"], 0),
]


@pytest.mark.parametrize(("options", "flags"), FLAG_CASES)
def test_flags_set_and_cleared_in_order(options: list[str], flags: int) -> None:
    parsed = parse(options)
    assert parsed.flags == flags
    assert (parsed.propagation, parsed.data) == (0, "")


@pytest.mark.parametrize(("options", "propagation"), PROPAGATION_CASES)
def test_propagation_kept_apart_from_flags(
    options: list[str], propagation: int
) -> None:
    parsed = parse(options)
    assert (parsed.flags, parsed.propagation) == (0, propagation)


def test_unknown_options_go_to_the_filesystem_in_order() -> None:
    parsed = parse(["mode=755", "ro", "size=65536k", "newinstance"])
    assert parsed.data == "mode=755,size=65536k,newinstance"
    assert parsed.flags == mo.MS_RDONLY


@pytest.mark.parametrize(("options", "flags"), REMOUNT_CASES)
def test_bind_remount_flags(options: list[str], flags: int) -> None:
    assert parse(options).remount_flags() == flags


@pytest.mark.parametrize(
    ("options", "is_bind"),
    [(["bind"], True), (["rbind"], True), (["ro"], False), ([], False)],
)
def test_is_bind(options: list[str], is_bind: bool) -> None:
    assert parse(options).is_bind is is_bind


# recursive attributes for mount_setattr(2)

ATTR_CASES = [
    (["rro"], mo.MOUNT_ATTR_RDONLY, 0),
    (["rrw"], 0, mo.MOUNT_ATTR_RDONLY),
    (["rro", "rrw"], 0, mo.MOUNT_ATTR_RDONLY),
    (["rrw", "rro"], mo.MOUNT_ATTR_RDONLY, 0),
    (
        ["rnosuid", "rnodev", "rnoexec"],
        mo.MOUNT_ATTR_NOSUID | mo.MOUNT_ATTR_NODEV | mo.MOUNT_ATTR_NOEXEC,
        0,
    ),
    (["rnoatime"], mo.MOUNT_ATTR_NOATIME, mo.MOUNT_ATTR_ATIME_MASK),
    (["rstrictatime"], mo.MOUNT_ATTR_STRICTATIME, mo.MOUNT_ATTR_ATIME_MASK),
    (["rnoatime", "rrelatime"], mo.MOUNT_ATTR_RELATIME, mo.MOUNT_ATTR_ATIME_MASK),
    (["rnosymfollow"], mo.MOUNT_ATTR_NOSYMFOLLOW, 0),
]


@pytest.mark.parametrize(("options", "attr_set", "attr_clr"), ATTR_CASES)
def test_recursive_attributes(options: list[str], attr_set: int, attr_clr: int) -> None:
    parsed = parse(options)
    assert (parsed.attr_set, parsed.attr_clr) == (attr_set, attr_clr)
    assert (parsed.flags, parsed.data) == (0, "")


@pytest.mark.parametrize("option", sorted(mo.RECURSIVE))
def test_an_attribute_is_never_both_set_and_cleared(option: str) -> None:
    """Only atime bits may be in both: mount_setattr(2) wants that mask cleared."""
    parsed = parse(["rro", "rnoatime", "rnosuid", option])
    both = parsed.attr_set & parsed.attr_clr
    assert both & ~mo.MOUNT_ATTR_ATIME_MASK == 0
    if parsed.attr_set & mo.MOUNT_ATTR_ATIME_MASK:
        assert parsed.attr_clr & mo.MOUNT_ATTR_ATIME_MASK == mo.MOUNT_ATTR_ATIME_MASK


def test_known_options_name_every_table_entry_once_sorted() -> None:
    known = mo.known_options()
    assert known == sorted(set(known))
    assert set(known) == {*mo.FLAGS, *mo.PROPAGATION, *mo.RECURSIVE}


def test_no_option_is_in_two_tables() -> None:
    assert not set(mo.FLAGS) & set(mo.PROPAGATION)
    assert not set(mo.FLAGS) & set(mo.RECURSIVE)
    assert not set(mo.PROPAGATION) & set(mo.RECURSIVE)
