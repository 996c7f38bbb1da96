#!/usr/bin/env bash
# QoS 2 end to end (MQTT 3.1.1 4.3.3). The common behaviour is checked against mosquitto
# first, then the same checks against kmqtt: QoS 2 granted, the PUBLISH/PUBREC/PUBREL/
# PUBCOMP exchange in both directions packet by packet (tests/tools/mqtt-flow.py), exactly
# once under a re-sent PUBLISH, PUBREL for an unknown id, packet id reuse, delivery at
# min(message, subscription) QoS, the in-flight window shared with QoS 1, retained QoS 2,
# 500 messages with mosquitto_pub/mosquitto_sub. Then what only kmqtt has: its counters,
# the PUBREC of a retained message waits for the store, the limit of 1024 ids awaiting
# PUBREL per connection.
#
# Where MQTT lets a broker choose, the checks accept either choice: mosquitto forwards an
# inbound QoS 2 message at the PUBREL, kmqtt at the PUBLISH, so subscribers are read only
# once the publisher has its PUBCOMP; the broker's own packet ids print as #K (the K-th new
# message on that connection) so their numbering does not matter.
set -u
. "$(dirname "$0")/lib.sh"

# On the guest's own file system (tmpfs): the control socket and SQLite cannot live on 9p.
work=$(mktemp -d)
sdir=$work/stores
port=1883
mport=1884
sock=$work/kmqttd.sock
export KMQTT_CTL_SOCKET=$sock
dlog=$work/kmqttd.log
trap 'kill -CONT $dpid 2>/dev/null; kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
dpid=
inflight=20	# max_inflight_messages of both brokers (mosquitto's default)

stats() { kmqttctl -j stats 2>/dev/null; }
mcount() { stats | jq -r ".module.counters.$1 // 0"; }
closes() { stats | jq -r ".daemon.closed.$1 // 0"; }
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

mkdir -p "$sdir"
cat >"$work/acl" <<'EOF'
topic readwrite q/#
topic readwrite e2e/#
topic readwrite r2/#
topic readwrite lim/#
topic write wo/#
EOF

