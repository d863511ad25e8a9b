#!/usr/bin/env bash
# Install pyrunc, make a busybox bundle and run it: the container prints its
# hostname and its user's identity, then is removed.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install.sh"
bundle=$(mktemp -d /tmp/pyrunc-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
"$here/scripts/make-bundle.sh" "$bundle" sh -c 'echo "hostname: $(hostname)"; echo "id: $(id)"'
pyrunc run --bundle "$bundle" "pyrunc-demo-$$"
