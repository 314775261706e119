#!/usr/bin/env bash
# Assembles wismo's container root filesystem: every binary, exactly the shared
# libraries they link (as ldd resolves them) and the dynamic loader, a passwd
# entry for the non-root user 65532, and the CA bundle for TLS to Kafka. No shell,
# no package manager. The Dockerfile and the offline image build both use it.
#
#   scripts/deploy/rootfs.sh BIN_DIR OUT_DIR
#
# Env: WISMO_ROOTFS_STRIP=0 keeps debug info (default: stripped when `strip` exists).
set -euo pipefail

BINARIES=(scan-matcher order-tracker dispatcher replay wismoctl)
[ $# -eq 2 ] || { echo "usage: $0 BIN_DIR OUT_DIR" >&2; exit 2; }
bin="$1" out="$2"

rm -rf "$out"
# /tmp and the spill directory: mount points of the workloads' emptyDirs.
mkdir -p "$out/usr/local/bin" "$out/etc/ssl/certs" "$out/tmp" "$out/var/lib/wismo/spill"
chmod 1777 "$out/tmp" "$out/var/lib/wismo/spill"
for b in "${BINARIES[@]}"; do
    [ -x "$bin/$b" ] || { echo "rootfs: $bin/$b missing (cargo build --bins)" >&2; exit 1; }
    install -m 0755 "$bin/$b" "$out/usr/local/bin/$b"
    if [ "${WISMO_ROOTFS_STRIP:-1}" = 1 ] && command -v strip >/dev/null; then
        strip --strip-debug "$out/usr/local/bin/$b"
    fi
done

# `name => /path (addr)` lines and the loader's own `/path (addr)` line; vdso has no file.
libs="$(for b in "${BINARIES[@]}"; do ldd "$bin/$b"; done |
    awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)"
for lib in $libs; do
    mkdir -p "$out$(dirname "$lib")"
    cp -L "$lib" "$out$lib"
done

printf 'root:x:0:0:root:/root:/sbin/nologin\nwismo:x:65532:65532:wismo:/nonexistent:/sbin/nologin\n' >"$out/etc/passwd"
printf 'root:x:0:\nwismo:x:65532:\n' >"$out/etc/group"
# glibc's resolver without nsswitch.conf tries DNS first; Kubernetes wants files first.
printf 'hosts: files dns\n' >"$out/etc/nsswitch.conf"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/"
    # OpenSSL's default CA file (Debian: OPENSSLDIR=/usr/lib/ssl), used when
    # WISMO_KAFKA_SSL_CA_LOCATION is not set: brokers with public certificates.
    if echo "$libs" | grep -q libssl; then
        mkdir -p "$out/usr/lib/ssl"
        ln -s /etc/ssl/certs/ca-certificates.crt "$out/usr/lib/ssl/cert.pem"
    fi
fi
echo "rootfs: ${#BINARIES[@]} binaries, $(echo "$libs" | wc -w) libraries: $(echo $libs | tr ' ' ',')"
