#!/usr/bin/env bash
# dev-ca.sh DIR — a development CA for `make run`'s TLS listener, made once and kept in DIR:
#   ca.crt/ca.key          "kmqtt development CA" (EC P-256, 10 years)
#   server.crt/server.key  CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   device.crt/device.key  a client certificate, CN=demo-device
# Not for production: the CA key sits next to the certificates, unprotected.
set -euo pipefail
dir=${1:?usage: dev-ca.sh DIR}
mkdir -p "$dir"
cd "$dir"
export OPENSSL_CONF=/dev/null
[ -s ca.crt ] && [ -s server.crt ] && [ -s device.crt ] && exit 0
umask 077
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key ca.key
openssl req -new -x509 -key ca.key -out ca.crt -days 3650 -subj "/O=kmqtt/CN=kmqtt development CA" \
	-addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign"
sign() {	# sign NAME SUBJECT EXTENSIONS
	key "$1.key"
	openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
	printf '%b' "$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
		-extfile "$1.ext" -out "$1.crt" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}
sign server "/O=kmqtt/CN=localhost" \
	"subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n"
sign device "/O=kmqtt/CN=demo-device" \
	"extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n"
chmod 644 ca.crt server.crt device.crt
