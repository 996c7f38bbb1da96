#!/usr/bin/env bash
# tests/broker-against-mosquitto.sh — proves the broker tests right. Runs every
# kmqtt-mqtt-check scenario and every malformed-packet case of tests/tools/corpus against
# Debian's mosquitto 2, configured like the kmqtt test broker in tests/vm/test-broker.sh
# (same ACL file, password file made the same way, no anonymous access, 256 KiB packets),
# and shows that the same checks fail against a broker that misbehaves.
#
# Prints TAP lines ("ok - ...", "not ok - ..."); exit status 0 only if none failed.
# Environment: BIN (default build/bin), KEEP=1 keeps the work directory (mosquitto's log).
#
# Where mosquitto 2.0.11 itself departs from MQTT 3.1.1, the check stays strict (kmqtt must
# pass it) and this script expects it to FAIL against mosquitto: the line is reported as
# "ok - mosquitto deviates, check detects it: ...". If mosquitto stops deviating, that line
# turns into a failure asking for the list below to be updated.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
BIN=${BIN:-$top/build/bin}
CHECK=$BIN/kmqtt-mqtt-check
RAW=$BIN/kmqtt-mqtt-raw
fails=0

# "key|why": a check whose TAP name starts with key is expected to fail against mosquitto.
deviations=(
	"overlap: a/# (QoS 1) + a/+ (QoS 0): a/b delivered|delivers overlapping matches once at the QoS of one subscription, not the maximum [MQTT-3.3.5-1] (eclipse-mosquitto/mosquitto#3319)"
	"raw: MQTT-2.2.2-2_pingreq-flags-set.bin:|ignores reserved flag bits of PINGREQ"
	"raw: MQTT-2.2.2-2_puback-flags-set.bin:|ignores reserved flag bits of PUBACK"
	"raw: MQTT-3.12.1_pingreq-remaining-length-1.bin:|accepts a PINGREQ with a body"
	"raw: MQTT-3.3.1-2_publish-qos0-dup.bin:|accepts DUP=1 on a QoS 0 PUBLISH"
	"raw: MQTT-4.8.0-1_pingresp-from-client.bin:|ignores a PINGRESP sent by a client"
	"raw: MQTT-4.8.0-1_suback-from-client.bin:|ignores a SUBACK sent by a client"
	"raw: MQTT-4.8.0-1_unsuback-from-client.bin:|ignores an UNSUBACK sent by a client"
	"raw: garbage_http-request.bin:|reads 'GE' as a PUBACK with flags 7 and 69 bytes to come, and waits"
)

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fails=$((fails + 1)); }

# Rewrite the TAP lines of a tool according to the deviation list (run counts failures).
judge() {
	local line key why d hit
	while IFS= read -r line; do
		case $line in
		*": broker still serves a normal client afterwards"*) echo "$line"; continue ;;
		"ok - "* | "not ok - "*) ;;
		*) echo "$line"; continue ;;
		esac
		hit=
		for d in "${deviations[@]}"; do
			key=${d%%|*}
			why=${d#*|}
			case ${line#ok - } in "$key"*) hit=ok ;; esac
			case ${line#not ok - } in "$key"*) hit=notok ;; esac
			[ -n "$hit" ] && break
		done
		case $hit in
		notok) ok "mosquitto deviates, check detects it: ${line#not ok - } # mosquitto $why" ;;
		ok) notok "expected mosquitto to fail here ($why) but it passed: ${line#ok - }; update the deviation list" ;;
		*) echo "$line" ;;
		esac
	done
}

run() {	# run CMD...: the tool's TAP through judge, failures counted; a crash is one too
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	out=$(judge <<<"$out")
	echo "$out"
	fails=$((fails + $(grep -c '^not ok' <<<"$out")))
	[ $rc -le 1 ] || notok "$(basename "$1") ${2:-} ... exited with status $rc (crashed?)"
}

wait_for_line() {	# wait_for_line SECONDS FILE REGEX
	local t=$(($1 * 10))
	while [ $t -gt 0 ]; do
		grep -q "$3" "$2" 2>/dev/null && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

command -v mosquitto >/dev/null || PATH=$PATH:/usr/sbin
for p in mosquitto mosquitto_passwd; do
	command -v $p >/dev/null || { echo "not ok - $p is installed (make deps)"; exit 1; }
done
if ! make -s --no-print-directory -f tests/tools/tools.mk BUILD="$(dirname "$BIN")" >/dev/null; then
	echo "not ok - broker test tools build"
	exit 1
fi

work=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ "${KEEP:-0}" = 1 ] && echo "# work directory kept: $work" || rm -rf "$work"
}
trap cleanup EXIT

