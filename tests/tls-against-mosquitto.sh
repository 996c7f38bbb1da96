#!/usr/bin/env bash
# tests/tls-against-mosquitto.sh — proves the TLS checks right. Runs the checks of
# tests/tls/lib-tls.sh that do not depend on kmqtt (connect and pub/sub over TLS 1.2 and
# 1.3 with client certificates, IPv6, refusals of bad certificates and old versions, the
# closes after close_notify, garbage, corrupted records and renegotiation, binary payloads
# across TLS and plain listeners, a CRL re-read on SIGHUP) against Debian's mosquitto
# 2.0.11 configured the way tests/tls/test-tls.sh configures kmqttd, on this host (no
# kernel TLS needed: mosquitto does TLS with OpenSSL in userspace). Then it shows each
# check failing where it must: against a lax mosquitto (no client certificates asked,
# TLS 1.1 allowed), a mosquitto frozen with SIGSTOP, a TLS-1.3-only listener, a server
# certificate from the other CA and a user the ACL shuts out.
#
# Where kmqtt's contract differs from what mosquitto does (kmqtt closes on a KeyUpdate
# and closes live sessions whose certificate a reload revoked; mosquitto does neither),
# the check is run expecting mosquitto to fail it ("inverted: ... fails as it must").
#
# Prints TAP lines ("ok - ...", "not ok - ..."); exit status 0 only if none failed.
# Environment: BIN (default build/bin), KEEP=1 keeps the work directory.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
BIN=${BIN:-$top/build/bin}
fails=0

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fails=$((fails + 1)); }

. tests/tls/lib-tls.sh

# free_ports N: N distinct ports below the ephemeral range (32768..) that no socket uses
free_ports() {
	local p used got=" " n=0
	used=" $(ss -Htan 2>/dev/null | awk '{ n = split($4, a, ":"); printf "%s ", a[n] }') "
	for _ in $(seq 1000); do
		p=$((10000 + RANDOM % 22000))
		case "$got$used" in *" $p "*) continue ;; esac
		got+="$p "
		n=$((n + 1))
		[ $n = "$1" ] && { echo $got; return 0; }
	done
	return 1
}

command -v mosquitto >/dev/null || PATH=$PATH:/usr/sbin
for p in mosquitto mosquitto_passwd mosquitto_pub mosquitto_sub openssl; do
	command -v $p >/dev/null || { echo "not ok - $p is installed (make deps)"; exit 1; }
done
if ! make -s --no-print-directory -f tests/tools/tools.mk BUILD="$(dirname "$BIN")" >/dev/null; then
	echo "not ok - test tools build"
	exit 1
fi

work=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	[ "${KEEP:-0}" = 1 ] && echo "# work directory kept: $work" || rm -rf "$work"
}
trap cleanup EXIT

TLS_BIN=$BIN
TLS_WORK=$work
PKI=$work/pki
t0=$(tls_ms)
if bash tests/tls/mkpki.sh "$PKI"; then
	ok "mkpki.sh makes the test PKI ($(($(tls_ms) - t0)) ms)"
else
	notok "mkpki.sh makes the test PKI"
	exit 1
fi
tls_passwd "$work/passwd"
tls_acl "$work/acl"
read -r PLAIN_PORT TLS_PORT PW_PORT LAX_PORT WRONG_PORT ONLY13_PORT <<<"$(free_ports 6)"
[ -n "$ONLY13_PORT" ] || { echo "not ok - free ports"; exit 1; }
REAL_TLS_PORT=$TLS_PORT

