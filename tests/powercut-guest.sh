#!/usr/bin/env bash
# The guest half of tests/powercut.sh: "powercut-guest.sh 1|2 DIR" (DIR on the 9p share).
set -u
boot=$1 dir=$2
TOP=$(cd "$(dirname "$0")/.." && pwd)
KVER=$(uname -r)
export PATH=$TOP/build/bin:$PATH
work=$(mktemp -d)
export KMQTT_CTL_SOCKET=$work/kmqttd.sock
port=1883
fails=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() { local n=$1; shift; if "$@"; then ok "$n"; else notok "$n"; fi; }
wait_for() {
	local t=$(($1 * 5)); shift
	while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.2; t=$((t - 1)); done
	return 1
}
registered() {
	[ "$(kmqttctl -j status 2>/dev/null | jq -r '.module.state + " " + .daemon.module')" = \
		"running registered" ]
}
serving() { mosquitto_sub -p $port -t none -W 2 -E >/dev/null 2>&1; }

modprobe virtio_blk 2>/dev/null
wait_for 10 test -b /dev/vda || { echo "no /dev/vda"; exit 1; }
mkdir -p /mnt/store
if [ "$boot" = 1 ]; then
	mkfs.ext4 -q -F /dev/vda || exit 1
fi
mount -t ext4 /dev/vda /mnt/store || { echo "cannot mount /dev/vda"; exit 1; }
mkdir -p /mnt/store/db
cat >"$work/kmqttd.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
control_socket $work/kmqttd.sock
persistence true
persistence_location /mnt/store/db
EOF
insmod "$TOP/build/$KVER/kmqtt.ko" || exit 1
kmqttd -c "$work/kmqttd.conf" >"$work/kmqttd.log" 2>&1 &
if ! wait_for 20 registered || ! wait_for 20 serving; then
	notok "kmqttd starts on the store (boot $boot)"
	cat "$work/kmqttd.log"
	exit 1
fi

if [ "$boot" = 1 ]; then
	# psub's session: subscribed, then gone; everything for it goes to the store.
	timeout 20 python3 - "$port" <<'PY' || { echo "no session for psub"; exit 1; }
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"\x10\x10\x00\x04MQTT\x04\x00\x00\x3c\x00\x04psub")
assert s.recv(4)[:2] == b"\x20\x02"
s.sendall(b"\x82\x10\x00\x01\x00\x04c/q1\x02\x00\x04c/q2\x02")
assert s.recv(5)[0] == 0x90
s.sendall(b"\xe0\x00")
PY
	: >"$dir/acked"
	python3 "$TOP/tests/tools/crash-pub.py" $port "$dir/acked" "$work/stop" >"$work/pub.log" 2>&1 &
	# Cut the power once a good share has been acknowledged, while messages still flow.
	wait_for 120 eval '[ "$(grep -c "^q2 " "$dir/acked")" -ge 300 ]'
	echo 1 >/proc/sys/kernel/sysrq
	echo cut
	echo o >/proc/sysrq-trigger
	sleep 30
	echo "still running after the power cut"
	exit 1
fi

# Boot 2: the store opened (above); psub comes back and takes what was kept for it.
check "kmqttd opened the store after the power cut" \
	grep -q 'persistence file /mnt/store/db/kmqtt.db opened' "$work/kmqttd.log"
: >"$work/stop"
timeout 120 python3 "$TOP/tests/tools/crash-sub.py" $port "$dir/psub" "$work/stop" >"$work/sub.log" 2>&1
check "psub's session was there after the reboot ($(tail -n 1 "$work/sub.log"))" \
	grep -q 'sessions resumed 1' "$work/sub.log"
kill -TERM %1 2>/dev/null
wait_for 10 eval '! pidof kmqttd >/dev/null'
rmmod kmqtt
umount /mnt/store
exit $((fails > 0))
