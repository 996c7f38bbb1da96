#!/usr/bin/env bash
# Will messages (MQTT 3.1.1 3.1.2.5-3.1.2.7, 3.14.4). The common behaviour is checked
# against mosquitto first, then the same checks against kmqtt: the will is published, with
# its QoS (bounded by the subscriber's) and its topic and payload byte-exact, when the
# connection ends without DISCONNECT (TCP closed, reset, protocol violation, session
# takeover, keepalive timeout, kill -9 or SIGSTOP of a mosquitto_sub), never after a clean
# DISCONNECT; a retained will becomes the topic's retained message; a will the ACL forbids
# writing is never published. Then what only kmqtt has: `kmqttctl kick`, no will at module
# unload, its counters.
#
# mosquitto 2.0.11 and kmqtt differ on a will whose topic the client may not write:
# mosquitto accepts the CONNECT (CONNACK 0) and drops the will when the connection ends
# (its context__send_will checks the ACL then); kmqttd refuses the CONNECT with CONNACK 5.
# Both never publish it; the CONNACK each gives is checked separately.
set -u
. "$(dirname "$0")/lib.sh"

work=$(mktemp -d)
sdir=$work/stores
port=1883
mport=1884
sock=$work/kmqttd.sock
export KMQTT_CTL_SOCKET=$sock
dlog=$work/kmqttd.log
trap 'kill -CONT $(jobs -p) 2>/dev/null; kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
dpid=

stats() { kmqttctl -j stats 2>/dev/null; }
mcount() { stats | jq -r ".module.counters.$1 // 0"; }
registered() {
	[ "$(kmqttctl -j status 2>/dev/null | jq -r '.module.state + " " + .daemon.module')" = \
		"running registered" ]
}
start_daemon() {	# start_daemon CONF
	kmqttd -c "$1" >>"$dlog" 2>&1 &
	dpid=$!
}
serving() { mosquitto_sub -p "${1:-$port}" -t none -W 2 -E >/dev/null 2>&1; }
up() { wait_for 15 registered && wait_for 15 serving; }
stop_daemon() { kill -TERM "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; dpid=; }
pub() { timeout 20 mosquitto_pub -p "$@"; }
# flow PORT < SCRIPT: the transcript of a mqtt-flow.py script (see that file)
flow() { timeout 100 python3 "$TOP/tests/tools/mqtt-flow.py" -p "$1" -T 90 2>>"$work/flow.err"; }
# same NAME WANT GOT: ok when the transcripts are equal, else show both
same() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		notok "$1"
		echo "$2" >"$work/want"
		echo "$3" >"$work/got"
		diff "$work/want" "$work/got" | sed 's/^/#   /'
	fi
}
# listening PORT TOPIC FILE: a mosquitto_sub of TOPIC writing to FILE is subscribed (what
# is published to TOPIC comes back)
listening() { pub "$1" -t "$2" -m ping && grep -q ping "$3"; }

mkdir -p "$sdir"
cat >"$work/acl" <<'EOF'
topic readwrite w/#
topic readwrite wr/#
topic readwrite none/#
topic read ro/#
EOF