# The same users and passwords as the kmqtt VM test; the ACL file is shared as is.
mosquitto_passwd -c -b "$work/passwd" kmqtt-test kmqtt-test-pw >/dev/null 2>&1
mosquitto_passwd -b "$work/passwd" kmqtt-acl kmqtt-acl-pw >/dev/null 2>&1
AUTH=(-u kmqtt-test -P kmqtt-test-pw)

# start_mosquitto NAME PORT EXTRA-CONFIG: our own mosquitto; its pid in $mpid
start_mosquitto() {
	local name=$1 mport=$2 extra=$3 conf=$work/$1.conf
	cat >"$conf" <<-EOF
	per_listener_settings false
	user root
	listener $mport 127.0.0.1
	allow_anonymous false
	password_file $work/passwd
	acl_file $top/tests/tools/acl.conf
	max_keepalive 120
	max_packet_size 262144
	max_queued_messages 100000
	persistence false
	log_type all
	log_dest file $work/$name.log
	$extra
	EOF
	mosquitto -c "$conf" >>"$work/$name.out" 2>&1 &
	mpid=$!
	pids+=("$mpid")
	for _ in $(seq 50); do
		"$RAW" -p "$mport" "${AUTH[@]}" verify >/dev/null 2>&1 && return 0
		kill -0 "$mpid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$work/$name.out" "$work/$name.log" 2>/dev/null | tail -n 5 | sed 's/^/#   /'
	return 1
}

port=$(free_port) || { echo "not ok - a free port"; exit 1; }
if start_mosquitto mosquitto "$port" ""; then
	ok "mosquitto $(mosquitto -h 2>/dev/null | head -n 1 | awk '{print $3}') up on 127.0.0.1:$port"
else
	notok "mosquitto starts on 127.0.0.1:$port"
	exit 1
fi

# The slow ones first, in the background: mosquitto closes a connection that has not sent
# a complete CONNECT after its fixed 60 s pre-CONNECT keepalive x 1.5, on a coarse timer.
"$RAW" -p "$port" "${AUTH[@]}" -T 110 -V noconnect >"$work/noconnect.tap" 2>&1 &
slow1=$!
"$RAW" -p "$port" "${AUTH[@]}" -T 110 -V slowloris >"$work/slowloris.tap" 2>&1 &
slow2=$!

# mosquitto 2.0.11 scans for expired keepalives only every 6 s, with whole-second clocks
# (src/keepalive.c: "last_keepalive_check + 5 < db.now_s"), so a silent client with
# keepalive 2 is closed 3 to about 10 s later (3.7 to 8 s seen here). kmqtt's own test
# allows 1.5 s over 1.5 x keepalive; mosquitto gets 8 s.
MOSQ_SLACK=8000
echo "# scenarios"
run "$CHECK" -p "$port" "${AUTH[@]}" -a kmqtt-acl:kmqtt-acl-pw -s $MOSQ_SLACK \
	pubsub wildcards dollar overlap unsubscribe acl badauth keepalive takeover
echo "# many 1000"
run "$CHECK" -p "$port" "${AUTH[@]}" -n 10 -S 2 many 1000
echo "# flow (the stream the VM test kills kmqttd under)"
run "$CHECK" -p "$port" "${AUTH[@]}" flow 5

