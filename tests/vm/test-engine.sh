#!/usr/bin/env bash
# kmqtt.ko's connection engine on its own: kmqtt-handoff stands in for kmqttd (no auth),
# real MQTT clients (mosquitto_pub/sub) and raw sockets drive the module.
set -u
. "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
port=1883
check "insmod kmqtt.ko ($KVER)" insmod "$KO"
KMQTT_HANDOFF_OUT_IDS=1,2,4 kmqtt-handoff $port >"$work/handoff.log" 2>&1 &
hpid=$!
wait_for 5 eval '(exec 3<>/dev/tcp/127.0.0.1/'$port') 2>/dev/null'
stat() { kmqttctl -j status 2>/dev/null | jq -r ".module.counters.$1"; }
subs=()
sub() {	# sub OUTFILE COUNT ARGS...: background subscriber that exits after COUNT messages
	local out=$1 n=$2; shift 2
	timeout 20 mosquitto_sub -h 127.0.0.1 -p $port -C "$n" -v "$@" >"$out" 2>&1 &
	subs+=($!)
}
# Wait for the subscribers, then for the module to have closed them (no stale subscription).
waitsubs() { wait "${subs[@]}" 2>/dev/null; subs=(); wait_for 10 subscribed 0; }
subscribed() { [ "$(stat subscriptions)" -eq "$1" ]; }
pub() { mosquitto_pub -h 127.0.0.1 -p $port "$@"; }

# QoS 0 and 1, wildcards, payload bytes exact.
sub "$work/s1" 4 -t 'city/+/traffic/#' -q 1
wait_for 10 subscribed 1
pub -t city/north/traffic -m t0 -q 0
pub -t city/north/traffic/lane1 -m t1 -q 1
pub -t city/south/parking -m p0 -q 1
pub -t city/south/traffic/a/b -m t2 -q 1
pub -t city/x/traffic -m t3
waitsubs
printf "city/north/traffic t0\ncity/north/traffic/lane1 t1\ncity/south/traffic/a/b t2\ncity/x/traffic t3\n" >"$work/s1.want"
check "QoS 0/1 through the kernel with + and # (order kept)" diff "$work/s1.want" "$work/s1"

head -c 65536 /dev/urandom >"$work/blob"
timeout 20 mosquitto_sub -h 127.0.0.1 -p $port -C 1 -t bin/x -q 1 >"$work/s2" &
subs+=($!)
wait_for 10 subscribed 1
pub -t bin/x -f "$work/blob" -q 1
waitsubs
head -c 65536 "$work/s2" >"$work/s2.bin"
check "64 KiB random binary payload arrives byte for byte" cmp -s "$work/blob" "$work/s2.bin"

# $-topics are not matched by a leading wildcard [MQTT-4.7.2-1].
sub "$work/s3" 1 -t '#'
sub "$work/s4" 1 -t '$SYS/#'
wait_for 10 subscribed 2
pub -t '$SYS/x' -m dollar
pub -t plain -m plain
waitsubs
check "'#' does not match \$SYS/x, '\$SYS/#' does" \
	eval 'grep -qx "plain plain" "$work/s3" && grep -qx "\$SYS/x dollar" "$work/s4"'

# Overlapping subscriptions: one copy [MQTT-3.3.5-1].
timeout 15 mosquitto_sub -h 127.0.0.1 -p $port -v -t 'o/#' -t 'o/+' -q 1 -W 10 >"$work/s5" 2>/dev/null &
subs+=($!)
wait_for 10 subscribed 2
pub -t o/x -m once -q 1
waitsubs
check "overlapping subscriptions deliver one copy" test "$(grep -c 'o/x once' "$work/s5")" = 1

# Keepalive: a client that goes silent is closed after 1.5 x keepalive.
ka0=$(stat keepalive_timeouts)
python3 - $port <<'PY' >"$work/ka" 2>&1
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
# CONNECT 3.1.1, clean session, keepalive 1 s, client id "ka"
s.sendall(bytes([0x10, 14, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 1, 0, 2]) + b"ka")
assert s.recv(4) == bytes([0x20, 2, 0, 0])
t = time.time(); s.settimeout(10)
print("closed" if s.recv(1) == b"" else "data", round(time.time() - t, 1))
PY
check "keepalive 1 s: silent client closed within 1.5..3 s" \
	eval 'read what secs <"$work/ka" && [ "$what" = closed ] && awk "BEGIN{exit !($secs >= 1.4 && $secs <= 3)}" <<<""'
check "keepalive timeout counted" test "$(stat keepalive_timeouts)" = $((ka0 + 1))

# Protocol violations close the connection and are counted by codec error.
raw() {	# raw HEX: CONNECT, then HEX; prints "closed" if the broker closes
	python3 - $port "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(bytes([0x10, 14, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 30, 0, 2]) + b"rw")
assert s.recv(4) == bytes([0x20, 2, 0, 0])
s.sendall(bytes.fromhex(sys.argv[2])); s.settimeout(5)
try:
    print("closed" if s.recv(100) == b"" else "data")
except ConnectionResetError:
    print("closed")
PY
}
pe0=$(stat protocol_errors)
for c in "reserved flags on PINGREQ:c1 00" "remaining length over 4 bytes:30 ff ff ff ff 01" \
	 "wildcard in a PUBLISH topic:30 05 00 03 61 2f 23" "QoS 3 PUBLISH:36 05 00 01 61 00 01" \
	 "SUBSCRIBE without filters:82 02 00 01" "packet id 0 on QoS 1 PUBLISH:32 05 00 01 61 00 00" \
	 "second CONNECT:10 0e 00 04 4d 51 54 54 04 02 00 1e 00 02 72 77" "CONNACK from a client:20 02 00 00" \
	 "U+0000 in a topic:30 05 00 03 61 00 62" "invalid UTF-8 in a topic:30 04 00 02 c3 28"; do
	check "malformed: ${c%%:*} -> closed" eval '[ "$(raw "'"${c#*:}"'")" = closed ]'
