# tests/irpd/pki.sh - keys, CSRs and certificates made with the openssl CLI,
# and enrolment through irp_probe, for the irpd and irp test scripts and
# bench/irpd_live.sh. Sourced (lib.sh sources it; scripts with their own
# set-up source it directly). Everything goes to $T, which the sourcing
# script sets; nothing here exits: each function returns non-zero on
# failure, and the caller decides (`|| fail ...`).

# key_csr NAME [DER|PEM]: a P-256 key $T/NAME.key and a CSR for it,
# $T/NAME.csr (DER unless PEM is asked for), subject CN=NAME
key_csr() {
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" \
        -subj "/CN=$1" -outform "${2:-DER}" -out "$T/$1.csr" 2>/dev/null
}

# csr NAME: key_csr NAME, and prints the DER CSR as one line of base64
# (the <csr> of an enroll or renew request)
csr() {
    key_csr "$1" DER && openssl base64 -A -in "$T/$1.csr"
}

# root_ca NAME: a self-signed P-256 root $T/NAME.pem (key $T/NAME.key),
# an "external CA" of docs/IRP.md 7.6
root_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" \
        -out "$T/$1.pem" -subj "/CN=$1" -days 30 \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        2>/dev/null
}

# user_cert NAME USER CA_PEM CA_KEY: a client certificate for USER
# (rfc822Name SAN, EKU clientAuth) signed by the CA: $T/NAME.pem, $T/NAME.key
user_cert() {
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" \
        -out "$T/$1.csr" -subj "/CN=$2" 2>/dev/null || return 1
    printf 'basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = clientAuth\nsubjectAltName = email:%s\n' \
        "$2" >"$T/$1.ext"
    openssl x509 -req -in "$T/$1.csr" -CA "$3" -CAkey "$4" -CAcreateserial -days 30 \
        -extfile "$T/$1.ext" -out "$T/$1.pem" 2>/dev/null
}

# enroll_with TOKEN NAME: enrols a fresh key (csr NAME) with TOKEN at the
# registry on 127.0.0.1:$PORT (CA $T/r/ca.pem) through $PROBE: leaves
# $T/NAME.pem and $T/NAME.key, the answer in $T/enroll_NAME.out
enroll_with() {
    c_=$(csr "$2") || return 1
    echo "<req id=\"e-$2\" op=\"enroll\" token=\"$1\"><csr>$c_</csr></req>" |
        "$PROBE" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" --save-cert "$T/$2.pem" \
            >"$T/enroll_$2.out" 2>&1 || return 1
    grep -qF "<resp id=\"e-$2\" status=\"200\"" "$T/enroll_$2.out"
}

# cert_fp PEM: the certificate's SHA-256 fingerprint (lowercase hex), as IRP names it
cert_fp() { openssl x509 -in "$1" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1; }
