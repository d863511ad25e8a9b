"""Build pyrunc's C executor as the cffi module ``pyrunc._native`` (API mode)."""

import os
import re

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))


def _cdef() -> str:
    """Return the header with comments stripped, as cffi's parser wants it."""
    with open(os.path.join(HERE, "pyrunc_native.h"), encoding="utf-8") as header:
        text = header.read()
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


ffibuilder = FFI()
ffibuilder.cdef(_cdef())
ffibuilder.set_source(
    "pyrunc._native",
    '#include "pyrunc_native.h"',
    sources=[
        os.path.join("csrc", name) for name in ("pyrunc_native.c", "pyrunc_seccomp.c")
    ],
    libraries=["seccomp"],
    include_dirs=[HERE],
    extra_compile_args=["-O2", "-Wall", "-Wextra", "-std=gnu11"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
