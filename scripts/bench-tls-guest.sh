#!/usr/bin/env bash
# The guest side of scripts/bench-tls. Env: KVER, OUT (results dir), REPS.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${KVER:?}" "${OUT:?}" "${REPS:=3}"
w=$(mktemp -d)
bash tests/tls/mkpki.sh "$w/pki" || exit 1
p=$w/pki
modprobe -a tls gcm 2>/dev/null
insmod "build/$KVER/kmqtt.ko" || exit 1
tls_conf() {	# the same TLS settings for both brokers
	cat <<-EOC
	listener $1 127.0.0.1
	cafile $p/ca.crt
	certfile $p/server.crt
	keyfile $p/server.key
	require_certificate true
	use_identity_as_username true
	max_queued_messages 100000
	EOC
}
{ tls_conf 8883; echo "control_socket $w/kmqttd.sock"; } >"$w/kmqttd.conf"
{ echo "user root"; tls_conf 8884; } >"$w/mosquitto.conf"
opts=(--tls --cafile "$p/ca.crt" --cert "$p/dev-1.crt" --key "$p/dev-1.key" -n 10 -s 64
      --search -r 500 --step 3)
run() {	# run TARGET PORT
	for rep in $(seq "$REPS"); do
		for sc in p2p fanout; do
			build/bin/kmqtt-bench -p "$2" "${opts[@]}" --label "$1" \
				--json "$OUT/$1-$sc-$rep.json" "$sc" 2>>"$OUT/bench.log" ||
				echo "bench-tls: $1 $sc run $rep failed" >&2
		done
	done
}
build/bin/kmqttd -c "$w/kmqttd.conf" >"$OUT/kmqttd.log" 2>&1 &
d=$!
for _ in $(seq 100); do grep -q "over TLS" "$OUT/kmqttd.log" && break; sleep 0.2; done
run kmqtt 8883
grep -E 'TlsTxSw|TlsRxSw' /proc/net/tls_stat >"$OUT/tls_stat.txt"
kill $d; wait $d
mosquitto -c "$w/mosquitto.conf" >"$OUT/mosquitto.log" 2>&1 &
m=$!
sleep 2
run mosquitto 8884
kill $m; wait $m
rmmod kmqtt
rm -rf "$w"
