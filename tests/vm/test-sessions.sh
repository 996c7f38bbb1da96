#!/usr/bin/env bash
# MQTT 3.1.1 persistent sessions (clean session 0) end to end. The common behaviour
# (offline queueing in order at the subscription's QoS without QoS 0, QoS 2 exactly once,
# the session present flag, clean session 1 discarding the session, unacknowledged
# messages re-sent with DUP and the same packet id, an uncompleted PUBREL re-sent, the
# inbound QoS 2 state kept across a reconnect, max_queued_messages with drop_newest) is
# checked against mosquitto first, then the same checks against kmqtt; then what only
# kmqtt has: its counters, kmqttctl sessions, max_queued_bytes, queue_overflow
# drop_oldest, the PUBACK that waits for kmqttd, sessions across kmqttd restarts
# (SIGTERM, SIGKILL) and module reloads, persistent_client_expiration shown, and a
# session expiring across a restart of kmqttd (the module kept loaded, and reloaded).
# The raw client is tests/tools/mqtt-session.py: every exchange below is what it printed.
set -u
. "$(dirname "$0")/lib.sh"

# On the guest's own file system (tmpfs): the control socket and SQLite's WAL cannot live
# on the 9p share of the tree.
work=$(mktemp -d)
port=1883
mport=1884
sock=$work/kmqttd.sock
export KMQTT_CTL_SOCKET=$sock
dlog=$work/kmqttd.log
dpid=
trap 'kill -CONT $dpid 2>/dev/null; kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

