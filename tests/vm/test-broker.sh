#!/usr/bin/env bash
# The broker end to end: kmqttd (listener, mosquitto password and ACL files) authenticates
# and hands connections to kmqtt.ko. Judged by the scenarios and the malformed-packet corpus
# that tests/broker-against-mosquitto.sh proves right against mosquitto, configured the
# same way, plus what only kmqtt has: its counters, kill -9 of kmqttd under QoS 1 traffic
# (established sessions live in the kernel) and rmmod with live clients.
set -u
. "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
port=1883
sock=$work/kmqttd.sock
export KMQTT_CTL_SOCKET=$sock
dlog=$work/kmqttd.log
connect_timeout=5
AUTH=(-u kmqtt-test -P kmqtt-test-pw)
CORPUS=$TOP/tests/tools/corpus
# Whatever happens, leave no daemon or client behind for the next group in this guest.
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

stats() { kmqttctl -j stats 2>/dev/null; }
mcount() { stats | jq -r ".module.counters.$1 // 0"; }
dcount() { stats | jq -r ".daemon.counters.$1 // 0"; }
module_state() { kmqttctl -j status 2>/dev/null | jq -r '.module.state // "absent"'; }
daemon_link() { kmqttctl -j status 2>/dev/null | jq -r '.daemon.module // "down"'; }
registered() { [ "$(module_state)" = running ] && [ "$(daemon_link)" = registered ]; }
serving() { kmqtt-mqtt-raw -p $port "${AUTH[@]}" verify >/dev/null 2>&1; }
start_daemon() {
	kmqttd -c "$work/kmqttd.conf" >>"$dlog" 2>&1 &
	dpid=$!
}
wait_line() { wait_for "$1" grep -q "$3" "$2"; }	# wait_line SECONDS FILE REGEX

# tool CMD...: run a test tool; its TAP lines go to $TAP, a crash or a silent failure
# is a failure of its own.
tool() {
	local out rc n
	out=$("$@" 2>&1)
	rc=$?
	echo "$out"
	grep -E '^(not )?ok' <<<"$out" >>"$TAP"
	n=$(grep -c '^not ok' <<<"$out")
	fails=$((fails + n))
	if [ $rc -gt 1 ] || { [ $rc != 0 ] && [ "$n" = 0 ]; }; then
		notok "$(basename "$1") ${2:-}...: exit status $rc"
	fi
}

# The tools are built on the host by `make` (tests/tools/tools.mk); build them here if not.
if [ ! -x "$BIN/kmqtt-mqtt-check" ] || [ ! -x "$BIN/kmqtt-mqtt-raw" ] ||
   [ "$TOP/tests/tools/mqtt-check.c" -nt "$BIN/kmqtt-mqtt-check" ] ||
   [ "$TOP/tests/tools/mqtt-raw.c" -nt "$BIN/kmqtt-mqtt-raw" ]; then
	check "broker test tools build" make -s -C "$TOP" -f tests/tools/tools.mk BUILD="$TOP/build"
fi

# The same users, passwords, ACL file and limits as the mosquitto run.
mosquitto_passwd -c -b "$work/passwd" kmqtt-test kmqtt-test-pw >/dev/null 2>&1
mosquitto_passwd -b "$work/passwd" kmqtt-acl kmqtt-acl-pw >/dev/null 2>&1
cat >"$work/kmqttd.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous false
password_file $work/passwd
acl_file $TOP/tests/tools/acl.conf
max_keepalive 120
max_packet_size 262144
max_queued_messages 100000
connect_timeout $connect_timeout
control_socket $sock
log_level info
EOF

check "insmod kmqtt.ko ($KVER)" insmod "$KO"
check "kmqttd -t accepts the broker test configuration" kmqttd -t -c "$work/kmqttd.conf"
start_daemon
check "kmqttd registers with kmqtt.ko" wait_for 15 registered
check "kmqttd serves MQTT on 127.0.0.1:$port" wait_for 15 serving

# --- the scenarios
tool kmqtt-mqtt-check -p $port "${AUTH[@]}" -a kmqtt-acl:kmqtt-acl-pw all
tool kmqtt-mqtt-check -p $port "${AUTH[@]}" -n 10 -S 2 many 1000
tool kmqtt-mqtt-raw -p $port "${AUTH[@]}" -k 2 keepalive
tool kmqtt-mqtt-raw -p $port "${AUTH[@]}" -k 2 ping

