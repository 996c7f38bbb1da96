# shellcheck shell=bash
# tests/tls/lib-tls.sh — the TLS checks shared by tests/tls/test-tls.sh (kmqtt, in a VM)
# and tests/tls-against-mosquitto.sh (mosquitto 2.0.11 on the host, which proves the checks
# right), sourced by both. Nothing here knows which broker it talks to; what only kmqtt has
# (counters, kTLS, kmqttctl) stays in test-tls.sh.
#
# The caller defines ok and notok (one TAP line each, failures counted) and sets:
#   TLS_BIN     directory holding kmqtt-tls-raw and kmqtt-mqtt-check
#   PKI         a directory made by tests/tls/mkpki.sh
#   TLS_WORK    a scratch directory
#   TLS_PORT    the certificate listener (127.0.0.1 and ::1): require_certificate,
#               use_identity_as_username, crlfile, tls_version tlsv1.2 (tls_listener_conf)
#   PW_PORT     TLS on 127.0.0.1 without client certificates: user name and password
#   PLAIN_PORT  plain TCP on 127.0.0.1, user name and password
# and may define tls_on_connected CLIENT_ID VERSION CERT, called while a mosquitto_sub
# made by tls_check_mosq_pubsub is connected (kmqtt checks its session there).
#
# Identities: kmqtt-test / kmqtt-test-pw (password file: tls_passwd) on the plain and
# password listeners; on the certificate listener the certificate's CN is the user name:
# dev-1 to dev-4 and dev-later may use every topic, dev-acl only tls/u/dev-acl/#
# (tls_acl: the %u pattern).

TLS_TIMEOUT=${TLS_TIMEOUT:-10}	# seconds for any one client
TLS_USER=kmqtt-test
TLS_PASS=kmqtt-test-pw
TLS_SEQ=0

tls_ms() { date +%s%3N; }

tls_passwd() {	# tls_passwd FILE
	mosquitto_passwd -c -b "$1" "$TLS_USER" "$TLS_PASS" >/dev/null 2>&1
}

tls_acl() {	# tls_acl FILE
	cat >"$1" <<-'EOF'
	# tests/tls: full access for the test user and the good device certificates,
	# dev-acl only below its own name (its user name is its certificate's CN).
	user kmqtt-test
	topic readwrite #
	topic readwrite $foo/#
	user dev-1
	topic readwrite #
	topic readwrite $foo/#
	user dev-2
	topic readwrite #
	user dev-3
	topic readwrite #
	user dev-4
	topic readwrite #
	user dev-later
	topic readwrite #
	pattern readwrite tls/u/%u/#
	EOF
}

# tls_listener_conf PORT ADDRESS: the certificate listener, mosquitto.conf syntax
tls_listener_conf() {
	cat <<-EOF
	listener $1 $2
	cafile $PKI/ca.crt
	certfile $PKI/server.crt
	keyfile $PKI/server.key
	require_certificate true
	use_identity_as_username true
	crlfile $PKI/crl.pem
	tls_version tlsv1.2
	EOF
}

# tls_pw_listener_conf PORT ADDRESS: TLS, server certificate only, passwords
tls_pw_listener_conf() {
	cat <<-EOF
	listener $1 $2
	certfile $PKI/server.crt
	keyfile $PKI/server.key
	require_certificate false
	tls_version tlsv1.2
	EOF
}

# pki_revoke NAME: add NAME's certificate to the CA's CRL ($PKI/crl.pem, rewritten)
pki_revoke() {
	OPENSSL_CONF=/dev/null openssl ca -batch -config "$PKI/ca/ca.cnf" -cert "$PKI/ca.crt" \
		-keyfile "$PKI/ca.key" -revoke "$PKI/$1.crt" >/dev/null 2>&1 &&
	OPENSSL_CONF=/dev/null openssl ca -batch -config "$PKI/ca/ca.cnf" -cert "$PKI/ca.crt" \
		-keyfile "$PKI/ca.key" -gencrl -out "$PKI/crl.pem.new" >/dev/null 2>&1 &&
	mv "$PKI/crl.pem.new" "$PKI/crl.pem"
}

# cert_serial NAME: the serial as kmqttctl prints it: upper-case hex, no leading zeros
cert_serial() {
	openssl x509 -in "$PKI/$1.crt" -noout -serial | sed 's/^serial=//; s/^0*//' |
		tr 'a-f' 'A-F'
}

