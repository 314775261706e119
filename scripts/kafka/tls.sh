#!/usr/bin/env bash
# TLS material for a test broker, generated on the spot: a CA, a broker certificate
# it signs (for 127.0.0.1 and localhost), and the broker's PKCS12 keystore.
#
#   scripts/kafka/tls.sh DIR
#
# Writes into DIR (created if missing; existing files are replaced):
#   ca.crt             the CA certificate: clients trust it (ssl.ca.location)
#   ca.key             the CA's private key
#   broker.crt/.key    the broker's certificate and key
#   broker.p12         the broker's keystore (key, certificate, CA), type PKCS12
#   broker.p12.pass    the keystore's password (random, one line)
# Nothing here is meant to outlive a test run: keys are unencrypted, mode 0600.
set -euo pipefail

die() { echo "[tls] ERROR: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 DIR"
command -v openssl >/dev/null 2>&1 || die "openssl not found"
DIR="$1"
mkdir -p "$DIR"
cd "$DIR"
umask 077

openssl req -x509 -newkey rsa:2048 -nodes -days 7 -sha256 \
    -keyout ca.key -out ca.crt -subj "/CN=wismo test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
    die "creating the CA failed"

openssl req -newkey rsa:2048 -nodes -sha256 \
    -keyout broker.key -out broker.csr -subj "/CN=127.0.0.1" 2>/dev/null ||
    die "creating the broker key failed"
# librdkafka checks the broker's name (ssl.endpoint.identification.algorithm=https),
# so the certificate names the address the broker advertises.
cat >broker.ext <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EOF
openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days 7 -sha256 -extfile broker.ext -out broker.crt 2>/dev/null ||
    die "signing the broker certificate failed"

head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >broker.p12.pass
openssl pkcs12 -export -in broker.crt -inkey broker.key -certfile ca.crt \
    -name broker -out broker.p12 -passout "file:broker.p12.pass" 2>/dev/null ||
    die "writing the PKCS12 keystore failed"
rm -f broker.csr broker.ext ca.srl
chmod 0644 ca.crt
echo "[tls] CA, broker certificate and keystore in $DIR"