# qos2_basics PORT NAME: the checks both brokers must pass.
qos2_basics() {
	local p=$1 n=$2 out want spid i

	out=$(flow "$p" <<'EOF'
connect S
subscribe S q/a 2 q/b 1 q/c 0
EOF
)
	same "[$n] SUBSCRIBE QoS 2, 1, 0: granted 2, 1, 0" "S CONNACK 0
S SUBACK 2 1 0" "$out"

	# Inbound: PUBREC, a re-sent PUBLISH (DUP) before the PUBREL is acknowledged again but
	# not forwarded again; PUBREL -> PUBCOMP. Outbound to the QoS 2 subscriber: PUBLISH,
	# PUBREC -> PUBREL (0x62), PUBCOMP, then nothing more.
	out=$(flow "$p" <<'EOF'
connect S
subscribe S q/a 2
connect P
publish P q/a hello q=2 pid=7
expect P
publish P q/a hello q=2 pid=7 dup=1
expect P
pubrel P 7
expect P
expect S
pubrec S #1
expect S
pubcomp S #1
drain S 1
EOF
)
	same "[$n] QoS 2 in: PUBREC, re-sent PUBREC, PUBCOMP; out: PUBLISH once, PUBREL answers PUBREC" \
"S CONNACK 0
S SUBACK 2
P CONNACK 0
P PUBREC 7
P PUBREC 7
P PUBCOMP 7
S PUBLISH q=2 #1 d=0 r=0 q/a hello
S PUBREL #1" "$out"

	# PUBREL for an id never used is answered with PUBCOMP; after the PUBCOMP the id is free
	# for a new message, which is forwarded.
	out=$(flow "$p" <<'EOF'
connect S
subscribe S q/a 2
connect P
pubrel P 99
expect P
publish P q/a first q=2 pid=3
expect P
pubrel P 3
expect P
publish P q/a second q=2 pid=3
expect P
pubrel P 3
expect P
drain S 1
EOF
)
	same "[$n] PUBREL for an unknown id: PUBCOMP; a packet id reused after PUBCOMP: forwarded" \
"S CONNACK 0
S SUBACK 2
P CONNACK 0
P PUBCOMP 99
P PUBREC 3
P PUBCOMP 3
P PUBREC 3
P PUBCOMP 3
S PUBLISH q=2 #1 d=0 r=0 q/a first
S PUBLISH q=2 #2 d=0 r=0 q/a second" "$out"

	# Delivery QoS = min(message, subscription).
	out=$(flow "$p" <<'EOF'
connect S2
subscribe S2 q/min 2
connect S1
subscribe S1 q/min 1
connect S0
subscribe S0 q/min 0
connect P
publish P q/min two q=2 pid=1
expect P
pubrel P 1
expect P
publish P q/min one q=1 pid=2
expect P
drain S2 1
drain S1 1
drain S0 1
EOF
)
	same "[$n] QoS 2 message: QoS 2/1/0 subscribers get it at 2/1/0; QoS 1 message to QoS 2 subscriber: 1" \
"S2 CONNACK 0
S2 SUBACK 2
S1 CONNACK 0
S1 SUBACK 1
S0 CONNACK 0
S0 SUBACK 0
P CONNACK 0
P PUBREC 1
P PUBCOMP 1
P PUBACK 2
S2 PUBLISH q=2 #1 d=0 r=0 q/min two
S2 PUBLISH q=1 #2 d=0 r=0 q/min one
S1 PUBLISH q=1 #1 d=0 r=0 q/min two
S1 PUBLISH q=1 #2 d=0 r=0 q/min one
S0 PUBLISH q=0 - d=0 r=0 q/min two
S0 PUBLISH q=0 - d=0 r=0 q/min one" "$out"

	# The in-flight window: a subscriber that never sends PUBREC gets $inflight PUBLISHes and
	# no PUBREL; its PUBREC gets the PUBREL. (What a PUBCOMP or PUBACK frees is checked
	# against kmqtt only: mosquitto 2.0.11 does not send the queued QoS 2 messages then.)
	out=$(flow "$p" <<EOF
connect X
subscribe X q/win 2
connect P
burst P q/win $((inflight + 5)) q=2 start=100
pubrel_range P 100 $((inflight + 5))
count P 10 $((2 * (inflight + 5)))
count X 2
pubrec X #1
expect X
EOF
)
	same "[$n] window $inflight: a QoS 2 subscriber that sends no PUBREC gets $inflight PUBLISH, no PUBREL; PUBREC -> PUBREL" \
"X CONNACK 0
X SUBACK 2
P CONNACK 0
P PUBCOMP=$((inflight + 5)) PUBREC=$((inflight + 5)) open
X PUBLISH=$inflight open
X PUBREL #1" "$out"

	# Where the client may not read: refused (128) or granted, but nothing delivered.
	out=$(flow "$p" <<'EOF'
connect S
subscribe S wo/x 2
connect P
publish P wo/x secret q=2 pid=1
expect P
pubrel P 1
expect P
drain S 1
EOF
)
	case $out in
	"S CONNACK 0
S SUBACK 128"*) want="S SUBACK 128" ;;
	*) want="S SUBACK 2" ;;
	esac
	same "[$n] QoS 2 SUBSCRIBE where the ACL denies reading: ${want#S } and nothing delivered" \
"S CONNACK 0
$want
P CONNACK 0
P PUBREC 1
P PUBCOMP 1" "$out"

	# Retained QoS 2: delivered on subscribe at min(2, subscription) with the retain flag.
	out=$(flow "$p" <<'EOF'
connect P
publish P r2/a kept q=2 pid=5 r=1
expect P 10
pubrel P 5
expect P
connect A
subscribe A r2/a 2
drain A 1
connect B
subscribe B r2/a 1
drain B 1
connect C
subscribe C r2/a 0
drain C 1
EOF
)
	same "[$n] retained QoS 2: PUBREC, PUBCOMP; on subscribe at QoS 2/1/0 with the retain flag" \