# start_mosquitto NAME CONFIG-TEXT: our own mosquitto, up when its first port answers; pid
# in mpid
start_mosquitto() {
	local name=$1 conf=$work/$1.conf port
	{
		echo "user root"
		echo "persistence false"
		echo "log_type all"
		echo "log_dest file $work/$name.log"
		echo "$2"
	} >"$conf"
	port=$(awk '$1 == "listener" { print $2; exit }' "$conf")
	mosquitto -c "$conf" >>"$work/$name.out" 2>&1 &
	mpid=$!
	pids+=("$mpid")
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		kill -0 "$mpid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$work/$name.out" "$work/$name.log" 2>/dev/null | tail -n 5 | sed 's/^/#   /'
	return 1
}

# The broker under test: the listeners of tests/tls/test-tls.sh, the same files.
if start_mosquitto mosquitto "per_listener_settings false
allow_anonymous false
password_file $work/passwd
acl_file $work/acl
max_packet_size 262144
listener $PLAIN_PORT 127.0.0.1
$(tls_listener_conf "$TLS_PORT" 127.0.0.1)
$(tls_listener_conf "$TLS_PORT" ::1)
$(tls_pw_listener_conf "$PW_PORT" 127.0.0.1)"; then
	ok "mosquitto $(mosquitto -h 2>/dev/null | head -n 1 | awk '{print $3}') up: plain $PLAIN_PORT, TLS $TLS_PORT (127.0.0.1, ::1), TLS with passwords $PW_PORT"
else
	notok "mosquitto starts"
	exit 1
fi
broker=$mpid

echo "# connect and pub/sub with client certificates"
for v in 1.2 1.3; do
	tls_check_mosq_pubsub $v dev-1
	tls_check_mqtt_check $v dev-1
	tls_check_raw_pubsub "TLS $v" dev-1 --min tls$v --max tls$v
done
tls_check_ipv6
tls_check_password_listener
tls_check_identity_acl

echo "# refusals"
tls_check_untrusted
for v in 1.2 1.3; do
	tls_check_refused "TLS $v, client certificate from another CA" wrong-dev-1 --max tls$v
	tls_check_refused "TLS $v, expired client certificate" dev-expired --max tls$v
	tls_check_refused "TLS $v, client certificate not yet valid" dev-notyet --max tls$v
	tls_check_refused "TLS $v, no client certificate" - --max tls$v
	tls_check_refused "TLS $v, client certificate revoked by the CRL" dev-revoked --max tls$v
done
tls_check_versions

echo "# closes after the handshake, each followed by a normal client"
for v in 1.2 1.3; do
	for k in closenotify garbage corrupt; do
		tls_check_close $k $v
		tls_tool "TLS $v: $k: " tls_raw dev-1 --min tls$v --max tls$v --control $k
	done
done
tls_check_close renegotiate 1.2
tls_inverted "mosquitto (OpenSSL) goes through with a KeyUpdate; kmqtt closes by contract" \
	tls_tool "TLS 1.3: " tls_raw dev-1 -t 3 --min tls1.3 keyupdate
tls_tool "TLS 1.3: keyupdate: " tls_raw dev-1 --min tls1.3 --control keyupdate

echo "# binary payloads across the TLS and plain listeners"
tls_check_cross 0
tls_check_cross 1

echo "# a certificate added to the CRL, then SIGHUP"
if tls_hold_start reload dev-later 4; then
	pki_revoke dev-later || notok "pki_revoke dev-later"
	kill -HUP "$broker"
	sleep 0.5
	tls_check_refused "client certificate revoked by the CRL re-read on SIGHUP" dev-later
	tls_inverted "mosquitto keeps the live sessions a reload revoked; kmqtt closes them" \
		tls_hold_closed reload "$(tls_ms)" 1000
fi

