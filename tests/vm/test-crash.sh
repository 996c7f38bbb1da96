#!/usr/bin/env bash
# kmqttd killed with SIGKILL at random moments, KILLS times (default 20), while one
# publisher streams QoS 1, QoS 2 and retained QoS 1 messages to two subscribers: one
# clean, always connected (its connection lives in kmqtt.ko), and one with a persistent
# session that keeps going offline and coming back (tests/tools/crash-sub.py), so that
# messages for it are handed to kmqttd and stored while kmqttd is being killed. Then:
# every message the broker acknowledged to the publisher (PUBACK, PUBCOMP) reached both
# subscribers (QoS 1 at least once, QoS 2 exactly once, and no QoS 2 message twice at
# all), and every retained message acknowledged is in the store the last kmqttd opened
# (that one or a later one of the same topic). The figures (kills, acknowledged,
# delivered, duplicates) are printed in the TAP names. KILLS=N changes the number of
# kills (KILLS=0: the same traffic without any).
set -u
. "$(dirname "$0")/lib.sh"

# The debug kernel (4-5 times slower, there for KASAN/lockdep/kmemleak) kills 6 times and
# expects a third of the traffic.
kills=${KILLS:-20}
least=100
if [ "$KVER" = debug ]; then
	kills=${KILLS:-6}
	least=30
fi
work=$(mktemp -d)
port=1883
sock=$work/kmqttd.sock
export KMQTT_CTL_SOCKET=$sock
dlog=$work/kmqttd.log
dpid=
trap 'kill -9 $dpid 2>/dev/null; kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

registered() {
	[ "$(kmqttctl -j status 2>/dev/null | jq -r '.module.state + " " + .daemon.module')" = \
		"running registered" ]
}
serving() { mosquitto_sub -p $port -t none -W 2 -E >/dev/null 2>&1; }
start_daemon() { kmqttd -c "$work/kmqttd.conf" >>"$dlog" 2>&1 & dpid=$!; }
mcount() { kmqttctl -j stats 2>/dev/null | jq -r ".module.counters.$1 // 0"; }

mkdir -p "$work/db"
cat >"$work/kmqttd.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
control_socket $sock
persistence true
persistence_location $work/db
EOF
[ -n "${CRASH_SUB_TRACE:-}" ] && echo "log_level debug" >>"$work/kmqttd.conf"
check "insmod kmqtt.ko ($KVER)" insmod "$KO"
start_daemon
check "kmqttd registers and serves" eval 'wait_for 15 registered && wait_for 15 serving'

mosquitto_sub -p $port -q 2 -t c/q1 -t c/q2 -t c/ready -v -W 600 >"$work/sub" 2>/dev/null &
spid=$!
check "the subscriber is subscribed" wait_for 20 eval \
	'mosquitto_pub -p $port -t c/ready -m r; grep -q c/ready "$work/sub"'
CRASH_SUB_TRACE=1 python3 "$TOP/tests/tools/crash-sub.py" $port "$work/psub" "$work/stop" \
	>"$work/psub.log" 2>"$work/psub.trace" &
pspid=$!
check "the persistent subscriber has its session" wait_for 20 eval \
	'[ "$(kmqttctl -j sessions 2>/dev/null | jq -r ".daemon.sessions[]? | select(.client_id == \"psub\") | .subscriptions")" = 2 ]'
python3 "$TOP/tests/tools/crash-pub.py" $port "$work/acked" "$work/stop" >"$work/pub.log" 2>&1 &
ppid=$!
# It creates its output file once connected: the kills start after that.
check "the publisher is connected" wait_for 30 test -e "$work/acked"

# The kills: at a random moment 0.1..1.3 s after the daemon was started (so also while it
# opens its store, registers, or commits), every other one counted from its registration
# (so that on a slow kernel, the debug one, most still hit a daemon at work), then a
# restart.
done_kills=0
for i in $(seq 1 "$kills"); do
	[ $((i % 2)) = 1 ] && wait_for 30 registered
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.1 + r % 120 / 100 }')"
	kill -9 "$dpid" 2>/dev/null && done_kills=$((done_kills + 1))
	wait "$dpid" 2>/dev/null
	start_daemon
done
check "kmqttd killed with SIGKILL $done_kills times" test "$done_kills" = "$kills"
check "kmqttd restarts after the last kill and serves" \
	eval 'wait_for 20 registered && wait_for 20 serving'
# Let the retained hand-overs refused while the daemon was down be sent again by a
# publisher that is still running: a few seconds of traffic with the daemon up.
sleep 3
touch "$work/stop"
wait_for 30 eval '! kill -0 $ppid 2>/dev/null'
wait "$ppid"
rc=$?
check "the publisher's connection survived every kill ($(tail -n 1 "$work/pub.log"))" test $rc = 0
# Everything acknowledged has been delivered by now, or never will be.
sleep 2
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
wait_for 60 eval '! kill -0 $pspid 2>/dev/null'
wait "$pspid"
rc=$?
check "the persistent subscriber kept its session through the kills ($(tail -n 1 "$work/psub.log"))" \
	test $rc = 0