"P CONNACK 0
P PUBREC 5
P PUBCOMP 5
A CONNACK 0
A SUBACK 2
A PUBLISH q=2 #1 d=0 r=1 r2/a kept
B CONNACK 0
B SUBACK 1
B PUBLISH q=1 #1 d=0 r=1 r2/a kept
C CONNACK 0
C SUBACK 0
C PUBLISH q=0 - d=0 r=1 r2/a kept" "$out"
	check "[$n] mosquitto_pub -q 2 -r replaces it" pub "$p" -q 2 -r -t r2/a -m again
	out=$(mosquitto_sub -p "$p" -t r2/a -q 2 -C 1 -W 5 -F '%r %q %t %p' 2>/dev/null)
	check "[$n] mosquitto_sub -q 2 gets the new one, retained, at QoS 2 (got '$out')" \
		test "$out" = "1 2 r2/a again"
	check "[$n] an empty retained QoS 2 PUBLISH is acknowledged" pub "$p" -q 2 -r -t r2/a -n
	out=$(mosquitto_sub -p "$p" -t r2/a -q 2 -C 1 -W 2 -F '%r %q %t %p' 2>/dev/null)
	check "[$n] ... and clears it (got '$out')" test -z "$out"

	# 500 messages with mosquitto_pub -q 2 -l, then a binary one: in order, each once,
	# byte-exact, at QoS 2.
	for ((i = 1; i <= 500; i++)); do
		printf 'm%03d-%s\n' $i "$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	done >"$work/seq.$n"
	head -c 3000 /dev/urandom >"$work/bin.$n"
	timeout 120 mosquitto_sub -p "$p" -t e2e/# -q 2 -W 110 -F '%q %t %x' >"$work/e2e.$n" 2>/dev/null &
	spid=$!
	wait_for 20 eval 'pub "$p" -q 0 -t e2e/ready -m r; grep -q e2e/ready "$work/e2e.$n"'
	check "[$n] mosquitto_pub -q 2 -l: 500 messages acknowledged" \
		timeout 90 mosquitto_pub -p "$p" -q 2 -l -t e2e/seq <"$work/seq.$n"
	if pub "$p" -q 2 -t e2e/bin -f "$work/bin.$n"; then
		ok "[$n] mosquitto_pub -q 2 -f: a 3000-byte binary message acknowledged"
		wait_for 60 grep -q ' e2e/bin ' "$work/e2e.$n"
	else
		notok "[$n] mosquitto_pub -q 2 -f: a 3000-byte binary message acknowledged"
	fi
	kill $spid 2>/dev/null
	wait $spid 2>/dev/null
	out=$(grep -c '^2 e2e/seq ' "$work/e2e.$n")
	check "[$n] mosquitto_sub -q 2 got 500 messages at QoS 2 (got $out)" test "$out" = 500
	out=$(awk '$2 == "e2e/seq"' "$work/e2e.$n" | sort | uniq -d | wc -l)
	check "[$n] ... none duplicated ($out)" test "$out" = 0
	awk '$2 == "e2e/seq" { print $3 }' "$work/e2e.$n" >"$work/got.$n"
	od -An -tx1 -v -w1 "$work/seq.$n" |
		awk '{ if ($1 == "0a") { print s; s = "" } else s = s $1 }' >"$work/want.$n"
	check "[$n] ... all 500 byte-exact, in publish order" cmp -s "$work/want.$n" "$work/got.$n"
	check "[$n] the binary message arrived once, at QoS 2, byte-exact" test \
		"$(grep ' e2e/bin ' "$work/e2e.$n")" = "2 e2e/bin $(od -An -tx1 -v "$work/bin.$n" | tr -d ' \n')"
}

# --- mosquitto: the reference
cat >"$work/mosquitto.conf" <<EOF
listener $mport 127.0.0.1
allow_anonymous true
acl_file $work/acl
persistence false
max_inflight_messages $inflight
user root
EOF
with_mosquitto qos2_basics $mport mosquitto

# --- kmqtt
cat >"$work/kmqttd.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
acl_file $work/acl
control_socket $sock
persistence true
persistence_location $sdir/db
max_inflight_messages $inflight
EOF
check "insmod kmqtt.ko ($KVER)" insmod "$KO"
start_daemon "$work/kmqttd.conf"
check "kmqttd (persistence on) registers with kmqtt.ko and serves" up
qos2_basics $port kmqtt

