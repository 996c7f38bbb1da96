#!/usr/bin/env bash
# The walking skeleton: kmqtt.ko load/unload, the netlink ABI, kmqttd registration and its
# life cycle (restart, kill -9, module unload and reload under it), kmqttctl status.
set -u
. "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
sock=$work/kmqttd.sock
export KMQTT_CTL_SOCKET=$sock
printf 'control_socket %s\nlog_level debug\n' "$sock" >"$work/kmqttd.conf"
dlog=$work/kmqttd.log

status_json() { kmqttctl -j status 2>/dev/null; }
module_state() { status_json | jq -r '.module.state // "absent"'; }
daemon_link() { status_json | jq -r '.daemon.module // "down"'; }
counter() { status_json | jq -r ".module.counters.$1"; }
start_daemon() {
	kmqttd -c "$work/kmqttd.conf" >>"$dlog" 2>&1 &
	dpid=$!
}
has() { grep -q -- "$1" <<<"$out"; }
registered() { [ "$(module_state)" = running ] && [ "$(daemon_link)" = registered ]; }

check "insmod kmqtt.ko ($KVER)" insmod "$KO"
check "module loaded message in the kernel log" eval 'dmesg | grep -q "kmqtt: kmqtt .* loaded"'
out=$(kmqttctl status 2>&1); rc=$?
check "status without daemon: exit 3, module 'no-daemon', daemon not running" \
	eval '[ $rc = 3 ] && has "kmqtt.ko: no-daemon" && has "kmqttd: kmqttd is not running"'
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups kmqttctl status 2>&1); rc=$?
check "status as an unprivileged user: exit 1 and a permission message" \
	eval '[ $rc = 1 ] && has "permission denied"'

kmqtt-nlprobe >>"$work/nlprobe.out" 2>&1
grep -E '^(not )?ok' "$work/nlprobe.out" | tee -a "$TAP" >/dev/null
grep -q '^not ok' "$work/nlprobe.out" && fails=$((fails + 1))
check "netlink probe ran its cases" grep -q '^ok' "$work/nlprobe.out"

printf 'control_socket %s\nfrobnicate yes\n' "$sock" >"$work/bad.conf"
out=$(kmqttd -c "$work/bad.conf" 2>&1); rc=$?
check "bad config: exit 2 with file:line" \
	eval '[ $rc = 2 ] && has "bad.conf:2: unknown option .frobnicate."'
out=$(kmqttd -c "$work/missing.conf" 2>&1); rc=$?
check "missing config: exit 2 naming the file" \
	eval '[ $rc = 2 ] && has "missing.conf: No such file"'
check "kmqttd -t accepts a good config" kmqttd -t -c "$work/kmqttd.conf"

reg0=$(counter daemon_registered)
unreg0=$(counter daemon_unregistered)
lost0=$(counter daemon_lost)
start_daemon
check "kmqttd registers with kmqtt.ko" wait_for 10 registered
check "status: exit 0 with module running and daemon registered" kmqttctl status
check "status -j is valid JSON with the daemon's pid" \
	eval '[ "$(kmqttctl -j status | jq -r .module.daemon_pid)" = "$dpid" ]'
check "module counts the registration" test "$(counter daemon_registered)" = $((reg0 + 1))

printf 'control_socket %s\n' "$work/other.sock" >"$work/other.conf"
out=$(timeout 10 kmqttd -c "$work/other.conf" 2>&1); rc=$?
check "second kmqttd refused by the module (exit 1, 'another kmqttd')" \
	eval '[ $rc = 1 ] && has "another kmqttd is registered"'
out=$(timeout 10 kmqttd -c "$work/kmqttd.conf" 2>&1); rc=$?
check "second kmqttd on the same control socket refused" \
	eval '[ $rc = 1 ] && has "another kmqttd is running"'
check "first daemon still registered after the refusals" registered

kill -TERM "$dpid"; wait "$dpid"; rc=$?
check "SIGTERM: kmqttd exits 0" test $rc = 0
check "SIGTERM: control socket removed" test ! -e "$sock"
check "SIGTERM: module sees a clean unregistration" eval '[ "$(module_state)" = no-daemon ]'
check "daemon_unregistered counted" test "$(counter daemon_unregistered)" = $((unreg0 + 1))

start_daemon
check "restarted kmqttd registers again" wait_for 10 registered
kill -KILL "$dpid"; wait "$dpid" 2>/dev/null
check "kill -9: the module releases the daemon role" wait_for 5 eval '[ "$(module_state)" = no-daemon ]'
check "daemon_lost counted" test "$(counter daemon_lost)" = $((lost0 + 1))
start_daemon
check "kmqttd after kill -9 registers (stale socket replaced)" wait_for 10 registered

check "rmmod with the daemon running" rmmod kmqtt
check "daemon notices the unload and keeps running" \
	wait_for 10 eval 'grep -q "kmqtt.ko was unloaded" "$dlog" && kill -0 $dpid'
out=$(kmqttctl status 2>&1); rc=$?
check "status after unload: exit 3, module not loaded, daemon link absent" \
	eval '[ $rc = 3 ] && has "kmqtt.ko is not loaded" && has "link: absent"'
check "insmod again" insmod "$KO"
check "daemon re-registers by itself when the module comes back" wait_for 10 registered
kill -TERM "$dpid"; wait "$dpid"; rc=$?
check "final SIGTERM: exit 0" test $rc = 0
check "final rmmod" rmmod kmqtt
check "module unloaded message in the kernel log" eval 'dmesg | grep -q "kmqtt: kmqtt .* unloaded"'
if [ $fails -gt 0 ]; then
	echo "--- kmqttd log"; cat "$dlog"
fi
rm -rf "$work"
finish
