#!/usr/bin/env bash
# Install pyrunc and everything it needs on a Debian machine, as root.
#
# The runtime goes into a virtual environment made from Debian's own
# /usr/bin/python3, which starts several times faster than most other
# interpreters; /usr/local/bin/pyrunc links to its entry point.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
venv=${PYRUNC_VENV:-/opt/pyrunc}

apt_packages=(
    python3 python3-venv python3-dev gcc libffi-dev libseccomp-dev libcap-dev
    busybox-static runc crun iproute2 tmux hyperfine
)

missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q "$here${PYRUNC_EXTRAS:-}"
ln -sf "$venv/bin/pyrunc" /usr/local/bin/pyrunc
echo "installed $(/usr/local/bin/pyrunc --version | head -1) in $venv"
