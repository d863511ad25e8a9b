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
    busybox-static runc crun iproute2 tmux hyperfine golang-github-containers-common
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
# The launcher runs Python with -I -S: no site processing (.pth files, the
# distribution's sitecustomize), which every pyrunc call would otherwise pay;
# the venv's packages are put on the path by hand instead.
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
launcher=$(mktemp /usr/local/bin/.pyrunc.XXXXXX)
printf '#!%s -IS\nimport sys\nsys.path.append("%s")\nfrom pyrunc.cli import main\nsys.exit(main())\n' \
    "$venv/bin/python3" "$site" >"$launcher"
chmod 755 "$launcher"
mv -f "$launcher" /usr/local/bin/pyrunc
echo "installed $(/usr/local/bin/pyrunc --version | head -1) in $venv"
