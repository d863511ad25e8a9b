"""runtime-linux.md: file descriptors and the /dev symbolic links."""

from __future__ import annotations

from conflib.case import Case, equal
from conflib.registry import requirement

SPEC = "runtime-linux.md"
LINKS = {
    "/dev/fd": "/proc/self/fd",
    "/dev/stdin": "/proc/self/fd/0",
    "/dev/stdout": "/proc/self/fd/1",
    "/dev/stderr": "/proc/self/fd/2",
}


@requirement(
    SPEC, "File descriptors", "only stdin, stdout and stderr are open by default"
)
def only_standard_fds(case: Case) -> None:
    # the shell's own table; `; true` keeps sh from exec'ing ls, whose
    # directory fd would show up otherwise
    listing = case.sh("ls /proc/$$/fd; true").split()
    equal(sorted(listing, key=int), ["0", "1", "2"], "open file descriptors")


def _link_check(link: str, target: str) -> None:
    @requirement(SPEC, "Dev symbolic links", f"{link} MUST be a symlink to {target}")
    def check(case: Case) -> None:
        found = case.sh(f"[ -L {link} ] && readlink {link}").strip()
        equal(found, target, f"readlink {link}")


for _link, _target in LINKS.items():
    _link_check(_link, _target)
