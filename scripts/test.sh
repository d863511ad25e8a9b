#!/usr/bin/env bash
# Install pyrunc with its test dependencies, then run the whole test suite.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
PYRUNC_EXTRAS="[test]" "$here/scripts/install.sh"
cd "$here"
# the unit tests import the package from this tree: give it its built parts
PYTHON="${PYRUNC_VENV:-/opt/pyrunc}/bin/python" bash scripts/dev-build.sh
export PYRUNC_CMD=${PYRUNC_CMD:-/usr/local/bin/pyrunc}
exec "${PYRUNC_VENV:-/opt/pyrunc}/bin/python" -m pytest "$@"
