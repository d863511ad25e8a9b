"""Build pyrunc: the cffi executor from csrc/ and the precompiled config validator.

The config.json schema lives in pyrunc/spec/config.schema.json. At build time
it is compiled by fastjsonschema into plain Python (pyrunc/spec/_validator.py),
so the runtime validates a bundle without importing a schema library.
"""

import json
import os

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join("pyrunc", "spec", "config.schema.json")
VALIDATOR = os.path.join("pyrunc", "spec", "_validator.py")


def compile_validator(target_dir: str) -> None:
    """Write the generated validator module below target_dir."""
    import fastjsonschema

    with open(os.path.join(HERE, SCHEMA), encoding="utf-8") as src:
        schema = json.load(src)
    code = fastjsonschema.compile_to_code(schema)
    out = os.path.join(target_dir, VALIDATOR)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as dst:
        dst.write("# Generated from config.schema.json by setup.py; do not edit.\n")
        dst.write(code)


class BuildPy(build_py):
    """Build the Python package, then add the generated validator to it."""

    def run(self) -> None:
        super().run()
        if os.path.exists(os.path.join(HERE, SCHEMA)):
            compile_validator(self.build_lib)


setup(
    cffi_modules=["csrc/build_native.py:ffibuilder"],
    cmdclass={"build_py": BuildPy},
)