echo "# raw: keepalive, ping and the malformed-packet corpus (each followed by a normal client)"
run "$RAW" -p "$port" "${AUTH[@]}" -k 2 -s $MOSQ_SLACK keepalive
run "$RAW" -p "$port" "${AUTH[@]}" -k 2 ping
run "$RAW" -p "$port" "${AUTH[@]}" -k 2 -s $MOSQ_SLACK -V file tests/tools/corpus/*.bin

echo "# the checks fail against a broker that misbehaves"
dead=$(free_port)
for s in pubsub wildcards dollar overlap unsubscribe acl badauth keepalive takeover "many 10"; do
	# shellcheck disable=SC2086
	out=$("$CHECK" -p "$dead" "${AUTH[@]}" -a kmqtt-acl:kmqtt-acl-pw -t 2 $s 2>&1); rc=$?
	if [ $rc = 1 ] && grep -q '^not ok' <<<"$out" && ! grep -q '^ok' <<<"$out"; then
		ok "selftest: mqtt-check $s fails against a port where nothing listens"
	else
		notok "selftest: mqtt-check $s against a dead port: exit $rc: $(grep -m1 '^ok' <<<"$out")"
	fi
done
for m in noconnect slowloris keepalive ping verify "file tests/tools/corpus/MQTT-3.1.0-2_second-connect.bin"; do
	# shellcheck disable=SC2086
	out=$("$RAW" -p "$dead" "${AUTH[@]}" -T 2 $m 2>&1); rc=$?
	if [ $rc = 1 ] && grep -q '^not ok' <<<"$out" && ! grep -q '^ok' <<<"$out"; then
		ok "selftest: mqtt-raw $m fails against a port where nothing listens"
	else
		notok "selftest: mqtt-raw $m against a dead port: exit $rc"
	fi
done
out=$("$CHECK" -p "$port" -u kmqtt-test -P wrong pubsub 2>&1); rc=$?
if [ $rc = 1 ] && grep -q '^not ok - pubsub: sub-qos1 connects: Connection Refused' <<<"$out"; then
	ok "selftest: mqtt-check fails when the broker refuses its credentials"
else
	notok "selftest: mqtt-check with a wrong password: exit $rc"
fi
# A broker that drops QoS 1 messages: mosquitto with a 100-message subscriber queue.
lport=$(free_port)
if start_mosquitto lossy "$lport" "max_inflight_messages 10
max_queued_messages 100"; then
	out=$("$CHECK" -p "$lport" "${AUTH[@]}" -n 10 many 200 2>&1); rc=$?
	if [ $rc = 1 ] && grep -q '^not ok - many: subscriber 0: [0-9]* of 2000 messages' <<<"$out"; then
		ok "selftest: many detects lost QoS 1 messages ($(grep -o 'subscriber 0: [0-9]* of 2000' <<<"$out"))"
	else
		notok "selftest: many against a broker that drops messages: exit $rc"
		echo "$out" | sed 's/^/#   /'
	fi
	# the same instance killed under a QoS 1 stream: flow must notice
	"$CHECK" -p "$lport" "${AUTH[@]}" -t 3 flow 10 >"$work/flow-kill.tap" 2>&1 &
	fpid=$!
	wait_for_line 20 "$work/flow-kill.tap" '^# flow: ready' &&
		{ kill -9 "$mpid"; wait "$mpid"; } 2>/dev/null
	wait $fpid; rc=$?
	if [ $rc = 1 ] && grep -q '^not ok - flow: subscriber got' "$work/flow-kill.tap"; then
		ok "selftest: flow fails when the broker dies under it"
	else
		notok "selftest: flow with the broker killed: exit $rc"
		sed 's/^/#   /' "$work/flow-kill.tap"
	fi
else
	notok "selftest: lossy mosquitto starts on $lport"
fi
out=$("$CHECK" -p "$port" "${AUTH[@]}" closewatch 2 2>&1); rc=$?
if [ $rc = 1 ] && grep -q '^not ok - closewatch: 0 of 10' <<<"$out"; then
	ok "selftest: closewatch fails when the broker keeps the connections"
else
	notok "selftest: closewatch against a broker that stays: exit $rc"
fi

echo "# closewatch: connected clients see the broker go (the VM test does it with rmmod)"
cport=$(free_port)
if start_mosquitto stopped "$cport" ""; then
	"$CHECK" -p "$cport" "${AUTH[@]}" closewatch 20 >"$work/closewatch.tap" 2>&1 &
	cpid=$!
	wait_for_line 20 "$work/closewatch.tap" '^# closewatch: ready' && kill -TERM "$mpid"
	wait $cpid
	run cat "$work/closewatch.tap"
else
	notok "mosquitto starts on $cport"
fi

echo "# noconnect and slowloris (up to 110 s)"
wait $slow1 $slow2
run cat "$work/noconnect.tap" "$work/slowloris.tap"

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
