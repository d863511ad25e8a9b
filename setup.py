"""Build pyrunc: the cffi executor from csrc/ and the precompiled config validator."""

import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "csrc"))

from build_validator import compile_validator  # noqa: E402


class BuildPy(build_py):
    """Build the Python package, then add the generated validator to it."""

    def run(self) -> None:
        super().run()
        compile_validator(HERE, self.build_lib)


setup(
    cffi_modules=["csrc/build_native.py:ffibuilder"],
    cmdclass={"build_py": BuildPy},
)
