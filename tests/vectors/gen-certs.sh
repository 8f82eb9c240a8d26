#!/bin/sh
# gen-certs.sh - how the FIXED test-vector certificates in this directory
# were made (once, with the openssl command-line tool). Do not re-run it
# casually: new keys change every byte of every vector, and
# handshake-*.txt must then be regenerated (see tests/test_vectors.c).
#
#   root.pem / root.key     Ed25519 root CA "sixchat vectors root CA"
#   alice.pem / alice.key   Ed25519 user alice@example.org, signed by root
#   bob.pem / bob.key       Ed25519 user bob@example.org, signed by root
#
# All are valid from 2025-01-01T00:00:00Z to 2045-01-01T00:00:00Z. Ed25519
# signatures are deterministic, so the handshake signatures are too.
# Usage: sh gen-certs.sh [OUTDIR]   (default: the directory of this script)
set -eu
out=${1:-$(dirname "$0")}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/ca.cnf" <<'CNF'
[ ca ]
default_ca = vec
[ vec ]
dir = TMPDIR
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = default
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ root_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ user_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:$ENV::SC_VEC_EMAIL
CNF
sed -i "s|TMPDIR|$tmp|" "$tmp/ca.cnf"
: >"$tmp/index.txt"
echo 01 >"$tmp/serial"
SC_VEC_EMAIL=unused@example.org
export SC_VEC_EMAIL

start=20250101000000Z
end=20450101000000Z

openssl genpkey -algorithm ED25519 -out "$tmp/root.key"
openssl req -new -config "$tmp/ca.cnf" -key "$tmp/root.key" -subj "/CN=sixchat vectors root CA" \
    -out "$tmp/root.csr"
openssl ca -batch -notext -config "$tmp/ca.cnf" -selfsign -keyfile "$tmp/root.key" \
    -extensions root_ext -startdate $start -enddate $end -in "$tmp/root.csr" -out "$tmp/root.pem"

for u in alice bob; do
    SC_VEC_EMAIL=$u@example.org
    openssl genpkey -algorithm ED25519 -out "$tmp/$u.key"
    openssl req -new -config "$tmp/ca.cnf" -key "$tmp/$u.key" -subj "/CN=$u@example.org" \
        -out "$tmp/$u.csr"
    openssl ca -batch -notext -config "$tmp/ca.cnf" -cert "$tmp/root.pem" -keyfile "$tmp/root.key" \
        -extensions user_ext -startdate $start -enddate $end -in "$tmp/$u.csr" -out "$tmp/$u.pem"
    openssl verify -x509_strict -purpose sslclient -CAfile "$tmp/root.pem" "$tmp/$u.pem"
done
cp "$tmp/root.pem" "$tmp/root.key" "$tmp/alice.pem" "$tmp/alice.key" "$tmp/bob.pem" \
    "$tmp/bob.key" "$out/"