# --- the window: a PUBCOMP frees one slot, the next queued message goes out; QoS 1 and 2
# share it, a PUBACK frees a slot for a QoS 2 message
out=$(flow $port <<EOF
connect X
subscribe X q/win 2
connect P
burst P q/win $((inflight + 5)) q=2 start=100
pubrel_range P 100 $((inflight + 5))
count P 10 $((2 * (inflight + 5)))
count X 2
pubrec X #1
expect X
pubcomp X #1
drain X 2
EOF
)
same "kmqtt: window $inflight: PUBCOMP lets exactly the next queued QoS 2 message out" \
"X CONNACK 0
X SUBACK 2
P CONNACK 0
P PUBCOMP=$((inflight + 5)) PUBREC=$((inflight + 5)) open
X PUBLISH=$inflight open
X PUBREL #1
X PUBLISH q=2 #$((inflight + 1)) d=0 r=0 q/win $inflight" "$out"
out=$(flow $port <<EOF
connect Y
subscribe Y q/mix 2
connect P
burst P q/mix 12 q=1 start=1
burst P q/mix 10 q=2 start=200
pubrel_range P 200 10
count P 10 32
count Y 2
puback Y #1
drain Y 2
EOF
)
same "kmqtt: window $inflight shared: 12 QoS 1 + 8 QoS 2 out, a PUBACK lets the 9th QoS 2 out" \
"Y CONNACK 0
Y SUBACK 2
P CONNACK 0
P PUBACK=12 PUBCOMP=10 PUBREC=10 open
Y PUBLISH=$inflight open
Y PUBLISH q=2 #$((inflight + 1)) d=0 r=0 q/mix 8" "$out"

# --- counters: one new message, a re-sent one, an unknown PUBREL, the id reused
in0=$(mcount qos2_in)
dup0=$(mcount qos2_duplicates)
out=$(flow $port <<'EOF'
connect P
publish P q/c one q=2 pid=9
publish P q/c one q=2 pid=9 dup=1
publish P q/c one q=2 pid=9 dup=1
pubrel P 9
pubrel P 77
publish P q/c two q=2 pid=9
pubrel P 9
count P 5 7
EOF
)
same "kmqtt: the exchange the counters are read after" "P CONNACK 0
P PUBCOMP=3 PUBREC=4 open" "$out"
check "qos2_in counts the 2 messages forwarded (got +$(($(mcount qos2_in) - in0)))" \
	test $(($(mcount qos2_in) - in0)) = 2
check "qos2_duplicates counts the 2 re-sent ones (got +$(($(mcount qos2_duplicates) - dup0)))" \
	test $(($(mcount qos2_duplicates) - dup0)) = 2

# --- the PUBREC of a retained QoS 2 PUBLISH waits for the store: a stopped daemon holds it
out=$(flow $port <<EOF
connect P
sh kill -STOP $dpid
publish P r2/held held q=2 pid=4 r=1
expect P 3
sh kill -CONT $dpid
expect P 15
pubrel P 4
expect P
EOF
)
kill -CONT "$dpid" 2>/dev/null
same "kmqtt: daemon stopped, no PUBREC for a retained QoS 2 PUBLISH; continued, PUBREC, then PUBCOMP" \
"P CONNACK 0
P NOTHING
P PUBREC 4
P PUBCOMP 4" "$out"
check "nothing pending" test "$(mcount retain_pending)" = 0
out=$(mosquitto_sub -p $port -t r2/held -q 2 -C 1 -W 5 -F '%r %q %t %p' 2>/dev/null)
check "the held message is retained at QoS 2 (got '$out')" test "$out" = "1 2 r2/held held"

# --- at most 1024 QoS 2 ids awaiting PUBREL per connection
lim0=$(mcount qos2_limit)
cl0=$(closes limit)
out=$(flow $port <<'EOF'
connect P
burst P lim/x 1024 q=2 start=1
count P 20 1024
publish P lim/x again q=2 pid=2 dup=1
expect P
pubrel P 1
expect P
publish P lim/x 1025th q=2 pid=1025
expect P
publish P lim/x 1026th q=2 pid=1026
closed P 10
EOF
)
same "kmqtt: 1024 ids awaiting PUBREL are accepted, a re-sent one and one after a PUBREL too; one more closes" \
"P CONNACK 0
P PUBREC=1024 open
P PUBREC 2
P PUBCOMP 1
P PUBREC 1025
P CLOSED" "$out"
check "qos2_limit counted it (got +$(($(mcount qos2_limit) - lim0)))" \
	wait_for 5 eval '[ $(($(mcount qos2_limit) - lim0)) = 1 ]'
check "kmqttd counted a close for 'limit' (got +$(($(closes limit) - cl0)))" \
	wait_for 5 eval '[ $(($(closes limit) - cl0)) = 1 ]'
check "kmqtt still serves" serving

stop_daemon
check "final rmmod" rmmod kmqtt
if [ $fails -gt 0 ]; then
	echo "--- mqtt-flow errors"
	tail -n 20 "$work/flow.err"
	echo "--- kmqttd log (last 60 lines)"
	tail -n 60 "$dlog"
fi
finish
