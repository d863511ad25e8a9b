#!/usr/bin/env bash
# Install pyrunc with its test dependencies, then run the whole test suite.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)

# The cgroup v2 tests boot Debian's kernel with cgroup v2 alone under QEMU
# (virtme-ng, from the [test] extra, drives it); the engine tests run real
# containerd and podman (with conmon, and skopeo to move images between them);
# clang-format checks the layout of the C in csrc/.
test_packages=(qemu-system-x86 linux-image-amd64 containerd podman conmon skopeo clang-format)
missing=()
for pkg in "${test_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

PYRUNC_EXTRAS="[test]" "$here/scripts/install.sh"
cd "$here"
# the unit tests import the package from this tree: give it its built parts
PYTHON="${PYRUNC_VENV:-/opt/pyrunc}/bin/python" bash scripts/dev-build.sh
export PYRUNC_CMD=${PYRUNC_CMD:-/usr/local/bin/pyrunc}
exec "${PYRUNC_VENV:-/opt/pyrunc}/bin/python" -m pytest "$@"