# cert_issuer NAME: the issuer in RFC 2253 form
cert_issuer() {
	openssl x509 -in "$PKI/$1.crt" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//'
}

# tls_force VERSION: an OPENSSL_CONF file that pins clients to TLS VERSION (1.2 or 1.3).
# libmosquitto's tls_version "tlsv1.2" is only a minimum (2.0.11: lib/net_mosq.c), so
# mosquitto_pub/sub and kmqtt-mqtt-check get their exact version from OpenSSL's config.
tls_force() {
	local f=$TLS_WORK/openssl-tls$1.cnf
	if [ ! -s "$f" ]; then
		cat >"$f" <<-EOF
		openssl_conf = kmqtt_tests
		[kmqtt_tests]
		ssl_conf = kmqtt_ssl
		[kmqtt_ssl]
		system_default = kmqtt_pin
		[kmqtt_pin]
		MinProtocol = TLSv$1
		MaxProtocol = TLSv$1
		EOF
	fi
	echo "$f"
}

# tls_mosq_args CERT: mosquitto client options for the certificate listener ("-": none)
tls_mosq_args() {
	echo "--cafile $PKI/ca.crt"
	[ "$1" = - ] || echo "--cert $PKI/$1.crt --key $PKI/$1.key"
}

# tls_raw_args CERT: kmqtt-tls-raw's options for the certificate listener as CERT ("-":
# none), into the array TLS_RAW_ARGS
tls_raw_args() {
	TLS_RAW_ARGS=(-p "$TLS_PORT" --cafile "$PKI/ca.crt" -t "$TLS_TIMEOUT")
	[ "$1" = - ] || TLS_RAW_ARGS+=(--cert "$PKI/$1.crt" --key "$PKI/$1.key")
}

# tls_raw CERT ARGS...: kmqtt-tls-raw on the certificate listener as CERT ("-": none)
tls_raw() {
	tls_raw_args "$1"
	shift
	"$TLS_BIN/kmqtt-tls-raw" "${TLS_RAW_ARGS[@]}" "$@"
}

# tls_tool PREFIX CMD...: run a test tool, turning its TAP lines into ours (named
# "PREFIX: ..."); a crash or a failure without a "not ok" line is a failure of its own.
tls_tool() {
	local prefix=$1 out rc line n=0 bad=0
	shift
	out=$("$@" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "$prefix${line#ok - }"; n=$((n + 1)) ;;
		"not ok - "*) notok "$prefix${line#not ok - }"; n=$((n + 1)); bad=$((bad + 1)) ;;
		*) [ -n "$line" ] && echo "#   $line" ;;
		esac
	done <<<"$out"
	if [ $rc -gt 1 ] || { [ $rc != 0 ] && [ $bad = 0 ]; } || [ $n = 0 ]; then
		notok "$prefix$(basename "$1") ${2:-}...: exit status $rc, $n TAP lines"
	fi
	return $((rc != 0))
}

# tls_inverted [-some] WHY CMD...: run a check (a function of this file, or tls_tool ...)
# where it must fail, for WHY: each "not ok" line of it becomes our "ok - ...: fails as it
# must", each "ok" line our failure; with -some, only at least one line must fail (the
# check has parts that WHY does not touch), its "ok" lines are only shown.
tls_inverted() {
	local some=0 why out line bad=0
	[ "$1" = -some ] && { some=1; shift; }
	why=$1
	shift
	out=$(
		ok() { echo "ok - $*"; }
		notok() { echo "not ok - $*"; }
		"$@" 2>&1
	)
	while IFS= read -r line; do
		case $line in
		"ok - "*)
			if [ $some = 1 ]; then
				echo "#   passes here too: ${line#ok - }"
			else
				notok "inverted: ${line#ok - }: passed, but must fail ($why)"
			fi ;;
		"not ok - "*) ok "inverted: ${line#not ok - }: fails as it must ($why)"; bad=$((bad + 1)) ;;
		*) [ -n "$line" ] && echo "$line" ;;
		esac
	done <<<"$out"
	[ $bad -gt 0 ] || notok "inverted: $*: no failure at all ($why)"
}