# will_basics PORT NAME: the checks both brokers must pass. Sets $denied_connack to the
# CONNACK code the broker gave a CONNECT whose will topic the ACL forbids writing.
will_basics() {
	local p=$1 n=$2 out wpid m9 ka spid

	out=$(flow "$p" <<'EOF'
connect W
subscribe W w/# 2
connect A id=will-a will=w/a wmsg=hex:00ff410a20e282ac wqos=1
close A
expect W 10
puback W #1
drain W 1
EOF
)
	same "[$n] TCP closed without DISCONNECT: the QoS 1 will, binary payload byte-exact" \
"W CONNACK 0
W SUBACK 2
A CONNACK 0
W PUBLISH q=1 #1 d=0 r=0 w/a hex:00ff410a20e282ac" "$out"

	out=$(flow "$p" <<'EOF'
connect W
subscribe W wr/# 2
connect W0
subscribe W0 wr/# 0
connect B id=will-b will=wr/b wmsg=last-words wqos=2 wretain=1
reset B
expect W 10
pubrec W #1
expect W
pubcomp W #1
expect W0
drain W 1
EOF
)
	same "[$n] TCP reset: the QoS 2 will, exchanged as QoS 2 (QoS 0 to a QoS 0 subscriber), retain flag cleared live" \
"W CONNACK 0
W SUBACK 2
W0 CONNACK 0
W0 SUBACK 0
B CONNACK 0
W PUBLISH q=2 #1 d=0 r=0 wr/b last-words
W PUBREL #1
W0 PUBLISH q=0 - d=0 r=0 wr/b last-words" "$out"

	out=$(flow "$p" <<'EOF'
connect L2
subscribe L2 wr/b 2
drain L2 1
connect L1
subscribe L1 wr/# 1
drain L1 1
EOF
)
	same "[$n] the retained will is the topic's retained message (QoS 2, and 1 for a QoS 1 subscriber)" \
"L2 CONNACK 0
L2 SUBACK 2
L2 PUBLISH q=2 #1 d=0 r=1 wr/b last-words
L1 CONNACK 0
L1 SUBACK 1
L1 PUBLISH q=1 #1 d=0 r=1 wr/b last-words" "$out"

	out=$(flow "$p" <<'EOF'
connect W
subscribe W w/# 2
connect C id=will-c will=w/c wmsg= wqos=0
raw C f000
expect W 10
closed C 5
EOF
)
	same "[$n] protocol violation (reserved packet type 15): the QoS 0 will, empty payload; closed" \
"W CONNACK 0
W SUBACK 2
C CONNACK 0
W PUBLISH q=0 - d=0 r=0 w/c <empty>
C CLOSED" "$out"

	out=$(flow "$p" <<'EOF'
connect W
subscribe W w/# 2
connect D id=will-d will=w/d wmsg=taken-over wqos=1
connect D2 id=will-d
expect W 10
closed D 5
disconnect D2
drain W 1
EOF
)
	same "[$n] session takeover: the old connection's will; it is closed" \
"W CONNACK 0
W SUBACK 2
D CONNACK 0
D2 CONNACK 0
W PUBLISH q=1 #1 d=0 r=0 w/d taken-over
D CLOSED" "$out"

	out=$(flow "$p" <<'EOF'
connect W
subscribe W w/# 2
connect E id=will-e will=w/e wmsg=never wqos=1
disconnect E
connect Z
publish Z w/sentinel after q=1 pid=1
expect Z
drain W 2
EOF
)
	same "[$n] DISCONNECT: no will" \
"W CONNACK 0
W SUBACK 2
E CONNACK 0
Z CONNACK 0
Z PUBACK 1
W PUBLISH q=1 #1 d=0 r=0 w/sentinel after" "$out"

	out=$(flow "$p" <<'EOF'
connect W
subscribe W w/# 2
connect K id=will-k ka=2 will=w/k wmsg=timed-out wqos=1
expect W 12
closed K 2
EOF
)
	same "[$n] keepalive 2 s, silence: closed, the will published" \
"W CONNACK 0
W SUBACK 2
K CONNACK 0
W PUBLISH q=1 #1 d=0 r=0 w/k timed-out
K CLOSED" "$out"

	out=$(flow "$p" <<'EOF'
connect W
subscribe W ro/# 2
connect R id=will-r will=ro/x wmsg=forbidden wqos=1
close R
drain W 3
EOF
)
	denied_connack=$(sed -n 's/^R CONNACK //p' <<<"$out")
	same "[$n] a will the ACL forbids writing is not published (CONNACK ${denied_connack:-none})" \
"W CONNACK 0
W SUBACK 2
R CONNACK ${denied_connack:-none}" "$out"

	# mosquitto_sub / mosquitto_pub with --will-*: one watcher for these cases.
	timeout 100 mosquitto_sub -p "$p" -t w/# -q 2 -W 90 -F '%q %r %t %p' \
		>"$work/watch.$n" 2>/dev/null &
	wpid=$!
	wait_for 20 eval 'pub "$p" -q 0 -t w/ready -m r; grep -q w/ready "$work/watch.$n"'
	mosquitto_sub -p "$p" -i will-m9 -k 60 -W 60 -t none/m9 --will-topic w/m9 \
		--will-payload killed --will-qos 1 >"$work/m9.$n" 2>&1 &
	m9=$!
	mosquitto_sub -p "$p" -i will-ka -k 5 -W 60 -t none/ka --will-topic w/ka \
		--will-payload stopped --will-qos 2 >"$work/ka.$n" 2>&1 &
	ka=$!
	if wait_for 15 listening "$p" none/m9 "$work/m9.$n" &&
	   wait_for 15 listening "$p" none/ka "$work/ka.$n"; then
		kill -KILL $m9
		kill -STOP $ka
		check "[$n] kill -9 of mosquitto_sub --will-qos 1: its will" \
			wait_for 10 grep -qx '1 0 w/m9 killed' "$work/watch.$n"
		check "[$n] SIGSTOP of mosquitto_sub -k 5 --will-qos 2: its will" \
			wait_for 15 grep -qx '2 0 w/ka stopped' "$work/watch.$n"
	else
		notok "[$n] mosquitto_sub with a will connects ($(tail -n 1 "$work/m9.$n"))"
	fi
	kill -KILL $m9 $ka 2>/dev/null
	wait $m9 $ka 2>/dev/null
	check "[$n] mosquitto_pub --will-topic ... -q 1 publishes and exits 0" \
		pub "$p" -q 1 -t w/pub -m published --will-topic w/pub-will --will-payload never \
		--will-qos 1 --will-retain
	timeout 20 mosquitto_sub -p "$p" -t w/sub-will -C 1 -W 15 \
		--will-topic w/sub-will-will --will-payload never --will-qos 2 >/dev/null 2>&1 &
	spid=$!
	wait_for 15 eval 'pub "$p" -t w/sub-will -m go; ! kill -0 $spid 2>/dev/null'
	wait $spid
	check "[$n] mosquitto_sub -C 1 --will-topic ... exits 0 after its message" test $? = 0
	pub "$p" -q 1 -t w/sentinel -m end
	wait_for 10 grep -q w/sentinel "$work/watch.$n"
	sleep 1
	kill $wpid 2>/dev/null
	wait $wpid 2>/dev/null
	out=$(grep -c -e never "$work/watch.$n")
	check "[$n] ... and neither will was published ($out)" test "$out" = 0
	out=$(grep -c -e killed -e stopped "$work/watch.$n")
	check "[$n] each will was published once ($out)" test "$out" = 2
	out=$(mosquitto_sub -p "$p" -t w/pub-will -C 1 -W 2 2>/dev/null)
	check "[$n] nor retained (got '$out')" test -z "$out"
}

