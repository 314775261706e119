#!/usr/bin/env bash
# The container image, built and run with no container engine: assemble the root
# filesystem (rootfs.sh), write it as an OCI image (oci.py), unpack it with umoci
# (an independent OCI implementation), then start the order-tracker from the
# unpacked root filesystem as uid 65532 against a broker and require 200 from
# /healthz and /readyz.
#
#   scripts/deploy/image.sh BIN_DIR WORK_DIR BOOTSTRAP UMOCI PYTHON
#
# As root the root filesystem is also mounted read-only (a private mount
# namespace) and the binary runs under chroot --userspec; otherwise in a user
# namespace that maps the caller to 65532 (unshare --map-user --root).
set -euo pipefail

[ $# -eq 5 ] || { echo "usage: $0 BIN_DIR WORK_DIR BOOTSTRAP UMOCI PYTHON" >&2; exit 2; }
bin="$1" work="$2" bootstrap="$3" umoci="$4" python="$5"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

rm -rf "$work" && mkdir -p "$work"
"$here/rootfs.sh" "$bin" "$work/rootfs"
"$python" "$here/oci.py" "$work/rootfs" "$work/oci" wismo-test
"$umoci" unpack --rootless --image "$work/oci:wismo-test" "$work/bundle" >/dev/null
root="$work/bundle/rootfs"
user="$("$python" - "$work/bundle/config.json" <<'PY'
import json, sys
u = json.load(open(sys.argv[1]))["process"]["user"]
print(f"{u['uid']}:{u['gid']}")
PY
)"
[ "$user" = "65532:65532" ] || { echo "image: runs as $user, not 65532:65532" >&2; exit 1; }
chmod 755 "$work" "$work/bundle"

port="$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# The spill directory as the chart sets it; like /tmp, an emptyDir in a pod and
# a tmpfs here.
env_vars=(WISMO_BOOTSTRAP_SERVERS="$bootstrap" WISMO_HTTP_ADDR="127.0.0.1:$port"
    WISMO_SPILL_DIR=/var/lib/wismo/spill)
if [ "$(id -u)" = 0 ]; then
    mode="read-only root, chroot as 65532"
    env -i "${env_vars[@]}" unshare --mount --fork --kill-child=SIGTERM -- /bin/sh -c \
        'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && for d in tmp var/lib/wismo/spill; do mount -t tmpfs -o mode=1777 tmpfs "$0/$d"; done && exec chroot --userspec=65532:65532 "$0" /usr/local/bin/order-tracker' \
        "$root" >"$work/order-tracker.log" 2>&1 &
else
    mode="user namespace as 65532"
    env -i "${env_vars[@]}" unshare --user --map-user=65532 --map-group=65532 --root="$root" \
        /usr/local/bin/order-tracker >"$work/order-tracker.log" 2>&1 &
fi
pid=$!
# unshare --fork ignores SIGTERM while it waits: signal its child, the service.
stop() { kill -TERM $(pgrep -P "$pid") "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT

for path in /healthz /readyz; do
    code=""
    for _ in $(seq 1 150); do
        code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path" || true)"
        [ "$code" = 200 ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if [ "$code" != 200 ]; then
        echo "image: order-tracker from the unpacked image: $path answered '${code:-nothing}'; log:" >&2
        tail -20 "$work/order-tracker.log" >&2
        exit 1
    fi
done
# unshare --fork has the service as its child; without --fork it is the service.
tracker="$(pgrep -P "$pid" || echo "$pid")"
uid="$(awk '/^Uid:/ { print $2 }' "/proc/$tracker/status")"
[ "$uid" = 65532 ] || { echo "image: order-tracker runs as uid $uid, not 65532" >&2; exit 1; }
echo "image: order-tracker started from the unpacked OCI image ($mode, uid $uid): /healthz 200, /readyz 200"
