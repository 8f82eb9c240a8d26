#!/bin/sh
# mkcerts.sh OUTDIR - test certificates made with nothing but the openssl
# command-line tool, as a user of any PKI would make them (certificates from
# any PKI must work, not only ones made by our own code).
#
# Writes to OUTDIR (certificates *.pem, keys *.key with mode 0600):
#   root.pem / root.key            root CA, P-256
#   inter.pem / inter.key          intermediate CA, P-256, signed by root
#   USER-TYPE.pem / .key           user certificate signed by inter, for
#                                  USER in alice bob, TYPE in p256 ed25519 rsa2048
#   USER-TYPE-chain.pem            leaf + intermediate
#   mallory-noeku.*                P-256 user cert without extendedKeyUsage
#   other-root.pem / .key          an independent root CA, P-256
#   carol-p256.* (+ -chain.pem)    user cert signed directly by other-root
#   done                           marker: a second run does nothing
#
# mkcerts.sh --vectors OUTDIR - how the FIXED test-vector certificates of
# tests/vectors/ were made (once). Do not re-run it casually: new keys change
# every byte of every vector, and tests/vectors/handshake-*.txt must then be
# regenerated (see tests/test_vectors.c). Writes (overwrites) in OUTDIR:
#   root.pem / root.key            Ed25519 root CA "sixchat vectors root CA"
#   alice.pem / alice.key          Ed25519 user alice@example.org, signed by root
#   bob.pem / bob.key              Ed25519 user bob@example.org, signed by root
# all valid from 2025-01-01T00:00:00Z to 2045-01-01T00:00:00Z (fixed dates:
# `openssl ca`, as `openssl x509 -req` in OpenSSL 3.0 takes only -days).
# Ed25519 signatures are deterministic, so the handshake signatures are too.
#
# Every user cert has subjectAltName email:USER@example.org, EKU clientAuth,
# keyUsage digitalSignature (plus keyEncipherment for RSA). CA certs carry
# what OpenSSL's strict verifier needs (critical basicConstraints,
# keyUsage, subject and authority key identifiers).
set -eu

# The fixed vector PKI (see the top of this file).
vectors() {
    out=$1
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
}

if [ $# -eq 2 ] && [ "$1" = --vectors ]; then
    vectors "$2"
    exit 0
fi
if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR | $0 --vectors OUTDIR" >&2
    exit 2
fi
out=$1
[ -f "$out/done" ] && exit 0

command -v openssl >/dev/null 2>&1 || { echo "mkcerts: openssl not found" >&2; exit 1; }

# Build in a scratch directory inside OUTDIR and move the files out at the
# end, "done" last, so an interrupted run never looks finished. Nothing in
# OUTDIR but our own file names is ever removed or overwritten.
mkdir -p "$out"
tmp="$out/.tmp.$$"
rm -rf "$tmp"
mkdir "$tmp"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

cat >"$tmp/openssl.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ subca ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ user ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:$ENV::SC_MK_EMAIL
[ user_rsa ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:$ENV::SC_MK_EMAIL
[ user_noeku ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:$ENV::SC_MK_EMAIL
EOF
cnf="$tmp/openssl.cnf"
# Referenced by the config file; every section is parsed on load.
SC_MK_EMAIL=unused@example.org
export SC_MK_EMAIL

serial=1000

# ossl ARGS...: runs openssl quietly; on failure shows its messages and stops.
ossl() {
    openssl "$@" 2>"$tmp/err" || {
        cat "$tmp/err" >&2
        echo "mkcerts: openssl $1 failed" >&2
        exit 1
    }
}

# key NAME TYPE: a private key in PKCS#8 PEM, readable by its owner only.
key() {
    case $2 in
    p256) set -- "$1" -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve ;;
    ed25519) set -- "$1" -algorithm ED25519 ;;
    rsa2048) set -- "$1" -algorithm RSA -pkeyopt rsa_keygen_bits:2048 ;;
    *) echo "mkcerts: unknown key type $2" >&2; exit 1 ;;
    esac
    name=$1
    shift
    (umask 077 && ossl genpkey -quiet "$@" -out "$tmp/$name.key")
}

# root NAME CN: a self-signed P-256 CA valid for 20 years.
root() {
    key "$1" p256
    serial=$((serial + 1))
    ossl req -new -x509 -config "$cnf" -extensions ca -key "$tmp/$1.key" -subj "/CN=$2" \
        -sha256 -days 7300 -set_serial "$serial" -out "$tmp/$1.pem"
}

# sign NAME ISSUER SECTION: certifies NAME's key (request already in NAME.csr) for 10 years.
sign() {
    serial=$((serial + 1))
    ossl x509 -req -in "$tmp/$1.csr" -CA "$tmp/$2.pem" -CAkey "$tmp/$2.key" \
        -extfile "$cnf" -extensions "$3" -sha256 -days 3650 -set_serial "$serial" \
        -out "$tmp/$1.pem"
    rm -f "$tmp/$1.csr"
}

# csr NAME CN: a certificate request for NAME's key.
csr() {
    ossl req -new -config "$cnf" -key "$tmp/$1.key" -subj "/CN=$2" -out "$tmp/$1.csr"
}

# user NAME TYPE EMAIL ISSUER SECTION: a user certificate and its chain file.
user() {
    key "$1" "$2"
    csr "$1" "$3"
    SC_MK_EMAIL=$3
    sign "$1" "$4" "$5"
    if [ "$4" = inter ]; then
        cat "$tmp/$1.pem" "$tmp/inter.pem" >"$tmp/$1-chain.pem"
    else
        cat "$tmp/$1.pem" >"$tmp/$1-chain.pem"
    fi
}

root root "sixchat test root CA"
key inter p256
csr inter "sixchat test intermediate CA"
sign inter root subca

for u in alice bob; do
    user "$u-p256" p256 "$u@example.org" inter user
    user "$u-ed25519" ed25519 "$u@example.org" inter user
    user "$u-rsa2048" rsa2048 "$u@example.org" inter user_rsa
done
user mallory-noeku p256 mallory@example.org inter user_noeku

root other-root "sixchat other test root CA"
user carol-p256 p256 carol@example.org other-root user

# Self-check with the same tool: every user cert verifies to its root.
for c in alice-p256 alice-ed25519 alice-rsa2048 bob-p256 bob-ed25519 bob-rsa2048; do
    ossl verify -x509_strict -purpose sslclient -CAfile "$tmp/root.pem" \
        -untrusted "$tmp/inter.pem" "$tmp/$c.pem" >/dev/null
done
ossl verify -x509_strict -CAfile "$tmp/other-root.pem" "$tmp/carol-p256.pem" >/dev/null

rm -f "$cnf" "$tmp/err"
mv -f "$tmp"/* "$out"/
rmdir "$tmp"
trap - EXIT
: >"$out/done"
echo "mkcerts: certificates in $out"
