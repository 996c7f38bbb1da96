#!/usr/bin/env bash
# The guest side of scripts/bench-qos2. Env: KVER, OUT (results dir), REPS, QUICK (1: a
# short smoke run, not a measurement), ROWS (what to run: "search offline" by default).
#
# kmqtt (kmqtt.ko + kmqttd, 127.0.0.1:1883) and mosquitto (127.0.0.1:1884), both with their
# persistent store on this guest's /tmp (tmpfs: SQLite's WAL and mosquitto's file need a
# local file system), each repetition starting every broker afresh on an empty store, the
# brokers' order alternating per repetition; with each broker up, the qos1 and then the qos2
# max-throughput search (kmqtt-bench --search, 8 publisher/subscriber pairs, 64-byte
# payloads, one generator thread), then persistent delivery: the offline scenario at QoS 1
# and QoS 2 (8 pairs, 2000 messages per publisher while the subscribers are away, window
# 32 = both brokers' max_inflight_messages). Every result is
# OUT/<target>-<scenario>-r<rep>.json (offline: <target>-offline-q<QoS>-r<rep>.json).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
: "${KVER:?}" "${OUT:?}" "${REPS:=3}" "${QUICK:=0}" "${ROWS:=search offline}"
export PATH=$PWD/build/bin:$PATH
w=$(mktemp -d)	# guest-local tmpfs
mkdir -p "$OUT/logs"
declare -A PORT=([kmqtt]=1883 [mosquitto]=1884)
if [ "$QUICK" = 1 ]; then
	sopts=(--search -r 250 --factor 4 --bisect 0 --max-steps 2 --step 1 -w 0.5)
	oopts=(-m 200)
else
	sopts=(--search -r 2000 --factor 2 --bisect 3 --max-steps 14 --step 2 -w 0.5)
	oopts=(-m 2000)
fi
# offline: a window of 32, the brokers' max_inflight_messages (mosquitto 2.0.11 drops QoS 2
# messages for offline subscribers that a publisher sent beyond it, after completing them);
# a phase ends when nothing progressed for 10 s (TCG)
oopts+=(--inflight 32 --drain 10)
runs=()
for r in $ROWS; do
	case $r in
	search) runs+=(qos1 qos2) ;;
	offline) runs+=(offline-q1 offline-q2) ;;
	*) echo "bench-qos2: unknown row group '$r'" >&2; exit 1 ;;
	esac
done
gen=(-n 8 -s 64 --threads 1 --connect-timeout 300)

for t in kmqtt-bench kmqttd kmqttctl mosquitto mosquitto_pub; do
	command -v $t >/dev/null || { echo "bench-qos2: $t missing" >&2; exit 1; }
done
insmod "build/$KVER/kmqtt.ko" || { echo "bench-qos2: insmod failed" >&2; exit 1; }

cat >"$w/kmqttd.conf" <<EOC
listener ${PORT[kmqtt]} 127.0.0.1
allow_anonymous true
max_queued_messages 100000
max_inflight_messages 32
control_socket $w/kmqttd.sock
log_level warning
persistence true
persistence_location $w/kmqtt-store
EOC
cat >"$w/mosquitto.conf" <<EOC
listener ${PORT[mosquitto]} 127.0.0.1
allow_anonymous true
user root
persistence true
persistence_location $w/mosquitto-store/
max_queued_messages 100000
max_inflight_messages 32
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
connection_messages false
EOC

mqtt_ok() { mosquitto_pub -h 127.0.0.1 -p "$1" -i bench-ready -t bench/ready -m x >/dev/null 2>&1; }
bpid=""
start() {	# start TARGET: on an empty store
	case $1 in
	kmqtt)
		rm -rf "$w/kmqtt-store"
		KMQTT_CTL_SOCKET=$w/kmqttd.sock kmqttd -c "$w/kmqttd.conf" >>"$OUT/logs/kmqttd.log" 2>&1 &
		;;
	mosquitto)
		rm -rf "$w/mosquitto-store"
		mkdir -p "$w/mosquitto-store"
		mosquitto -c "$w/mosquitto.conf" >>"$OUT/logs/mosquitto.log" 2>&1 &
		;;
	esac
	bpid=$!
	for _ in $(seq 100); do mqtt_ok "${PORT[$1]}" && { sleep 1; return 0; }; sleep 0.2; done
	echo "bench-qos2: $1 did not come up" >&2
	return 1
}
stop() {	# stop TARGET REP: kmqtt's counters kept
	[ "$1" = kmqtt ] && KMQTT_CTL_SOCKET=$w/kmqttd.sock kmqttctl -j stats \
		>"$OUT/logs/kmqtt-stats-r$2.json" 2>&1
	kill -TERM "$bpid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.2; done
	kill -KILL "$bpid" 2>/dev/null
	wait "$bpid" 2>/dev/null
	bpid=""
}
cleanup() {
	[ -n "$bpid" ] && kill -KILL "$bpid" 2>/dev/null && wait "$bpid" 2>/dev/null
	rmmod kmqtt 2>/dev/null
	rm -rf "$w"
}
trap cleanup EXIT

t0=$(date +%s)
failed=0
for rep in $(seq "$REPS"); do
	if [ $((rep % 2)) = 1 ]; then order=(kmqtt mosquitto); else order=(mosquitto kmqtt); fi
	for t in "${order[@]}"; do
		start "$t" || { failed=1; continue; }
		for sc in "${runs[@]}"; do
			f=$OUT/$t-$sc-r$rep.json
			case $sc in
			offline-q*)
				kmqtt-bench -p "${PORT[$t]}" --label "$t" "${gen[@]}" "${oopts[@]}" \
					-q "${sc#offline-q}" --json "$f" offline \
					2>>"$OUT/logs/gen-$t-$sc.log"
				rc=$?
				sum='"stored \(.offline.stored)/\(.offline.messages) at \(.offline.stored_per_s | floor) msg/s, drained \(.delivered) at \(.offline.drained_per_s | floor) msg/s, lost \(.lost), dup \(.duplicates), qos2 dup \(.qos2_duplicates), sessions lost \(.offline.sessions_lost)"'
				;;
			*)
				kmqtt-bench -p "${PORT[$t]}" --label "$t" "${gen[@]}" "${sopts[@]}" \
					--json "$f" "$sc" 2>>"$OUT/logs/gen-$t-$sc.log"
				rc=$?
				sum='"max \(.search.max_rate) msg/s offered, \(.delivered_per_s | floor) delivered/s, p99 \(.latency_us.p99) us, dup \(.duplicates), qos2 dup \(.qos2_duplicates)"'
				;;
			esac
			[ $rc = 0 ] || failed=1
			echo "bench-qos2: [$(($(date +%s) - t0)) s] rep $rep $t $sc: exit $rc," \
				"$(jq -r "$sum" "$f" 2>/dev/null)" >&2
		done
		stop "$t" "$rep"
	done
done
exit $failed