# --- the malformed-packet corpus: every case a close, counted by the side that saw it
n_plain=0 n_stall=0 n_first=0
for f in "$CORPUS"/*.bin; do
	case $f in
	*.eof.bin) ;;
	*.stall.bin) n_stall=$((n_stall + 1)) ;;
	*.first.bin) n_first=$((n_first + 1)) ;;
	*) n_plain=$((n_plain + 1)) ;;
	esac
done
pe0=$(mcount protocol_errors)
ka0=$(mcount keepalive_timeouts)
tool kmqtt-mqtt-raw -p $port "${AUTH[@]}" -k 2 -V file $(ls "$CORPUS"/*.bin | grep -v '\.first\.bin$')
pe=$(($(mcount protocol_errors) - pe0))
check "kmqtt.ko counted a protocol error for each of the $n_plain malformed packets after CONNECT (got $pe)" \
	test "$pe" = "$n_plain"
ka=$(($(mcount keepalive_timeouts) - ka0))
check "kmqtt.ko counted a keepalive timeout for each of the $n_stall unfinished packets (got $ka)" \
	test "$ka" = "$n_stall"
kinds=$(stats | jq -r '.module.errors | length')
check "kmqttctl stats shows the protocol errors by kind ($kinds kinds)" test "${kinds:-0}" -ge 5
# The cases that replace the CONNECT are kmqttd's: one at a time, each must be counted.
bad_connects() { stats | jq -r '.daemon.counters | (.connect_invalid // 0) +
	(.unsupported_protocol_version // 0) + (.connect_too_large // 0)'; }
uncounted=
for f in "$CORPUS"/*.first.bin; do
	c0=$(bad_connects)
	tool kmqtt-mqtt-raw -p $port "${AUTH[@]}" -V file "$f"
	c1=$(bad_connects)
	echo "# $(basename "$f"): bad CONNECT counters +$((c1 - c0))"
	[ "$c1" -gt "$c0" ] || uncounted+=" $(basename "$f")"
done
check "kmqttd counted each of the $n_first bad first packets as an invalid, unsupported or too large CONNECT${uncounted:+ (not:$uncounted)}" \
	test -z "$uncounted"

# --- connections that never complete their CONNECT: kmqttd's connect_timeout
ct0=$(dcount connect_timeouts)
kmqtt-mqtt-raw -p $port "${AUTH[@]}" -T $((connect_timeout + 3)) -V noconnect >"$work/noconnect.tap" 2>&1 &
p1=$!
kmqtt-mqtt-raw -p $port "${AUTH[@]}" -T $((connect_timeout + 3)) -V slowloris >"$work/slowloris.tap" 2>&1 &
p2=$!
wait $p1 $p2
tool cat "$work/noconnect.tap" "$work/slowloris.tap"
check "kmqttd counted both connect timeouts" test $(($(dcount connect_timeouts) - ct0)) = 2

# --- kill -9 of kmqttd under QoS 1 traffic: the sessions live in the kernel
lost0=$(mcount daemon_lost)
kmqtt-mqtt-check -p $port "${AUTH[@]}" flow 12 >"$work/flow.tap" 2>&1 &
fpid=$!
if wait_line 30 "$work/flow.tap" '^# flow: ready'; then
	sleep 3
	kill -KILL "$dpid"
	wait "$dpid" 2>/dev/null
	check "kill -9 of kmqttd under traffic: the module releases the daemon role" \
		wait_for 5 eval '[ "$(module_state)" = no-daemon ]'
	check "daemon_lost counted" test "$(mcount daemon_lost)" = $((lost0 + 1))
	wait $fpid
	tool cat "$work/flow.tap"
	start_daemon
	check "kmqttd restarted after kill -9 registers again" wait_for 15 registered
	check "and serves new connections" wait_for 15 serving
else
	notok "flow clients connected before the kill (log: $(tail -n 3 "$work/flow.tap"))"
	kill "$fpid" 2>/dev/null
fi

# --- rmmod with live connections: clients see the close, the daemon carries on
kmqtt-mqtt-check -p $port "${AUTH[@]}" closewatch 30 >"$work/closewatch.tap" 2>&1 &
cpid=$!
if wait_line 30 "$work/closewatch.tap" '^# closewatch: ready'; then
	cur=$(mcount conns_current)
	check "10 clients connected to kmqtt.ko before rmmod ($cur)" test "$cur" -ge 10
	check "rmmod with live connections" rmmod kmqtt
	wait $cpid
	tool cat "$work/closewatch.tap"
	check "kmqttd notices the unload and keeps running" \
		wait_for 10 eval 'grep -q "kmqtt.ko was unloaded" "$dlog" && kill -0 $dpid'
	check "insmod again" insmod "$KO"
	check "kmqttd re-registers by itself" wait_for 15 registered
	check "new connections are served after the reload" wait_for 15 serving
else
	notok "closewatch clients connected before rmmod (log: $(tail -n 3 "$work/closewatch.tap"))"
	kill "$cpid" 2>/dev/null
fi

kill -TERM "$dpid"; wait "$dpid"; rc=$?
check "kmqttd exits 0 on SIGTERM" test $rc = 0
check "final rmmod" rmmod kmqtt
if [ $fails -gt 0 ]; then
	echo "--- kmqttd log (last 60 lines)"
	tail -n 60 "$dlog"
fi
finish
