#!/usr/bin/env bash
# tests/tls/mkpki.sh DIR — a throwaway PKI for the TLS tests, made with openssl alone (no
# network), EC P-256 keys throughout (cheap handshakes in a TCG guest). Prints nothing on
# success; exits non-zero with openssl's complaint otherwise.
#
# In DIR (files are NAME.crt and NAME.key; every client certificate is for TLS clients):
#   ca.crt, ca.key         "kmqtt test CA", valid from yesterday for ten years
#   server                 CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   dev-1, dev-2, dev-3    good client certificates (CN = the name)
#   dev-acl                good client certificate for the %u ACL check
#   dev-later, dev-4       good now; pki_revoke (lib-tls.sh) revokes them during a test
#   dev-revoked            revoked in crl.pem
#   dev-expired            valid 2020-01-01 .. 2021-01-01
#   dev-notyet             valid 2090-01-01 .. 2091-01-01
#   crl.pem                the CA's CRL (PEM), revoking dev-revoked, next update in 30 days
#   wrong-ca.crt/.key      an unrelated CA, with the same subject name as the real one
#   wrong-dev-1            CN=dev-1 signed by the wrong CA (the name is right, the CA not)
#   wrong-server           CN=localhost with the same SANs, signed by the wrong CA
#   ca/                    the openssl ca database (index, serials) for later revocations
# Serial numbers are random 16-byte values whose first byte is below 0x10, so the printed
# form has a leading zero to strip (kmqttctl prints serials without leading zeros).
set -euo pipefail
[ $# = 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
export OPENSSL_CONF=/dev/null	# nothing of the system's openssl.cnf leaks in

yesterday=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
later=$(date -u -d '+3650 days' +%Y%m%d%H%M%SZ)

# make_ca NAME: a CA database and config in $dir/NAME/
make_ca() {
	local db=$dir/$1
	mkdir -p "$db/new"
	: >"$db/index.txt"
	echo 1000 >"$db/crlnumber"
	cat >"$db/ca.cnf" <<-EOF
	[ca]
	default_ca = this_ca
	[this_ca]
	dir = $db
	database = \$dir/index.txt
	new_certs_dir = \$dir/new
	serial = \$dir/serial
	crlnumber = \$dir/crlnumber
	default_md = sha256
	default_crl_days = 30
	policy = any
	unique_subject = no
	email_in_dn = no
	[any]
	commonName = supplied
	organizationName = optional
	[ca_ext]
	basicConstraints = critical, CA:true
	keyUsage = critical, keyCertSign, cRLSign
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid:always
	[server_ext]
	basicConstraints = CA:false
	keyUsage = critical, digitalSignature
	extendedKeyUsage = serverAuth
	subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	[client_ext]
	basicConstraints = CA:false
	keyUsage = critical, digitalSignature
	extendedKeyUsage = clientAuth
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	EOF
}

newkey() {	# newkey FILE.key FILE.csr CN
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -batch \
		-keyout "$1" -out "$2" -subj "/O=kmqtt tests/CN=$3" 2>/dev/null
}

# issue CA OUT CN EXT [START END]: OUT.key and OUT.crt signed by CA (its db dir name)
issue() {
	local ca=$1 out=$dir/$2 cn=$3 ext=$4 start=${5:-$yesterday} end=${6:-$later}
	newkey "$out.key" "$out.csr" "$cn"
	printf '0%s\n' "$(openssl rand -hex 16 | cut -c2-)" >"$dir/$ca/serial"
	openssl ca -batch -notext -config "$dir/$ca/ca.cnf" -extensions "$ext" \
		-cert "$dir/$ca.crt" -keyfile "$dir/$ca.key" \
		-startdate "$start" -enddate "$end" -in "$out.csr" -out "$out.crt" 2>"$out.err" ||
		{ cat "$out.err" >&2; return 1; }
	rm -f "$out.csr" "$out.err"
}

# self_ca NAME: a self-signed CA certificate NAME.crt (openssl ca -selfsign takes dates)
self_ca() {
	make_ca "$1"
	newkey "$dir/$1.key" "$dir/$1.csr" "kmqtt test CA"
	printf '0%s\n' "$(openssl rand -hex 16 | cut -c2-)" >"$dir/$1/serial"
	openssl ca -batch -notext -selfsign -config "$dir/$1/ca.cnf" -extensions ca_ext \
		-keyfile "$dir/$1.key" -startdate "$yesterday" -enddate "$later" \
		-in "$dir/$1.csr" -out "$dir/$1.crt" 2>"$dir/$1.err" ||
		{ cat "$dir/$1.err" >&2; return 1; }
	rm -f "$dir/$1.csr" "$dir/$1.err"
}

self_ca ca
self_ca wrong-ca
issue ca server localhost server_ext
for n in dev-1 dev-2 dev-3 dev-4 dev-acl dev-later dev-revoked; do
	issue ca $n $n client_ext
done
issue ca dev-expired dev-expired client_ext 20200101000000Z 20210101000000Z
issue ca dev-notyet dev-notyet client_ext 20900101000000Z 20910101000000Z
issue wrong-ca wrong-dev-1 dev-1 client_ext
issue wrong-ca wrong-server localhost server_ext
openssl ca -batch -config "$dir/ca/ca.cnf" -cert "$dir/ca.crt" -keyfile "$dir/ca.key" \
	-revoke "$dir/dev-revoked.crt" 2>/dev/null
openssl ca -batch -config "$dir/ca/ca.cnf" -cert "$dir/ca.crt" -keyfile "$dir/ca.key" \
	-gencrl -out "$dir/crl.pem" 2>/dev/null
chmod 600 "$dir"/*.key
