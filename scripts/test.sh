#!/usr/bin/env bash
# Install pyrunc with its test dependencies, then run the whole test suite.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
PYRUNC_EXTRAS="[test]" "$here/scripts/install.sh"
cd "$here"
exec "${PYRUNC_VENV:-/opt/pyrunc}/bin/python" -m pytest "$@"