done
check "protocol errors counted (10)" test "$(stat protocol_errors)" = $((pe0 + 10))
# QoS 2 by hand: PUBREC, the same PUBLISH again (DUP) gets PUBREC and is not forwarded
# again, PUBREL gets PUBCOMP, and so does a PUBREL for an id never seen.
q2dup0=$(stat qos2_duplicates)
out=$(python3 - $port <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
s.sendall(bytes([0x10, 14, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 30, 0, 2]) + b"q2")
assert s.recv(4) == bytes([0x20, 2, 0, 0])
def ask(hex_):
    s.sendall(bytes.fromhex(hex_))
    return s.recv(4).hex()
print(ask("34 07 00 01 61 00 05 78 78"), ask("3c 07 00 01 61 00 05 78 78"),
      ask("62 02 00 05"), ask("62 02 00 09"))
PY
)
check "QoS 2 PUBLISH: PUBREC, PUBREC again for the DUP, PUBCOMP for PUBREL and an unknown PUBREL (got '$out')" \
	test "$out" = "50020005 50020005 70020005 70020009"
check "the DUP before PUBREL was counted, not forwarded" test "$(stat qos2_duplicates)" = $((q2dup0 + 1))

# Pipelined packets right after CONNECT are the kernel's (the hand-off reads nothing more).
out=$(python3 - $port <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
connect = bytes([0x10, 14, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 30, 0, 2]) + b"pp"
sub = bytes([0x82, 6, 0, 7, 0, 1]) + b"p" + bytes([0])
ping = bytes([0xc0, 0])
s.sendall(connect + sub + ping)
s.settimeout(5); got = b""
while len(got) < 4 + 5 + 2:
    d = s.recv(64)
    if not d: break
    got += d
print(got.hex())
PY
)
check "CONNECT+SUBSCRIBE+PINGREQ in one segment: CONNACK, SUBACK, PINGRESP" \
	test "$out" = 200200009003000700d000

# Takeover: the same client id closes the older connection [MQTT-3.1.4-2].
tk0=$(stat takeovers)
timeout 10 mosquitto_sub -h 127.0.0.1 -p $port -i same -t t -W 8 >/dev/null 2>&1 &
first=$!
wait_for 10 subscribed 1
timeout 3 mosquitto_sub -h 127.0.0.1 -p $port -i same -t t -W 2 >/dev/null 2>&1
check "takeover counted" test "$(stat takeovers)" -ge $((tk0 + 1))
wait $first 2>/dev/null
wait_for 10 subscribed 0

# Packet ids the daemon's resends hold (KMQTT_A_OUT_IDS: 1, 2, 4, kmqtt-handoff's
# "outids-" sessions) are not given to new messages [MQTT-2.3.1-2].
py=$(command -v /usr/bin/python3 || command -v python3)
rm -f "$work/oready"
timeout 30 "$py" -S "$TOP/tests/tools/mqtt-session.py" $port outids-1 connect:0 subscribe:oi/x:1 \
	touch:"$work/oready" read:4:15 disconnect connect:1 disconnect >"$work/oi" 2>&1 &
opid=$!
wait_for 10 test -e "$work/oready"
for i in 1 2 3 4; do pub -t oi/x -m o$i -q 1; done
wait $opid
out=$(grep '^publish' "$work/oi" | sed -E 's/.* pid=([0-9]+) .*/\1/' | tr '\n' ' ')
check "a session handed over with resend ids 1, 2, 4: new messages get 3, 5, 6, 7 (got '$out')" \
	test "$out" = "3 5 6 7 "
wait_for 10 subscribed 0

# Many clients at QoS 1: nothing lost (50 on the debug kernel, 4-5 times slower).
n=200
[ "$KVER" = debug ] && n=50
timeout 60 mosquitto_sub -h 127.0.0.1 -p $port -t 'many/#' -q 1 -C $n >"$work/many" 2>&1 &
subs+=($!)
wait_for 10 subscribed 1
pubs=()
for i in $(seq 1 $n); do pub -t many/$i -m m$i -q 1 & pubs+=($!); done
pfail=0
for p in "${pubs[@]}"; do wait "$p" || pfail=$((pfail + 1)); done
waitsubs
got=$(sort -u "$work/many" | wc -l)
check "$n publishers, QoS 1, one subscriber: all $n delivered (got $got; $pfail publishers failed)" \
	test "$got" = $n

# Unload with live connections: clients see the close, the module goes cleanly.
python3 - $port >"$work/live" 2>&1 <<'PY' &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(bytes([0x10, 16, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 60, 0, 4]) + b"live")
assert s.recv(4) == bytes([0x20, 2, 0, 0])
s.sendall(bytes([0x82, 9, 0, 1, 0, 4]) + b"live" + bytes([0]))
s.recv(5); s.settimeout(30)
print("closed" if s.recv(1) == b"" else "data")
PY
live=$!
wait_for 10 subscribed 1
check "connections are open before rmmod" test "$(stat conns_current)" -ge 1
kill "$hpid"; wait "$hpid" 2>/dev/null
check "rmmod with a live connection" rmmod kmqtt
wait $live
check "the client saw the connection close" grep -qx closed "$work/live"
if [ $fails -gt 0 ]; then cat "$work/handoff.log"; fi
rm -rf "$work"
finish
