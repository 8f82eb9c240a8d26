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
# Every user cert has subjectAltName email:USER@example.org, EKU clientAuth,
# keyUsage digitalSignature (plus keyEncipherment for RSA). CA certs carry
# what OpenSSL's strict verifier needs (critical basicConstraints,
# keyUsage, subject and authority key identifiers).
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
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