n1=$(grep -c '^q1 ' "$work/acked")
n2=$(grep -c '^q2 ' "$work/acked")
nr=$(grep -c '^r ' "$work/acked")
grep '^c/q1 ' "$work/sub" | cut -d' ' -f2 | sort -n >"$work/got1"
grep '^c/q2 ' "$work/sub" | cut -d' ' -f2 | sort -n >"$work/got2"
lost1=$(grep '^q1 ' "$work/acked" | cut -d' ' -f2 | sort -n | comm -23 - <(sort -nu "$work/got1") | wc -l)
lost2=$(grep '^q2 ' "$work/acked" | cut -d' ' -f2 | sort -n | comm -23 - <(sort -nu "$work/got2") | wc -l)
dup1=$(($(wc -l <"$work/got1") - $(sort -nu "$work/got1" | wc -l)))
dup2=$(($(wc -l <"$work/got2") - $(sort -nu "$work/got2" | wc -l)))
check "traffic flowed through the kills: $n1 QoS 1, $n2 QoS 2, $nr retained acknowledged" \
	test "$n1" -ge $least -a "$n2" -ge $least -a "$nr" -ge $((least / 10))
check "every acknowledged QoS 1 message delivered ($(wc -l <"$work/got1") delivered, $lost1 lost, $dup1 duplicates)" \
	test "$lost1" = 0
check "every acknowledged QoS 2 message delivered ($(wc -l <"$work/got2") delivered, $lost2 lost)" \
	test "$lost2" = 0
check "no QoS 2 message delivered twice ($dup2 duplicates)" test "$dup2" = 0

# The persistent subscriber: offline much of the time, its messages stored by kmqttd.
grep '^c/q1 ' "$work/psub" | cut -d' ' -f2 | sort -n >"$work/pgot1"
grep '^c/q2 ' "$work/psub" | cut -d' ' -f2 | sort -n >"$work/pgot2"
plost1=$(grep '^q1 ' "$work/acked" | cut -d' ' -f2 | sort -n | comm -23 - <(sort -nu "$work/pgot1") | wc -l)
plost2=$(grep '^q2 ' "$work/acked" | cut -d' ' -f2 | sort -n | comm -23 - <(sort -nu "$work/pgot2") | wc -l)
pdup1=$(($(wc -l <"$work/pgot1") - $(sort -nu "$work/pgot1" | wc -l)))
pdup2=$(($(wc -l <"$work/pgot2") - $(sort -nu "$work/pgot2" | wc -l)))
echo "# daemon: $(kmqttctl -j stats 2>/dev/null | jq -c '.daemon.counters | {session_msgs_queued, session_msgs_delivered, session_msgs_dropped, session_store_errors}')"
echo "# module: $(kmqttctl -j stats 2>/dev/null | jq -c '.module.counters | {sessions_parked, sessions_resumed, session_msgs_punted, session_msgs_stored, session_msgs_refused}')"
check "persistent session: every acknowledged QoS 1 message delivered ($(wc -l <"$work/pgot1") delivered, $plost1 lost, $pdup1 duplicates)" \
	test "$plost1" = 0
check "persistent session: every acknowledged QoS 2 message delivered ($(wc -l <"$work/pgot2") delivered, $plost2 lost)" \
	test "$plost2" = 0
check "persistent session: no QoS 2 message delivered twice ($pdup2 duplicates)" test "$pdup2" = 0
# Each duplicate as the subscriber saw it (packet id, DUP flag, connection cycle), and
# what kmqttd logged about the session.
for m in $(uniq -d "$work/pgot2" | head -n 5); do
	grep "^q2 $m " "$work/psub.trace" | sed 's/^/#   /'
done
[ "$pdup2" = 0 ] || grep -E 'psub|registered|went away' "$dlog" | tail -n 30 | sed 's/^/#   kmqttd: /'
check "persistent session: messages were stored for it while offline ($(mcount session_msgs_stored))" \
	test "$(mcount session_msgs_stored)" -ge $least

# Retained: for each topic, the store holds the last acknowledged message or a later one.
mosquitto_sub -p $port -t 'c/r/#' -C 8 -W 5 -F '%r %t %p' >"$work/rsub" 2>/dev/null
check "a new subscriber gets the 8 retained topics with the retain flag" \
	test "$(grep -c '^1 c/r/' "$work/rsub")" = 8
bad=0
for t in $(grep '^r ' "$work/acked" | cut -d' ' -f2 | sort -u); do
	last=$(grep "^r $t " "$work/acked" | cut -d' ' -f3 | sort -n | tail -n 1)
	have=$(awk -v t="$t" '$2 == t { print $3 }' "$work/rsub")
	if [ -z "$have" ] || [ "$have" -lt "$last" ]; then
		bad=$((bad + 1))
		echo "# $t: acknowledged $last, retained '${have}'"
	fi
done
check "every acknowledged retained message survived the kills ($bad topics behind)" test "$bad" = 0
echo "# module: retain_punted $(mcount retain_punted), retain_stored $(mcount retain_stored), retain_not_stored $(mcount retain_not_stored), daemon_lost $(mcount daemon_lost)"
# A kill before the daemon registered is not a loss the module sees: most kills must be.
lost=$(mcount daemon_lost)
[ "$kills" = 0 ] || check "most kills hit a registered daemon: the module counted $lost of $kills losses" \
	test "$lost" -ge $((kills / 2)) -a "$lost" -le "$kills"

[ "$fails" = 0 ] || grep -v ': info: ' "$dlog" | tail -n 40 | sed 's/^/# kmqttd: /'
if [ -n "${CRASH_SUB_TRACE:-}" ]; then cp "$work/psub.trace" "$work/psub" "$work/acked" "$dlog" "$TOP/build/"; fi
kill -TERM "$dpid"
wait "$dpid" 2>/dev/null
dpid=
check "rmmod" rmmod kmqtt
finish
