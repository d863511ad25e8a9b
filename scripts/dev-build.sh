#!/usr/bin/env bash
# Build the C executor and the config validator inside the source tree, so that
# `PYTHONPATH=. python -m pyrunc` runs the working copy without installing it.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-/opt/pyrunc/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/csrc" "$work/"
(cd "$work" && "$python" -c "
import sys
sys.path.insert(0, 'csrc')
import build_native
build_native.ffibuilder.compile(tmpdir='.', verbose=False)
")
# a rename, not a copy over the old file: running pyrunc processes map it
for so in "$work"/pyrunc/_native*.so; do
    cp "$so" "$here/pyrunc/.$(basename "$so").new"
    mv "$here/pyrunc/.$(basename "$so").new" "$here/pyrunc/$(basename "$so")"
done
"$python" "$here/csrc/build_validator.py"
echo "built $(ls "$here"/pyrunc/_native*.so) and pyrunc/spec/_validator.py"
