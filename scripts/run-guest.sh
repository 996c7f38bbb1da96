#!/usr/bin/env bash
# run-guest.sh — the guest side of `make run` (scripts/run): load kmqtt.ko, start kmqttd,
# keep $RUNDIR/status.txt current, and stop cleanly when $RUNDIR/stop appears.
set -uo pipefail
: "${RUNDIR:?}" "${KVER:?}" "${CONF:?}"
cd "$(dirname "$0")/.."
export PATH=$PWD/build/bin:$PATH

modprobe tls 2>/dev/null || echo "run-guest: modprobe tls failed (kTLS unavailable)" >&2
insmod "build/$KVER/kmqtt.ko" || { echo "run-guest: insmod failed" >&2; exit 1; }
kmqttd -c "$CONF" >"$RUNDIR/kmqttd.log" 2>&1 &
dpid=$!
sock=$(awk '$1 == "control_socket" { print $2 }' "$CONF")
export KMQTT_CTL_SOCKET=${sock:-/run/kmqtt/kmqttd.sock}

ready=0
while [ ! -e "$RUNDIR/stop" ]; do
	if ! kill -0 $dpid 2>/dev/null; then
		echo "run-guest: kmqttd exited; its log:" >&2
		cat "$RUNDIR/kmqttd.log" >&2
		rmmod kmqtt
		exit 1
	fi
	if kmqttctl status >"$RUNDIR/status.tmp" 2>&1; then
		if [ $ready = 0 ]; then
			ready=1
			mv "$RUNDIR/status.tmp" "$RUNDIR/status.txt"
			touch "$RUNDIR/ready"
		fi
	fi
	[ -s "$RUNDIR/status.tmp" ] && mv "$RUNDIR/status.tmp" "$RUNDIR/status.txt"
	sleep 2
done
kill -TERM $dpid
wait $dpid
rc=$?
rmmod kmqtt || rc=1
rm -f "$RUNDIR/ready" "$RUNDIR/stop"
exit $rc