stats() { kmqttctl -j stats 2>/dev/null; }
mcount() { stats | jq -r ".module.counters.$1 // 0"; }
dcount() { stats | jq -r ".daemon.counters.$1 // 0"; }
registered() {
	[ "$(kmqttctl -j status 2>/dev/null | jq -r '.module.state + " " + .daemon.module')" = \
		"running registered" ]
}
serving() { mosquitto_sub -p "${1:-$port}" -t none -W 2 -E >/dev/null 2>&1; }
up() { wait_for 15 registered && wait_for 15 serving; }
start_daemon() {	# start_daemon CONF
	kmqttd -c "$1" >>"$dlog" 2>&1 &
	dpid=$!
}
stop_daemon() { kill -TERM "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; dpid=; }

# cl PORT CLIENTID STEP...: the scripted client (see its usage), bounded in time. The
# system's python3 itself: a version manager's shim costs seconds per start under TCG.
py=$(command -v /usr/bin/python3 || command -v python3)
cl() { timeout 60 "$py" -S "$TOP/tests/tools/mqtt-session.py" "$@" 2>&1; }
# pubs PORT STEP...: a clean publisher running STEPs (pubw: publish and wait for the acks)
pubs() { local p=$1; shift; cl "$p" "pub-$RANDOM" connect:1 "$@" disconnect; }
lines() { tr '\n' ';'; }
nopid() { sed -E 's/ pid=[0-9]+//'; }
# big payloads as their first character and length: "publish d=0 q=1 r=0 TOPIC 1b291"
short() { awk '$1 == "publish" { $6 = substr($6, 1, 2) length($6) } { print }'; }
# sess_json CLIENTID: kmqttd's entry for the session ('null' if none)
sess_json() {
	kmqttctl -j sessions 2>/dev/null | jq -c --arg c "$1" \
		'[.daemon.sessions[]? | select(.client_id == $c)][0]'
}
# sess_get CLIENTID FIELD...: those fields of the session's entry, on one line
sess_get() {
	local c=$1 f
	shift
	f=$(printf ' \\(.%s)' "$@")
	kmqttctl -j sessions 2>/dev/null | jq -r --arg c "$c" \
		"[.daemon.sessions[]? | select(.client_id == \$c)][0] | \"${f# }\""
}
# offline BROKER CLIENTID: the broker has seen the client's connection end
offline() {
	local id=$2
	if [ "$1" = kmqtt ]; then
		wait_for 10 eval '[ "$(sess_get "$id" state)" = offline ]' ||
			echo "# session $id not shown offline: $(sess_json "$id")"
	else
		sleep 0.5
	fi
}
mark() { echo "# ${SECONDS} s: $*"; }	# where the time goes, in the log
# ready FILE: wait for a background client to create FILE
ready() { wait_for 20 test -e "$1"; }

# --- the checks both brokers must pass; the broker's MQTT port, its name

offline_queue() {
	local p=$1 n=$2 out
	out=$(cl $p sq connect:0 subscribe:'sess/a/#':2 subscribe:'sess/b/#':1 disconnect | lines)
	check "[$n] first clean-session-0 CONNECT: session present 0, subscribed QoS 2 and 1 (got '$out')" \
		test "$out" = "connack 0 0;suback 1 2;suback 2 1;"
	offline $n sq
	out=$(pubs $p pubw:sess/a/x:m1:1:1 pubw:sess/a/x:m2:2:2 pubw:sess/a/x:m3:0:3 \
		pubw:sess/a/x:m4:2:4 pubw:sess/b/x:m5:2:5 pubw:sess/b/x:m6:1:6 | lines)
	check "[$n] QoS 1/2 publishes to the offline session's topics are acknowledged (got '$out')" \
		test "$out" = "connack 0 0;puback 1;pubrec 2;pubcomp 2;pubrec 4;pubcomp 4;pubrec 5;pubcomp 5;puback 6;"
	cl $p sq connect:0 read:7:15 quiet:1 disconnect >"$work/sq.$n"
	out=$(head -n 1 "$work/sq.$n")
	check "[$n] reconnect with clean session 0: CONNACK session present 1 (got '$out')" \
		test "$out" = "connack 1 0"
	out=$(grep ^publish "$work/sq.$n" | nopid | lines)
	check "[$n] queued QoS 1/2 delivered in order at the subscription's QoS, QoS 0 not kept (got '$out')" \
		test "$out" = "publish d=0 q=1 r=0 sess/a/x m1;publish d=0 q=2 r=0 sess/a/x m2;publish d=0 q=2 r=0 sess/a/x m4;publish d=0 q=1 r=0 sess/b/x m5;publish d=0 q=1 r=0 sess/b/x m6;"
	local want got
	want=$(grep '^publish d=0 q=2 ' "$work/sq.$n" | sed -E 's/.* pid=([0-9]+) .*/pubrel \1/' | sort | lines)
	got=$(grep '^pubrel ' "$work/sq.$n" | sort | lines)
	check "[$n] a PUBREL for each QoS 2 delivery's PUBREC, same packet id (got '$got', want '$want')" \
		test -n "$got" -a "$got" = "$want"
	check "[$n] nothing else came ($(wc -l <"$work/sq.$n") lines: $(lines <"$work/sq.$n"))" \
		test "$(wc -l <"$work/sq.$n")" = 8
	offline $n sq
	out=$(cl $p sq connect:0 quiet:1 disconnect | lines)
	check "[$n] reconnect again: session present, nothing delivered twice (got '$out')" \
		test "$out" = "connack 1 0;"
}

clean_discard() {
	local p=$1 n=$2 out
	offline $n sq
	out=$(pubs $p pubw:sess/a/x:m7:1:1 | lines)
	check "[$n] a message for the offline session is acknowledged (got '$out')" \
		test "$out" = "connack 0 0;puback 1;"
	out=$(cl $p sq connect:1 quiet:1 disconnect | lines)
	check "[$n] clean session 1, same id: session present 0, the queued message is not delivered (got '$out')" \
		test "$out" = "connack 0 0;"
	sleep 0.5
	out=$(cl $p sq connect:0 disconnect | lines)
	check "[$n] then clean session 0: session present 0 (got '$out')" test "$out" = "connack 0 0;"
	offline $n sq
	pubs $p pubw:sess/a/x:m8:1:1 pubw:sess/b/x:m9:2:2 >/dev/null
	out=$(cl $p sq connect:0 quiet:1 disconnect | lines)
	check "[$n] the discarded subscriptions are gone: session present 1, nothing queued (got '$out')" \
		test "$out" = "connack 1 0;"
}

dup_resend() {
	local p=$1 n=$2 out pid1 pid2
	rm -f "$work/ready"
	cl $p sd connect:0 subscribe:'sess/d/#':2 mode:none touch:"$work/ready" read:2:20 drop \
		>"$work/sd.$n" &
	local spid=$!
	if ready "$work/ready"; then
		[ -n "${online_hook:-}" ] && $online_hook sd
		pubs $p pubw:sess/d/x:d1:1:1 pubw:sess/d/x:d2:2:2 >/dev/null
	fi
	wait $spid
	out=$(lines <"$work/sd.$n")
	check "[$n] a live persistent subscriber gets d1 (QoS 1) and d2 (QoS 2) with DUP 0, acknowledges neither (got '$out')" \
		eval '[[ "$out" =~ ^"connack 0 0;suback 1 2;publish d=0 q=1 r=0 pid="[0-9]+" sess/d/x d1;publish d=0 q=2 r=0 pid="[0-9]+" sess/d/x d2;"$ ]]'
	pid1=$(grep ' d1$' "$work/sd.$n" | sed -E 's/.* pid=([0-9]+) .*/\1/')
	pid2=$(grep ' d2$' "$work/sd.$n" | sed -E 's/.* pid=([0-9]+) .*/\1/')
	offline $n sd
	out=$(cl $p sd connect:0 read:3:10 quiet:1 disconnect | lines)
	check "[$n] reconnect: both re-sent with DUP 1 and their packet ids ($pid1, $pid2), then PUBREL (got '$out')" \
		test "$out" = "connack 1 0;publish d=1 q=1 r=0 pid=$pid1 sess/d/x d1;publish d=1 q=2 r=0 pid=$pid2 sess/d/x d2;pubrel $pid2;"
}

# The messages in flight when CONNECT with the same client id takes the session over from
# an open connection [MQTT-3.1.4-2] go again with DUP and their packet ids [MQTT-4.4.0-1].
takeover_resend() {
	local p=$1 n=$2 out pids want
	rm -f "$work/ready" "$work/got"
	cl $p st connect:0 subscribe:'sess/t/#':2 mode:none touch:"$work/ready" read:3:20 \
		touch:"$work/got" quiet:20 >"$work/st.$n" &
	local spid=$!
	ready "$work/ready" &&
		pubs $p pubw:sess/t/x:t1:1:1 pubw:sess/t/x:t2:2:2 pubw:sess/t/x:t3:2:3 >/dev/null
	ready "$work/got"
	cl $p st connect:0 read:5:10 quiet:1 disconnect >"$work/st2.$n"
	wait $spid
	out=$(lines <"$work/st.$n")
	check "[$n] takeover: the open connection got t1 (QoS 1), t2, t3 (QoS 2), acknowledged none, and was closed (got '$out')" \
		eval '[[ "$out" =~ ^"connack 0 0;suback 1 2;publish d=0 q=1 r=0 pid="[0-9]+" sess/t/x t1;publish d=0 q=2 r=0 pid="[0-9]+" sess/t/x t2;publish d=0 q=2 r=0 pid="[0-9]+" sess/t/x t3;closed;"$ ]]'
	pids=$(grep '^publish' "$work/st.$n" | sed -E 's/.* pid=([0-9]+) .*/\1/' | tr '\n' ' ')
	set -- $pids
	want="connack 1 0;publish d=1 q=1 r=0 pid=$1 sess/t/x t1;publish d=1 q=2 r=0 pid=$2 sess/t/x t2;publish d=1 q=2 r=0 pid=$3 sess/t/x t3;"
	out=$(grep -v '^pubrel' "$work/st2.$n" | lines)
	check "[$n] the new connection: session present, all three again with DUP 1 and their packet ids (got '$out')" \
		test "$out" = "$want"
	out=$(grep '^pubrel' "$work/st2.$n" | sort | lines)
	want=$(printf 'pubrel %s\n' "$2" "$3" | sort | lines)
	check "[$n] ... and a PUBREL for each QoS 2 one ($out)" test "$out" = "$want"
}

pubrel_resend() {
	local p=$1 n=$2 out pid
	rm -f "$work/ready"
	cl $p se connect:0 subscribe:'sess/e/#':2 mode:rec touch:"$work/ready" read:2:20 drop \
		>"$work/se.$n" &
	local spid=$!
	ready "$work/ready" && pubs $p pubw:sess/e/x:e1:2:1 >/dev/null
	wait $spid
	pid=$(grep ' e1$' "$work/se.$n" | sed -E 's/.* pid=([0-9]+) .*/\1/')
	out=$(lines <"$work/se.$n")
	check "[$n] QoS 2 to a persistent subscriber: PUBLISH, its PUBREC answered by PUBREL, no PUBCOMP sent (got '$out')" \
		test -n "$pid" -a "$out" = "connack 0 0;suback 1 2;publish d=0 q=2 r=0 pid=$pid sess/e/x e1;pubrel $pid;"
	offline $n se
	out=$(cl $p se connect:0 read:1:10 quiet:1 disconnect | lines)
	check "[$n] reconnect: the PUBREL is re-sent with the same id $pid, the message not again (got '$out')" \
		test "$out" = "connack 1 0;pubrel $pid;"
}

inbound_dedup() {
	local p=$1 n=$2 out
	mosquitto_sub -p $p -q 2 -t sess/in -t sess/inready -F '%q %t %p' -W 60 >"$work/in.$n" 2>/dev/null &
	local spid=$!
	wait_for 20 eval 'timeout 5 mosquitto_pub -p $p -t sess/inready -m r; grep -q sess/inready "$work/in.$n"'
	out=$(cl $p pin connect:0 mode:none publish:sess/in:once:2:77 read:1:10 drop | lines)
	check "[$n] QoS 2 PUBLISH id 77 from a clean-session-0 client: PUBREC 77 (got '$out')" \
		test "$out" = "connack 0 0;pubrec 77;"
	offline $n pin
	out=$(cl $p pin connect:0 mode:none publish:sess/in:once:2:77:dup read:1:10 pubrel:77 read:1:10 \
		quiet:1 disconnect | lines)
	check "[$n] reconnect, the same PUBLISH with DUP 1: PUBREC 77, then PUBREL 77 gets PUBCOMP 77 (got '$out')" \
		test "$out" = "connack 1 0;pubrec 77;pubcomp 77;"
	wait_for 5 grep -q 'sess/in once' "$work/in.$n"
	sleep 1
	kill $spid 2>/dev/null
	wait $spid 2>/dev/null
	out=$(grep -c '^2 sess/in once$' "$work/in.$n")
	check "[$n] a subscriber got the message exactly once, at QoS 2 (got $out: $(grep -v inready "$work/in.$n" | lines))" \
		test "$out" = 1
}

# max_queued_messages 5, queue_overflow drop_newest (mosquitto's only way)
queue_limit() {
	local p=$1 n=$2 out
	cl $p sl connect:0 subscribe:'sess/l/#':1 disconnect >/dev/null
	offline $n sl
	out=$(pubs $p pubw:sess/l/x:l1:1:1 pubw:sess/l/x:l2:1:2 pubw:sess/l/x:l3:1:3 \
		pubw:sess/l/x:l4:1:4 pubw:sess/l/x:l5:1:5 pubw:sess/l/x:l6:1:6 pubw:sess/l/x:l7:1:7 | lines)
	check "[$n] 7 QoS 1 messages for a session limited to 5: all acknowledged (got '$out')" \
		test "$out" = "connack 0 0;puback 1;puback 2;puback 3;puback 4;puback 5;puback 6;puback 7;"
	[ -n "${offline_hook:-}" ] && $offline_hook sl
	out=$(cl $p sl connect:0 read:6:10 quiet:1 disconnect | nopid | lines)
	check "[$n] max_queued_messages 5: the first 5 are kept (got '$out')" \
		test "$out" = "connack 1 0;publish d=0 q=1 r=0 sess/l/x l1;publish d=0 q=1 r=0 sess/l/x l2;publish d=0 q=1 r=0 sess/l/x l3;publish d=0 q=1 r=0 sess/l/x l4;publish d=0 q=1 r=0 sess/l/x l5;"
}

common() {
	local f
	for f in offline_queue clean_discard dup_resend takeover_resend pubrel_resend inbound_dedup \
		queue_limit; do
		mark "$2 $f"
		$f "$@"
	done
}

# --- mosquitto: the reference (in-memory sessions)
cat >"$work/mosquitto.conf" <<EOF
listener $mport 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 5
user root
EOF
with_mosquitto common $mport mosquitto

# --- kmqtt
mkdir -p "$work/db"
conf() {	# conf FILE EXTRA-LINES
	cat >"$1" <<EOF
listener $port 127.0.0.1
allow_anonymous true
control_socket $sock
persistence true
persistence_location $work/db
max_queued_messages 5
max_queued_bytes 1000
$2
EOF
}
conf "$work/kmqttd.conf" ""
check "insmod kmqtt.ko ($KVER)" insmod "$KO"
start_daemon "$work/kmqttd.conf"
check "kmqttd (persistence on, max_queued_messages 5) registers and serves" up

# While sd waits for its messages: kmqttd lists it online.
online_listing() {
	local j
	j=$(sess_json "$1")
	check "kmqttctl -j sessions: a connected persistent client is online, 1 subscription (got $j)" \
		test "$(jq -r '"\(.state) \(.subscriptions) \(.offline_since)"' <<<"$j")" = "online 1 null"
}
# Before sl comes back: offline, 1 subscription, 5 messages of 10 bytes (topic, payload).
offline_listing() {
	local j out
	j=$(sess_json "$1")
	check "kmqttctl -j sessions: offline, 1 subscription, 5 queued, 50 bytes, no expiry (got $j)" \
		test "$(jq -r '"\(.state) \(.subscriptions) \(.queued_messages) \(.queued_bytes) \(.expires_in)"' <<<"$j")" = \
		"offline 1 5 50 null"
	check "... offline since now (within 60 s)" \
		test $(($(date +%s) - $(jq -r '.offline_since // 0' <<<"$j"))) -lt 60
	out=$(kmqttctl sessions | grep ' sl$')
	check "kmqttctl sessions (human): '$out'" \
		eval '[[ "$out" =~ ^offline\ +1\ +5\ +50\ +[0-9-]+\ [0-9:]+\ +never\ +sl$ ]]'
}
online_hook=online_listing offline_hook=offline_listing
q0=$(mcount session_qos0_dropped)
dr0=$(dcount session_msgs_dropped)
common $port kmqtt
online_hook='' offline_hook=''
read -r q0d dr0d st rf <<<"$(stats | jq -r --argjson q $q0 --argjson d $dr0 \
	'"\(.module.counters.session_qos0_dropped - $q) \(.daemon.counters.session_msgs_dropped - $d) \(.module.counters.session_msgs_stored) \(.module.counters.session_msgs_refused)"')"
check "module: the QoS 0 message for the offline session counted in session_qos0_dropped ($q0d)" \
	test "$q0d" = 1
check "daemon: the 2 messages over max_queued_messages counted in session_msgs_dropped ($dr0d)" \
	test "$dr0d" = 2
check "module: session messages stored ($st), none refused ($rf)" test "$st" -ge 16 -a "$rf" = 0

mark "max_queued_bytes 1000"
# --- max_queued_bytes 1000 with drop_newest: 301-byte messages (9-byte topic, 292-byte payload), 3 fit
big=$(head -c 291 /dev/zero | tr '\0' b)
cl $port sb connect:0 subscribe:'sess/qb/#':1 disconnect >/dev/null
offline kmqtt sb
dr0=$(dcount session_msgs_dropped)
out=$(pubs $port pubw:sess/qb/x:1$big:1:1 pubw:sess/qb/x:2$big:1:2 pubw:sess/qb/x:3$big:1:3 \
	pubw:sess/qb/x:4$big:1:4 | lines)
check "4 messages of 301 bytes (topic and payload) for a session limited to 1000 bytes: all acknowledged (got '$(cut -c1-80 <<<"$out")')" \
	test "$out" = "connack 0 0;puback 1;puback 2;puback 3;puback 4;"
out=$(sess_get sb queued_messages queued_bytes)
check "kmqttctl -j sessions: 3 queued, 903 bytes (got '$out')" test "$out" = "3 903"
out=$(($(dcount session_msgs_dropped) - dr0))
check "session_msgs_dropped counted the 4th ($out)" test "$out" = 1
out=$(cl $port sb connect:0 read:4:10 quiet:1 disconnect | nopid | short | lines)
check "max_queued_bytes, drop_newest: the first 3 delivered (got '$out')" \
	test "$out" = "connack 1 0;publish d=0 q=1 r=0 sess/qb/x 1b292;publish d=0 q=1 r=0 sess/qb/x 2b292;publish d=0 q=1 r=0 sess/qb/x 3b292;"

mark "the PUBACK waits for kmqttd"
# --- the PUBACK waits for kmqttd: with kmqttd stopped, a publish matching an offline
# session is not acknowledged (online clean subscribers still get it); one matching only
# online subscribers is.
cl $port sr connect:0 subscribe:'sess/r/#':1 disconnect >/dev/null
offline kmqtt sr
mosquitto_sub -p $port -q 1 -t 'sess/r/#' -t 'sess/o/#' -F '%t %p' -W 120 >"$work/live" 2>/dev/null &
lpid=$!
wait_for 20 eval 'timeout 5 mosquitto_pub -p $port -t sess/o/ready -m r; grep -q sess/o/ready "$work/live"'
rm -f "$work/ready" "$work/go"
cl $port pr connect:0 touch:"$work/ready" waitfile:"$work/go":60 publish:sess/r/x:refused:1:9 \
	publish:sess/o/x:open:1:10 read:2:6 quiet:1 drop >"$work/pr" &
ppid=$!
ready "$work/ready"
rf0=$(mcount session_msgs_refused)
stop_daemon
touch "$work/go"
wait $ppid
out=$(lines <"$work/pr")
check "kmqttd stopped: PUBACK for the message to online subscribers only, none for the one an offline session matches (got '$out')" \
	test "$out" = "connack 0 0;puback 10;"
out=$(mcount session_msgs_refused)
check "module: session_msgs_refused grew ($rf0 -> $out)" test "$out" -gt "$rf0"
wait_for 5 grep -q 'sess/o/x open' "$work/live"
out=$(grep -v ready "$work/live" | lines)
check "the online clean subscriber got both (got '$out')" \
	test "$out" = "sess/r/x refused;sess/o/x open;"
start_daemon "$work/kmqttd.conf"
check "kmqttd restarts" up
out=$(cl $port pr connect:0 publish:sess/r/x:refused:1:9:dup read:1:10 quiet:1 disconnect | lines)
check "the publisher reconnects and re-sends it (DUP): now acknowledged (got '$out')" \
	test "$out" = "connack 1 0;puback 9;"
out=$(cl $port sr connect:0 read:2:10 quiet:1 disconnect | nopid | lines)
check "the offline session gets it once (got '$out')" \
	test "$out" = "connack 1 0;publish d=0 q=1 r=0 sess/r/x refused;"
kill $lpid 2>/dev/null
wait $lpid 2>/dev/null

mark "sessions across kmqttd restarts"
# --- sessions across kmqttd restarts (SIGTERM, SIGKILL) and a module reload
cl $port sk connect:0 subscribe:'sess/k/#':2 disconnect >/dev/null
offline kmqtt sk
out=$(pubs $port pubw:sess/k/x:k1:1:1 | lines)
check "k1 queued (got '$out')" test "$out" = "connack 0 0;puback 1;"
stop_daemon
start_daemon "$work/kmqttd.conf"
check "kmqttd restarted after SIGTERM" up
out=$(sess_get sk state subscriptions queued_messages)
check "the session is back offline with k1 queued: state, subscriptions, messages '$out'" test "$out" = "offline 1 1"
out=$(pubs $port pubw:sess/k/x:k2:2:1 | lines)
check "k2 (QoS 2) queued after the restart (got '$out')" test "$out" = "connack 0 0;pubrec 1;pubcomp 1;"
kill -9 "$dpid"
wait "$dpid" 2>/dev/null
start_daemon "$work/kmqttd.conf"
check "kmqttd restarted after SIGKILL" up
out=$(sess_get sk state subscriptions queued_messages)
check "the session is back with k1, k2 queued: state, subscriptions, messages '$out'" test "$out" = "offline 1 2"
out=$(pubs $port pubw:sess/k/x:k3:1:1 | lines)
check "k3 queued after the kill (got '$out')" test "$out" = "connack 0 0;puback 1;"
stop_daemon
check "rmmod" rmmod kmqtt
check "insmod" insmod "$KO"
start_daemon "$work/kmqttd.conf"
check "kmqttd starts on its store after the module reload" up
out=$(sess_get sk state subscriptions queued_messages)
check "the session is back with k1..k3 queued: state, subscriptions, messages '$out'" test "$out" = "offline 1 3"
out=$(pubs $port pubw:sess/k/x:k4:1:1 | lines)
check "k4, published after the reload, is acknowledged (got '$out')" test "$out" = "connack 0 0;puback 1;"
out=$(sess_get sk queued_messages)
check "... and queued for the offline session: its subscription is back (queued: $out)" test "$out" = 4
rm -f "$work/ready"
cl $port sk connect:0 read:6:15 touch:"$work/ready" read:1:15 quiet:1 disconnect >"$work/sk" &
spid=$!
ready "$work/ready" && pubs $port pubw:sess/k/x:k5:1:1 >/dev/null
wait $spid
out=$(grep -v '^pubrel' "$work/sk" | nopid | lines)
check "reconnect: session present, k1..k4 in order at their QoS, then k5 live (got '$out')" \
	test "$out" = "connack 1 0;publish d=0 q=1 r=0 sess/k/x k1;publish d=0 q=2 r=0 sess/k/x k2;publish d=0 q=1 r=0 sess/k/x k3;publish d=0 q=1 r=0 sess/k/x k4;publish d=0 q=1 r=0 sess/k/x k5;"

mark "in flight when the connection ends without kmqttd"
# --- messages in flight when a connection ends while no kmqttd is there to take them: the
# parked session keeps them, and they go again with DUP and their packet ids
rm -f "$work/ready" "$work/got" "$work/go"
cl $port sn connect:0 subscribe:'sess/n/#':2 mode:none touch:"$work/ready" read:3:20 \
	touch:"$work/got" waitfile:"$work/go":30 drop >"$work/sn" &
spid=$!
ready "$work/ready" &&
	pubs $port pubw:sess/n/x:n1:2:1 pubw:sess/n/x:n2:2:2 pubw:sess/n/x:n3:1:3 >/dev/null
ready "$work/got"
p0=$(mcount sessions_parked)
kill -9 "$dpid"
wait "$dpid" 2>/dev/null
touch "$work/go"
wait $spid
pids=$(grep '^publish' "$work/sn" | sed -E 's/.* pid=([0-9]+) .*/\1/' | tr '\n' ' ')
check "sn got n1, n2 (QoS 2), n3 (QoS 1) and acknowledged none (pids: $pids)" \
	test "$(grep -c '^publish d=0' "$work/sn")" = 3
wait_for 10 eval '[ "$(mcount sessions_parked)" -gt "$p0" ]'
start_daemon "$work/kmqttd.conf"
check "kmqttd restarted after SIGKILL" up
set -- $pids
out=$(cl $port sn connect:0 read:5:10 quiet:1 disconnect | grep -v '^pubrel' | lines)
check "sn reconnects: the three again, with DUP 1 and their packet ids (got '$out')" \
	test "$out" = "connack 1 0;publish d=1 q=2 r=0 pid=$1 sess/n/x n1;publish d=1 q=2 r=0 pid=$2 sess/n/x n2;publish d=1 q=1 r=0 pid=$3 sess/n/x n3;"

mark "queue_overflow drop_oldest"
# --- queue_overflow drop_oldest and persistent_client_expiration 1h (kmqttd restarted)
stop_daemon
conf "$work/kmqttd2.conf" "queue_overflow drop_oldest
persistent_client_expiration 1h"
start_daemon "$work/kmqttd2.conf"
check "kmqttd with queue_overflow drop_oldest, persistent_client_expiration 1h starts" up
cl $port so connect:0 subscribe:'sess/do/#':1 disconnect >/dev/null
offline kmqtt so
dr0=$(dcount session_msgs_dropped)
out=$(pubs $port pubw:sess/do/x:o1:1:1 pubw:sess/do/x:o2:1:2 pubw:sess/do/x:o3:1:3 \
	pubw:sess/do/x:o4:1:4 pubw:sess/do/x:o5:1:5 pubw:sess/do/x:o6:1:6 pubw:sess/do/x:o7:1:7 | lines)
check "7 messages for a session limited to 5: all acknowledged (got '$out')" \
	test "$out" = "connack 0 0;puback 1;puback 2;puback 3;puback 4;puback 5;puback 6;puback 7;"
out=$(($(dcount session_msgs_dropped) - dr0))
check "session_msgs_dropped counted 2 ($out)" test "$out" = 2
j=$(sess_json so)
exp=$(jq -r .expires_in <<<"$j")
check "kmqttctl -j sessions: expiration 3600, the offline session expires within the hour (got $j)" \
	eval '[ "$(kmqttctl -j sessions | jq -r .daemon.expiration)" = 3600 ] && [ "$exp" -gt 3500 ] && [ "$exp" -le 3600 ]'
out=$(kmqttctl sessions | grep ' so$')
check "kmqttctl sessions (human) shows the expiry: '$out'" \
	eval '[[ "$out" =~ \ (5[0-9]m[0-5][0-9]s|1h00m)\ +so$ ]]'
out=$(cl $port so connect:0 read:6:10 quiet:1 disconnect | nopid | lines)
check "max_queued_messages, drop_oldest: the last 5 are kept (got '$out')" \
	test "$out" = "connack 1 0;publish d=0 q=1 r=0 sess/do/x o3;publish d=0 q=1 r=0 sess/do/x o4;publish d=0 q=1 r=0 sess/do/x o5;publish d=0 q=1 r=0 sess/do/x o6;publish d=0 q=1 r=0 sess/do/x o7;"
cl $port sb connect:0 disconnect >/dev/null
offline kmqtt sb
out=$(pubs $port pubw:sess/qb/x:1$big:1:1 pubw:sess/qb/x:2$big:1:2 pubw:sess/qb/x:3$big:1:3 \
	pubw:sess/qb/x:4$big:1:4 pubw:sess/qb/x:5$big:1:5 | lines)
check "5 messages of 301 bytes, limit 1000 bytes: all acknowledged" \
	test "$out" = "connack 0 0;puback 1;puback 2;puback 3;puback 4;puback 5;"
out=$(cl $port sb connect:0 read:4:10 quiet:1 disconnect | nopid | short | lines)
check "max_queued_bytes, drop_oldest: the last 3 delivered (got '$out')" \
	test "$out" = "connack 1 0;publish d=0 q=1 r=0 sess/qb/x 3b292;publish d=0 q=1 r=0 sess/qb/x 4b292;publish d=0 q=1 r=0 sess/qb/x 5b292;"

mark "persistent_client_expiration across a restart"
# --- persistent_client_expiration 1h across a restart of kmqttd (store on). Two sessions
# go offline with 2 QoS 1 messages queued each; with kmqttd stopped, the time each went
# offline is moved back in the store with the sqlite3 shell, 2 hours for gone-MODE and
# 30 minutes for stay-MODE. Started again, kmqttd must delete gone-MODE everywhere (its
# memory, its store, the module) and keep stay-MODE whole. MODE kept: the module stays
# loaded and still has both parked; reloaded: it is reloaded while kmqttd is stopped, and
# kmqttd parks its offline sessions there again.
db=$work/db/kmqtt.db
sql() { sqlite3 -batch -cmd '.timeout 10000' "$db" "$@" 2>&1; }
# stored CLIENTID: "SESSION-ROWS MESSAGE-ROWS" the store holds for it
stored() {
	sql "SELECT (SELECT count(*) FROM sessions WHERE client_id = CAST('$1' AS BLOB)) || ' ' ||
		(SELECT count(*) FROM session_msgs WHERE client_id = CAST('$1' AS BLOB));"
}
offline_count() {
	kmqttctl -j sessions 2>/dev/null | jq '[.daemon.sessions[]? | select(.state == "offline")] | length'
}
expiry_restart() {
	local mode=$1 gone=gone-$1 stay=stay-$1 c out j p0 d0 pu0 ago_g ago_s secs
	mark "expiry across a restart, module $mode"
	for c in $gone $stay; do
		out=$(cl $port $c connect:0 subscribe:"sess/x/$c/#":1 disconnect | lines)
		check "[$mode] $c: clean session 0, subscribed at QoS 1 (got '$out')" \
			test "$out" = "connack 0 0;suback 1 1;"
		offline kmqtt $c
		out=$(pubs $port pubw:sess/x/$c/t:${c}-1:1:1 pubw:sess/x/$c/t:${c}-2:1:2 | lines)
		check "[$mode] 2 QoS 1 messages for the offline $c acknowledged (got '$out')" \
			test "$out" = "connack 0 0;puback 1;puback 2;"
	done
	out="$(sess_get $gone state queued_messages), $(sess_get $stay state queued_messages)"
	check "[$mode] kmqttctl -j sessions: both offline, 2 queued each (got '$out')" \
		test "$out" = "offline 2, offline 2"
	p0=$(mcount sessions_parked)
	d0=$(mcount sessions_discarded)
	stop_daemon
	out="$(stored $gone), $(stored $stay)"
	check "[$mode] kmqttd stopped: the store holds both sessions and 2 messages each (got '$out')" \
		test "$out" = "1 2, 1 2"
	if [ "$mode" = reloaded ]; then
		check "[$mode] rmmod" rmmod kmqtt
		check "[$mode] insmod" insmod "$KO"
	fi
	out=$(sql "UPDATE sessions SET offline_since = offline_since - 7200
			WHERE client_id = CAST('$gone' AS BLOB); SELECT changes();
		   UPDATE sessions SET offline_since = offline_since - 1800
			WHERE client_id = CAST('$stay' AS BLOB); SELECT changes();
		   SELECT $(date +%s) - offline_since FROM sessions
			WHERE client_id IN (CAST('$gone' AS BLOB), CAST('$stay' AS BLOB))
			ORDER BY client_id;" | lines)
	IFS=';' read -r _ _ ago_g ago_s <<<"$out"
	check "[$mode] sqlite3: offline_since moved back, $gone offline 2 h, $stay 30 min ago (got '$out')" \
		eval '[[ "$out" =~ ^1\;1\;[0-9]+\;[0-9]+\;$ ]] &&
			[ "$ago_g" -ge 7200 ] && [ "$ago_g" -lt 7500 ] &&
			[ "$ago_s" -ge 1800 ] && [ "$ago_s" -lt 2100 ]'
	start_daemon "$work/kmqttd2.conf"
	check "[$mode] kmqttd restarts (persistent_client_expiration 1h)" up
	# A new kmqttd: its counters start at 0.
	wait_for 30 eval '[ "$(dcount sessions_expired)" -gt 0 ]'
	out=$(dcount sessions_expired)
	check "[$mode] the new kmqttd's sessions_expired counted one expiry ($out)" test "$out" = 1
	out=$(grep -E "session of client $gone expired \(offline for [0-9]+ s, 2 message\(s\) queued\)" "$dlog")
	secs=$(sed -E 's/.*offline for ([0-9]+) s.*/\1/' <<<"$out")
	check "[$mode] kmqttd logged it, offline for over 2 h (got '$out')" \
		eval '[ "$(wc -l <<<"$out")" = 1 ] && [ "${secs:-0}" -ge 7200 ]'
	check "[$mode] no expiry logged for $stay" eval '! grep -q "client $stay expired" "$dlog"'
	j=$(sess_json $gone)
	check "[$mode] kmqttctl -j sessions no longer lists $gone (got $j)" test "$j" = null
	j=$(sess_json $stay)
	check "[$mode] $stay is listed offline, 1 subscription, 2 queued, expiring in about 30 min (got $j)" \
		eval '[ "$(jq -r "\"\(.state) \(.subscriptions) \(.queued_messages)\"" <<<"$j")" = "offline 1 2" ] &&
			[ "$(jq -r .expires_in <<<"$j")" -gt 1400 ] &&
			[ "$(jq -r .expires_in <<<"$j")" -le 1800 ]'
	wait_for 20 eval '[ "$(stored $gone)" = "0 0" ]'
	out="$(stored $gone), $(stored $stay)"
	check "[$mode] the store no longer holds $gone nor its messages, $stay with its 2 (got '$out')" \
		test "$out" = "0 0, 1 2"
	if [ "$mode" = kept ]; then
		out="$(mcount sessions_parked) $(mcount sessions_discarded)"
		check "[$mode] module: one parked session fewer ($p0 -> ${out% *}), one discarded ($d0 -> ${out#* })" \
			test "$out" = "$((p0 - 1)) $((d0 + 1))"
	fi
	out="$(mcount sessions_parked) $(offline_count)"
	check "[$mode] module: as many sessions parked as kmqttd has offline (parked, offline: $out)" \
		test "${out% *}" = "${out#* }"
	if [ "$mode" = reloaded ]; then
		# The new module had none: kmqttd parked its offline sessions there, but not the
		# expired one only to discard it again.
		out="$(dcount sessions_restored) $(offline_count) $(mcount sessions_discarded)"
		check "[$mode] restored in the new module: every offline session, not $gone (restored, offline, module discarded: $out)" \
			eval '[ "$(cut -d" " -f1 <<<"$out")" = "$(cut -d" " -f2 <<<"$out")" ] &&
				[ "$(cut -d" " -f3 <<<"$out")" = 0 ]'
	fi
	# Were gone-MODE still parked in the module, this would be handed to kmqttd for it.
	pu0=$(mcount session_msgs_punted)
	out=$(pubs $port pubw:sess/x/$gone/t:late:1:1 | lines)
	check "[$mode] a QoS 1 message to $gone's old topic is acknowledged (got '$out')" \
		test "$out" = "connack 0 0;puback 1;"
	out="$(($(mcount session_msgs_punted) - pu0)) $(sess_json $gone)"
	check "[$mode] ... nothing handed over for $gone, no session for it again (punted, entry: $out)" \
		test "$out" = "0 null"
	out=$(cl $port $gone connect:0 quiet:2 disconnect | lines)
	check "[$mode] $gone reconnects with clean session 0: session present 0, none of its old messages (got '$out')" \
		test "$out" = "connack 0 0;"
	offline kmqtt $gone
	out=$(sess_get $gone subscriptions queued_messages)
	check "[$mode] $gone's new session has no subscription, nothing queued (got '$out')" test "$out" = "0 0"
	out=$(cl $port $stay connect:0 read:3:15 quiet:1 disconnect | nopid | lines)
	check "[$mode] $stay reconnects: session present 1, its 2 messages in order (got '$out')" \
		test "$out" = "connack 1 0;publish d=0 q=1 r=0 sess/x/$stay/t $stay-1;publish d=0 q=1 r=0 sess/x/$stay/t $stay-2;"
	wait_for 20 eval '[ "$(stored $stay)" = "1 0" ]'
	out=$(stored $stay)
	check "[$mode] the delivered messages are gone from the store, the session kept (got '$out')" \
		test "$out" = "1 0"
}
expiry_restart kept
expiry_restart reloaded
stop_daemon

check "final rmmod" rmmod kmqtt
if [ $fails -gt 0 ]; then
	echo "--- kmqttd log (last 60 lines)"
	tail -n 60 "$dlog"
fi
echo "# took ${SECONDS} s"
finish