# --- mosquitto: the reference
cat >"$work/mosquitto.conf" <<EOF
listener $mport 127.0.0.1
allow_anonymous true
acl_file $work/acl
persistence false
user root
EOF
mosquitto_will() {
	denied_connack=
	will_basics $mport mosquitto
	check "mosquitto 2.0.11 accepts a CONNECT whose will it may not publish (CONNACK ${denied_connack:-none})" \
		test "$denied_connack" = 0
}
with_mosquitto mosquitto_will

# --- kmqtt
cat >"$work/kmqttd.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
acl_file $work/acl
control_socket $sock
persistence true
persistence_location $sdir/db
EOF
check "insmod kmqtt.ko ($KVER)" insmod "$KO"
start_daemon "$work/kmqttd.conf"
check "kmqttd (persistence on) registers with kmqtt.ko and serves" up
pub0=$(mcount wills_published)
den0=$(stats | jq -r '.daemon.counters.will_refused // 0')
denied_connack=
will_basics $port kmqtt
check "kmqttd refuses a CONNECT whose will the ACL forbids: CONNACK 5 (got ${denied_connack:-none})" \
	test "$denied_connack" = 5
out=$(($(mcount wills_published) - pub0))
check "wills_published counts the 7 wills published (got +$out)" test "$out" = 7
out=$(($(stats | jq -r '.daemon.counters.will_refused // 0') - den0))
check "kmqttd's will_refused counts the refused CONNECT (got +$out)" test "$out" = 1

# --- kmqttctl kick
pub0=$(mcount wills_published)
out=$(flow $port <<EOF
connect W
subscribe W w/# 2
connect K id=will-kick will=w/kick wmsg=kicked wqos=2
sh kmqttctl kick will-kick
expect W 10
closed K 5
EOF
)
same "kmqtt: kmqttctl kick: the will, at QoS 2; the client closed" \
"W CONNACK 0
W SUBACK 2
K CONNACK 0
W PUBLISH q=2 #1 d=0 r=0 w/kick kicked
K CLOSED" "$out"
check "wills_published +1 (got +$(($(mcount wills_published) - pub0)))" \
	test $(($(mcount wills_published) - pub0)) = 1

# --- no will at module unload: a retained will would outlive it in kmqttd's store
flow $port >"$work/unload.out" <<'EOF' &
connect U id=will-unload will=wr/unload wmsg=unloaded wqos=1 wretain=1
closed U 60
EOF
fpid=$!
if wait_for 20 eval '[ "$(mcount conns_current)" -ge 1 ]'; then
	check "rmmod with a client that has a retained will" rmmod kmqtt
	wait $fpid
	check "the client saw the close" grep -qx 'U CLOSED' "$work/unload.out"
	check "insmod again" insmod "$KO"
	check "kmqttd registers again" up
	out=$(mosquitto_sub -p $port -t wr/unload -C 1 -W 3 -F '%r %q %t %p' 2>/dev/null)
	check "the will was not published: nothing retained (got '$out')" test -z "$out"
	out=$(mosquitto_sub -p $port -t wr/b -q 2 -C 1 -W 5 -F '%r %q %t %p' 2>/dev/null)
	check "while the retained will of an abnormal close is kept (got '$out')" \
		test "$out" = "1 2 wr/b last-words"
else
	notok "the client with a retained will connected"
	kill $fpid 2>/dev/null
fi

stop_daemon
check "final rmmod" rmmod kmqtt
if [ $fails -gt 0 ]; then
	echo "--- mqtt-flow errors"
	tail -n 20 "$work/flow.err"
	echo "--- kmqttd log (last 60 lines)"
	tail -n 60 "$dlog"
fi
finish
