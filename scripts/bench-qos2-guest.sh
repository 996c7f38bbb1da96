#!/usr/bin/env bash
# The guest side of scripts/bench-qos2. Env: KVER, OUT (results dir), REPS, QUICK (1: a
# short smoke run, not a measurement).
#
# kmqtt (kmqtt.ko + kmqttd, 127.0.0.1:1883) and mosquitto (127.0.0.1:1884), both with their
# persistent store on this guest's /tmp (tmpfs: SQLite's WAL and mosquitto's file need a
# local file system), each repetition starting every broker afresh on an empty store, the
# brokers' order alternating per repetition; with each broker up, the qos1 and then the qos2
# max-throughput search (kmqtt-bench --search, 8 publisher/subscriber pairs, 64-byte
# payloads, one generator thread). Every result is OUT/<target>-<scenario>-r<rep>.json.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
: "${KVER:?}" "${OUT:?}" "${REPS:=3}" "${QUICK:=0}"
export PATH=$PWD/build/bin:$PATH
w=$(mktemp -d)	# guest-local tmpfs
mkdir -p "$OUT/logs"
declare -A PORT=([kmqtt]=1883 [mosquitto]=1884)
if [ "$QUICK" = 1 ]; then
	sopts=(--search -r 250 --factor 4 --bisect 0 --max-steps 2 --step 1 -w 0.5)
else
	sopts=(--search -r 2000 --factor 2 --bisect 3 --max-steps 14 --step 2 -w 0.5)
fi
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
		for sc in qos1 qos2; do
			f=$OUT/$t-$sc-r$rep.json
			kmqtt-bench -p "${PORT[$t]}" --label "$t" "${gen[@]}" "${sopts[@]}" \
				--json "$f" "$sc" 2>>"$OUT/logs/gen-$t-$sc.log"
			rc=$?
			[ $rc = 0 ] || failed=1
			echo "bench-qos2: [$(($(date +%s) - t0)) s] rep $rep $t $sc: exit $rc," \
				"$(jq -r '"max \(.search.max_rate) msg/s offered, \(.delivered_per_s | floor) delivered/s, p99 \(.latency_us.p99) us, dup \(.duplicates), qos2 dup \(.qos2_duplicates)"' "$f" 2>/dev/null)" >&2
		done
		stop "$t" "$rep"
	done
done
exit $failed