# tls_wait_line SECONDS FILE REGEX
tls_wait_line() {
	local t=$(($1 * 10))
	while [ $t -gt 0 ]; do
		grep -q "$3" "$2" 2>/dev/null && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

# ---------------------------------------------------------------------------------------
# The checks. Each prints TAP lines through ok/notok and returns non-zero if one failed.

# tls_check_mosq_pubsub VERSION CERT [HOST]: mosquitto_sub and mosquitto_pub pinned to TLS
# VERSION with client certificate CERT: a QoS 1 message arrives.
tls_check_mosq_pubsub() {
	local v=$1 cert=$2 h=${3:-127.0.0.1} conf id topic token out pid rc=0
	conf=$(tls_force "$v")
	TLS_SEQ=$((TLS_SEQ + 1))
	id=tls-sub-$$-$TLS_SEQ
	topic=tls/pubsub/$$/$TLS_SEQ
	token=tls-$v-$cert-$RANDOM$RANDOM
	out=$TLS_WORK/$id.out
	# shellcheck disable=SC2046
	# (it ends with the message; the longer timeout leaves room for tls_on_connected)
	OPENSSL_CONF=$conf timeout $((3 * TLS_TIMEOUT)) stdbuf -oL mosquitto_sub -h "$h" -p "$TLS_PORT" \
		$(tls_mosq_args "$cert") -i "$id" -t "$topic" -q 1 -C 1 -d >"$out" 2>&1 &
	pid=$!
	if ! tls_wait_line "$TLS_TIMEOUT" "$out" 'received SUBACK'; then
		notok "mosquitto_sub over TLS $v as $cert on $h: subscribed ($(grep -v '^Client' "$out" | tail -n 2 | tr '\n' ' '))"
		kill $pid 2>/dev/null
		wait $pid 2>/dev/null
		return 1
	fi
	if declare -F tls_on_connected >/dev/null; then
		tls_on_connected "$id" "TLSv$v" "$cert" || rc=1
	fi
	# shellcheck disable=SC2046
	if ! OPENSSL_CONF=$conf timeout "$TLS_TIMEOUT" mosquitto_pub -h "$h" -p "$TLS_PORT" \
		$(tls_mosq_args "$cert") -t "$topic" -q 1 -m "$token" 2>"$out.pub"; then
		notok "mosquitto_pub over TLS $v as $cert on $h: $(tr '\n' ' ' <"$out.pub")"
		kill $pid 2>/dev/null
		wait $pid 2>/dev/null
		return 1
	fi
	wait $pid
	if grep -qx "$token" "$out"; then
		ok "mosquitto_sub and mosquitto_pub over TLS $v with client certificate $cert on $h: QoS 1 message delivered"
	else
		notok "mosquitto_sub and mosquitto_pub over TLS $v with client certificate $cert on $h: message not delivered ($(grep -v '^Client' "$out" | tail -n 2 | tr '\n' ' '))"
		rc=1
	fi
	return $rc
}

# tls_check_mqtt_check VERSION CERT: the libmosquitto scenarios over TLS VERSION
tls_check_mqtt_check() {
	local v=$1 cert=$2 conf
	conf=$(tls_force "$v")
	OPENSSL_CONF=$conf tls_tool "TLS $v as $cert: " "$TLS_BIN/kmqtt-mqtt-check" \
		-p "$TLS_PORT" -C "$PKI/ca.crt" -E "$PKI/$cert.crt" -K "$PKI/$cert.key" \
		-V "tlsv$v" -t "$TLS_TIMEOUT" pubsub wildcards dollar unsubscribe takeover many 20
}

# tls_check_refused WHAT CERT [kmqtt-tls-raw options]: the broker refuses CERT ("-": no
# certificate), seen by kmqtt-tls-raw (how) and by mosquitto_pub (exits non-zero).
tls_check_refused() {
	local what=$1 cert=$2 rc=0
	shift 2
	tls_tool "$what: " tls_raw "$cert" "$@" refused || rc=1
	# shellcheck disable=SC2046
	if timeout "$TLS_TIMEOUT" mosquitto_pub -p "$TLS_PORT" $(tls_mosq_args "$cert") \
		-t tls/refused -m x -q 1 >/dev/null 2>&1; then
		notok "$what: mosquitto_pub was accepted"
		rc=1
	else
		ok "$what: mosquitto_pub fails"
	fi
	return $rc
}

# tls_check_untrusted: a client that trusts the wrong CA does not accept the broker
tls_check_untrusted() {
	local rc=0
	tls_tool "client trusting another CA: " "$TLS_BIN/kmqtt-tls-raw" -p "$TLS_PORT" \
		--cafile "$PKI/wrong-ca.crt" --cert "$PKI/dev-1.crt" --key "$PKI/dev-1.key" \
		-t "$TLS_TIMEOUT" untrusted || rc=1
	if timeout "$TLS_TIMEOUT" mosquitto_pub -p "$TLS_PORT" --cafile "$PKI/wrong-ca.crt" \
		--cert "$PKI/dev-1.crt" --key "$PKI/dev-1.key" -t tls/x -m x >/dev/null 2>&1; then
		notok "client trusting another CA: mosquitto_pub connected anyway"
		rc=1
	else
		ok "client trusting another CA: mosquitto_pub fails"
	fi
	return $rc
}

# tls_check_versions: TLS 1.1 and 1.0 handshakes are refused (with a good certificate)
tls_check_versions() {
	local rc=0
	tls_tool "TLS 1.1: " tls_raw dev-1 --max tls1.1 version || rc=1
	tls_tool "TLS 1.0: " tls_raw dev-1 --max tls1 version || rc=1
	return $rc
}

# tls_check_echo WHAT [CERT]: the broker still serves (subscribe, publish, receive)
tls_check_echo() {
	tls_tool "$1: afterwards " tls_raw "${2:-dev-1}" echo
}

# tls_check_close KIND VERSION: after KIND (closenotify, garbage, corrupt, keyupdate,
# renegotiate) on a TLS VERSION connection the broker closes it, and serves the next one
tls_check_close() {
	local rc=0
	tls_tool "TLS $2: " tls_raw dev-1 --min "tls$2" --max "tls$2" "$1" || rc=1
	tls_check_echo "TLS $2: $1" || rc=1
	return $rc
}

# tls_check_raw_pubsub LABEL CERT [kmqtt-tls-raw options]: binary payloads of 0 to 64 KiB
# at QoS 0 and 1 come back byte-exact over TLS
tls_check_raw_pubsub() {
	local label=$1 cert=$2
	shift 2
	tls_tool "$label: " tls_raw "$cert" "$@" pubsub
}

# tls_check_cross QOS: a 64 KiB random binary payload from the TLS listener to a plain
# subscriber and back the other way, byte for byte
tls_check_cross() {
	local q=$1 rc=0 dir f out pid topic sub pub
	f=$TLS_WORK/payload-$q.bin
	head -c 65536 /dev/urandom >"$f"
	for dir in tls-to-plain plain-to-tls; do
		TLS_SEQ=$((TLS_SEQ + 1))
		topic=tls/cross/$$/$TLS_SEQ
		out=$TLS_WORK/cross-$TLS_SEQ.bin
		if [ $dir = tls-to-plain ]; then
			sub=(-p "$PLAIN_PORT" -u "$TLS_USER" -P "$TLS_PASS")
			# shellcheck disable=SC2207
			pub=(-p "$TLS_PORT" $(tls_mosq_args dev-1))
		else
			# shellcheck disable=SC2207
			sub=(-p "$TLS_PORT" $(tls_mosq_args dev-1))
			pub=(-p "$PLAIN_PORT" -u "$TLS_USER" -P "$TLS_PASS")
		fi
		timeout "$TLS_TIMEOUT" mosquitto_sub "${sub[@]}" -t "$topic" -q "$q" -C 1 -N \
			>"$out" 2>"$out.err" &
		pid=$!
		# mosquitto_sub has no "subscribed" signal without -d (which would mix with
		# the payload): publish until it has its copy
		for _ in $(seq 20); do
			sleep 0.25
			timeout "$TLS_TIMEOUT" mosquitto_pub "${pub[@]}" -t "$topic" -q "$q" -f "$f" \
				2>>"$out.err" || break
			kill -0 $pid 2>/dev/null || break
		done
		wait $pid
		if cmp -s "$f" "$out"; then
			ok "QoS $q, $dir: a 64 KiB random binary payload arrives byte-exact"
		else
			notok "QoS $q, $dir: payload differs ($(stat -c %s "$out") of 65536 bytes; $(tail -n 1 "$out.err"))"
			rc=1
		fi
	done
	return $rc
}

# tls_check_ipv6: the certificate listener on ::1 (and the certificate's IP:::1)
tls_check_ipv6() {
	local rc=0
	tls_tool "IPv6: " "$TLS_BIN/kmqtt-tls-raw" -h ::1 -p "$TLS_PORT" --cafile "$PKI/ca.crt" \
		--cert "$PKI/dev-1.crt" --key "$PKI/dev-1.key" -t "$TLS_TIMEOUT" connect || rc=1
	tls_check_mosq_pubsub 1.3 dev-1 ::1 || rc=1
	return $rc
}

# tls_check_password_listener: TLS without a client certificate, with a password
tls_check_password_listener() {
	local rc=0
	tls_tool "password listener: " "$TLS_BIN/kmqtt-tls-raw" -p "$PW_PORT" \
		--cafile "$PKI/ca.crt" -u "$TLS_USER" -P "$TLS_PASS" -t "$TLS_TIMEOUT" echo || rc=1
	tls_tool "password listener, wrong password: " "$TLS_BIN/kmqtt-tls-raw" -p "$PW_PORT" \
		--cafile "$PKI/ca.crt" -u "$TLS_USER" -P wrong -t "$TLS_TIMEOUT" refused || rc=1
	return $rc
}

# tls_check_identity_acl: the certificate CN is the user name of the %u ACL pattern:
# dev-acl may publish below tls/u/dev-acl/ and not below tls/u/dev-1/
tls_check_identity_acl() {
	local out pid rc=0
	out=$TLS_WORK/acl-$$.out
	# shellcheck disable=SC2046
	timeout $((2 * TLS_TIMEOUT)) stdbuf -oL mosquitto_sub -p "$TLS_PORT" $(tls_mosq_args dev-1) \
		-t 'tls/u/#' -v -C 1 -d >"$out" 2>&1 &
	pid=$!
	if ! tls_wait_line "$TLS_TIMEOUT" "$out" 'received SUBACK'; then
		notok "%u ACL: dev-1 subscribes to tls/u/#"
		kill $pid 2>/dev/null
		return 1
	fi
	# shellcheck disable=SC2046
	timeout "$TLS_TIMEOUT" mosquitto_pub -p "$TLS_PORT" $(tls_mosq_args dev-acl) -q 1 \
		-t tls/u/dev-1/denied -m denied >/dev/null 2>&1
	# shellcheck disable=SC2046
	timeout "$TLS_TIMEOUT" mosquitto_pub -p "$TLS_PORT" $(tls_mosq_args dev-acl) -q 1 \
		-t tls/u/dev-acl/allowed -m allowed >/dev/null 2>&1
	wait $pid
	if grep -qx 'tls/u/dev-acl/allowed allowed' "$out" && ! grep -q denied "$out"; then
		ok "%u ACL with the certificate CN: dev-acl publishes below tls/u/dev-acl/ only"
	else
		notok "%u ACL with the certificate CN: got $(grep '^tls/' "$out" | tr '\n' ' ')"
		rc=1
	fi
	return $rc
}

# tls_hold_start NAME CERT SECONDS [kmqtt-tls-raw options]: a live session of CERT
# (kmqtt-tls-raw hold, which gives up after SECONDS) in the background; waits until it is
# up. Its pid in TLS_HOLD_PID.
tls_hold_start() {
	local out=$TLS_WORK/hold-$1.out name=$1 cert=$2 secs=$3
	shift 3
	tls_raw_args "$cert"
	# a simple command, so that $! is the tool itself (a caller may kill it)
	"$TLS_BIN/kmqtt-tls-raw" "${TLS_RAW_ARGS[@]}" "$@" -t "$secs" hold >"$out" 2>&1 &
	# shellcheck disable=SC2034 # for the caller
	TLS_HOLD_PID=$!
	if tls_wait_line "$TLS_TIMEOUT" "$out" '^# hold: ready'; then
		return 0
	fi
	notok "$name: a live session of $cert ($(tail -n 2 "$out" | tr '\n' ' '))"
	return 1
}

# tls_hold_closed NAME T0_MS LIMIT_MS: the session of tls_hold_start NAME ended, closed by
# the broker no later than LIMIT_MS after T0_MS (ms since the epoch)
tls_hold_closed() {
	local out=$TLS_WORK/hold-$1.out at
	# its verdict (not wait: this may run in a subshell, which cannot wait for the tool;
	# the tool gives up by itself after its SECONDS)
	tls_wait_line 120 "$out" '^\(not \)\?ok - ' || {
		notok "$1: the session tool did not finish"
		return 1
	}
	at=$(sed -n 's/^# hold: closed at epoch ms //p' "$out")
	if [ -z "$at" ]; then
		notok "$1: the live session was not closed ($(grep -E '^(not )?ok' "$out"))"
		return 1
	fi
	if [ $((at - $2)) -le "$3" ]; then
		ok "$1: the live session was closed $((at - $2)) ms later (limit $3 ms)"
	else
		notok "$1: the live session was closed $((at - $2)) ms later (limit $3 ms)"
		return 1
	fi
}