echo "# the checks fail where they must"
# A lax mosquitto: no client certificate asked for, TLS 1.1 allowed (security level 0,
# without which OpenSSL 3 has no TLS 1.1 cipher), a second listener with a server
# certificate from the other CA, a third with TLS 1.3 only.
if start_mosquitto lax "per_listener_settings false
allow_anonymous true
listener $LAX_PORT 127.0.0.1
certfile $PKI/server.crt
keyfile $PKI/server.key
require_certificate false
tls_version tlsv1.1
ciphers DEFAULT:@SECLEVEL=0
listener $WRONG_PORT 127.0.0.1
certfile $PKI/wrong-server.crt
keyfile $PKI/wrong-server.key
$(tls_listener_conf "$ONLY13_PORT" 127.0.0.1 | sed 's/^tls_version .*/tls_version tlsv1.3/')"; then
	TLS_PORT=$LAX_PORT
	for c in wrong-dev-1 dev-expired dev-notyet - dev-revoked; do
		tls_inverted "the lax broker asks for no client certificate" \
			tls_check_refused "lax broker, certificate $c" $c
	done
	tls_inverted "the lax broker accepts TLS 1.1" \
		tls_tool "lax broker, TLS 1.1: " tls_raw dev-1 --max tls1.1 version
	TLS_PORT=$WRONG_PORT
	tls_inverted "this listener's certificate is from the CA the client trusts" \
		tls_check_untrusted
	TLS_PORT=$ONLY13_PORT
	tls_check_mosq_pubsub 1.3 dev-1
	TLS_TIMEOUT=3 tls_inverted "the listener takes TLS 1.3 only: the clients are pinned to 1.2" \
		tls_check_mosq_pubsub 1.2 dev-1
	tls_inverted "the listener takes TLS 1.3 only: the client is pinned to 1.2" \
		tls_check_raw_pubsub "TLS 1.2 only" dev-1 --max tls1.2
	TLS_PORT=$REAL_TLS_PORT
else
	notok "lax mosquitto starts"
fi

# The ACL gives dev-acl nothing outside tls/u/dev-acl/: its messages never arrive.
TLS_TIMEOUT=3 tls_inverted "dev-acl may not use the topics of the check" \
	tls_check_mosq_pubsub 1.3 dev-acl
TLS_TIMEOUT=3 tls_inverted "dev-acl may not use the topics of the check" \
	tls_check_raw_pubsub "as dev-acl" dev-acl --min tls1.3
TLS_TIMEOUT=3 tls_inverted -some "dev-acl may not use the topics of the check" \
	tls_tool "as dev-acl: " "$BIN/kmqtt-mqtt-check" -p "$TLS_PORT" -C "$PKI/ca.crt" \
	-E "$PKI/dev-acl.crt" -K "$PKI/dev-acl.key" -t 3 pubsub

# A broker that stops reading (SIGSTOP after the set-up) closes nothing.
# frozen KIND VERSION
frozen() {
	local out=$work/frozen-$1-$2.tap pid
	tls_raw dev-1 -t 3 -W 1 --min "tls$2" --max "tls$2" "$1" >"$out" 2>&1 &
	pid=$!
	if tls_wait_line 10 "$out" "^# $1: ready"; then
		kill -STOP "$broker"
		wait $pid
		kill -CONT "$broker"
		tls_inverted "mosquitto is stopped and closes nothing" \
			tls_tool "frozen broker, TLS $2: " cat "$out"
	else
		notok "frozen broker, TLS $2: $1: set-up ($(tail -n 1 "$out"))"
		wait $pid
	fi
}
for k in closenotify garbage corrupt; do
	frozen $k 1.2
	frozen $k 1.3
done
frozen renegotiate 1.2
TLS_TIMEOUT=2 tls_inverted "nothing closes a session that is left alone" \
	tls_tool "idle session: " tls_raw dev-1 -t 2 hold
tls_check_echo "after the frozen broker"

kill "${pids[@]}" 2>/dev/null
wait 2>/dev/null
pids=()
if grep -qiE 'segfault|assert|out of memory' "$work"/*.log "$work"/*.out 2>/dev/null; then
	notok "mosquitto logged no crash or memory failure"
else
	ok "mosquitto logged no crash or memory failure"
fi
echo "# $fails failed"
[ $fails = 0 ]
