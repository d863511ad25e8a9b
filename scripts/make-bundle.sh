#!/usr/bin/env bash
# Make an OCI bundle in DIR: config.json from `pyrunc spec` and a rootfs
# holding busybox-static with a link for each of its applets.
#   usage: make-bundle.sh DIR [ARG...]   (ARGs become process.args)
set -euo pipefail

dir=$1
shift
busybox=$(command -v busybox)
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/etc" "$dir/rootfs/tmp" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev"
cp "$busybox" "$dir/rootfs/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/rootfs/etc/passwd"
printf 'root:x:0:\n' >"$dir/rootfs/etc/group"
rm -f "$dir/config.json"
pyrunc spec --bundle "$dir"
if [ "$#" -gt 0 ]; then
    python3 - "$dir/config.json" "$@" <<'PY'
import json, sys
path, args = sys.argv[1], sys.argv[2:]
with open(path) as f:
    config = json.load(f)
config["process"]["args"] = args
config["process"]["terminal"] = False
with open(path, "w") as f:
    json.dump(config, f, indent=2)
PY
fi
