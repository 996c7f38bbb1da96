#!/usr/bin/env bash
# Retained messages end to end, and kmqttd's persistent store. The common behaviour (set,
# replace, clear, delivered on subscribe with the retain flag and wildcards, '$' topics,
# QoS of the delivery, retain flag cleared on live forwarding, read ACL) is checked against
# mosquitto first, then the same checks against kmqtt; then what only kmqtt has: the QoS 1
# PUBACK waits for the store, refusal counters, survival across restarts and module
# reloads, the encrypted store, damaged stores.
set -u
. "$(dirname "$0")/lib.sh"

# On the guest's own file system (tmpfs): the control socket cannot live on the 9p share
# of the tree, nor can SQLite's WAL, which needs shared memory maps.
work=$(mktemp -d)
sdir=$work/stores
port=1883
mport=1884
sock=$work/kmqttd.sock
export KMQTT_CTL_SOCKET=$sock
dlog=$work/kmqttd.log
trap 'kill -CONT $dpid 2>/dev/null; kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
dpid=

stats() { kmqttctl -j stats 2>/dev/null; }
mcount() { stats | jq -r ".module.counters.$1 // 0"; }
dcount() { stats | jq -r ".daemon.counters.$1 // 0"; }
registered() {
	[ "$(kmqttctl -j status 2>/dev/null | jq -r '.module.state + " " + .daemon.module')" = \
		"running registered" ]
}
start_daemon() {	# start_daemon CONF
	kmqttd -c "$1" >>"$dlog" 2>&1 &
	dpid=$!
}
# Registered with the module and accepting MQTT clients.
serving() { mosquitto_sub -p "${1:-$port}" -t none -W 2 -E >/dev/null 2>&1; }
up() { wait_for 15 registered && wait_for 15 serving; }
stop_daemon() { kill -TERM "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; dpid=; }
# sub PORT FILTER COUNT [SECONDS [QOS]]: "retain qos topic payload" per message
sub() {
	mosquitto_sub -p "$1" -t "$2" -q "${5:-1}" -C "$3" -W "${4:-5}" -F '%r %q %t %p' 2>/dev/null
}
pub() { timeout 10 mosquitto_pub -p "$@"; }

# The same ACL for both brokers (mosquitto's format): anonymous clients may use these trees,
# and write, but not read, hidden/.
mkdir -p "$sdir"
cat >"$work/acl" <<'EOF'
topic readwrite r/#
topic readwrite live/#
topic readwrite $x/#
topic readwrite p/#
topic readwrite big/#
topic write hidden/#
EOF

# retained_basics PORT NAME: the checks both brokers must pass.
retained_basics() {
	local p=$1 n=$2 out
	check "[$n] a QoS 1 retained PUBLISH is acknowledged" pub "$p" -q 1 -r -t r/a -m one
	out=$(sub "$p" r/a 1)
	check "[$n] delivered on subscribe, retain flag set (got '$out')" test "$out" = "1 1 r/a one"
	pub "$p" -q 1 -r -t r/a -m two
	out=$(sub "$p" r/a 1)
	check "[$n] a second retained PUBLISH replaces the first (got '$out')" \
		test "$out" = "1 1 r/a two"
	pub "$p" -q 0 -r -t r/b/c -m bc
	out=$(sub "$p" 'r/#' 2 | sort | tr '\n' ';')
	check "[$n] r/# gets both, each at min(message, subscription) QoS (got '$out')" \
		test "$out" = "1 0 r/b/c bc;1 1 r/a two;"
	out=$(sub "$p" 'r/+' 2 2 | tr '\n' ';')
	check "[$n] r/+ gets r/a only (got '$out')" test "$out" = "1 1 r/a two;"
	out=$(sub "$p" r/a 1 5 0)
	check "[$n] a QoS 0 subscription gets it at QoS 0 (got '$out')" test "$out" = "1 0 r/a two"
	pub "$p" -q 1 -r -t '$x/y' -m dollar
	out=$(sub "$p" '#' 10 2 | tr '\n' ';')
	check "[$n] '#' does not match the \$ topic (got '$out')" test "$out" = "1 0 r/b/c bc;1 1 r/a two;" -o \
		"$out" = "1 1 r/a two;1 0 r/b/c bc;"
	out=$(sub "$p" '+/y' 1 2)
	check "[$n] '+/y' does not match '\$x/y' (got '$out')" test -z "$out"
	out=$(sub "$p" '$x/#' 1)
	check "[$n] '\$x/#' does (got '$out')" test "$out" = "1 1 \$x/y dollar"
	pub "$p" -q 1 -r -t hidden/x -m secret
	out=$(sub "$p" '#' 10 2 | grep -c secret)
	check "[$n] not delivered where the ACL denies reading" test "$out" = 0
	# A subscriber known to be subscribed (it got a live/ready message) sees live/x live.
	mosquitto_sub -p "$p" -t live/x -t live/ready -q 1 -W 30 -F '%r %q %t %p' \
		>"$work/live.$n" 2>/dev/null &
	local spid=$!
	wait_for 20 eval 'pub "$p" -q 0 -t live/ready -m r; grep -q live/ready "$work/live.$n"'
	pub "$p" -q 1 -r -t live/x -m now
	wait_for 10 grep -q live/x "$work/live.$n"
	kill $spid 2>/dev/null
	wait $spid 2>/dev/null
	out=$(grep live/x "$work/live.$n")
	check "[$n] live forwarding clears the retain flag (got '$out')" test "$out" = "0 1 live/x now"
	check "[$n] an empty retained PUBLISH is acknowledged" pub "$p" -q 1 -r -t r/a -n
	out=$(sub "$p" r/a 1 2)
	check "[$n] ... and clears the topic (got '$out')" test -z "$out"
	out=$(sub "$p" 'r/#' 2 2 | tr '\n' ';')
	check "[$n] ... and only that one (got '$out')" test "$out" = "1 0 r/b/c bc;"
}

# --- mosquitto: the reference
cat >"$work/mosquitto.conf" <<EOF
listener $mport 127.0.0.1
allow_anonymous true
acl_file $work/acl
persistence false
user root
EOF
with_mosquitto retained_basics $mport mosquitto

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
check "kmqttd created its store" test -s "$sdir/db/kmqtt.db"
check "the store is private (mode 600)" test "$(stat -c %a "$sdir/db/kmqtt.db")" = 600

p0=$(mcount retain_punted)
s0=$(mcount retain_stored)
retained_basics $port kmqtt
check "kmqtt.ko handed every retained PUBLISH to kmqttd ($(($(mcount retain_punted) - p0)))" \
	test $(($(mcount retain_punted) - p0)) = 7
check "kmqttd confirmed each of them ($(($(mcount retain_stored) - s0)))" \
	test $(($(mcount retain_stored) - s0)) = 7
check "nothing left pending" test "$(mcount retain_pending)" = 0
check "kmqtt.ko counted retained deliveries" test "$(mcount retain_delivered)" -ge 6
check "kmqtt.ko counted the delivery the read ACL refused" test "$(mcount deliver_refused)" -ge 1
check "the store committed them" test "$(kmqttctl -j status | jq -r '.daemon.store.writes')" -ge 7

out=$(kmqttctl -j retained | jq -r '[.daemon.retained[].topic] | sort | join(",")')
check "kmqttctl -j retained lists the retained topics, not \$ ones (got '$out')" \
	test "$out" = "hidden/x,live/x,r/b/c"
out=$(kmqttctl -j retained '$x/#' | jq -r '.daemon.retained[] | "\(.topic) \(.qos) \(.size)"')
check "kmqttctl -j retained FILTER (got '$out')" test "$out" = "\$x/y 1 6"
check "kmqttctl retained (human) shows the topic" eval 'kmqttctl retained "r/#" | grep -q " r/b/c$"'
check "kmqttctl retained refuses a bad filter" eval '! kmqttctl retained "a/#/b" 2>/dev/null'

# A retained message bigger than one netlink attribute travels in chunks.
head -c 150000 /dev/urandom | base64 -w0 >"$work/big"
check "a 200 kB retained message is acknowledged" pub $port -q 1 -r -t big/1 -f "$work/big"
mosquitto_sub -p $port -t big/1 -C 1 -W 10 -N >"$work/big.out" 2>/dev/null
check "... and delivered whole" cmp -s "$work/big" "$work/big.out"

# A publisher connected now whose lines we write when we choose (fd 3): "-l" publishes
# each line read, and at the end of its input waits for the PUBACKs, then exits.
held_pub() {	# held_pub TOPIC
	rm -f "$work/fifo"
	mkfifo "$work/fifo"
	timeout 120 mosquitto_pub -p $port -l -q 1 -r -t "$1" <"$work/fifo" &
	ppid=$!
	exec 3>"$work/fifo"
	wait_for 20 eval '[ "$(mcount conns_current)" -ge 1 ]'
}

# --- the QoS 1 PUBACK waits for the store: a stopped daemon holds it back
wait_for 10 eval '[ "$(mcount conns_current)" = 0 ]'
if held_pub p/held; then
	kill -STOP "$dpid"
	echo held >&3
	exec 3>&-
	sleep 3
	check "daemon stopped: the publisher got no PUBACK" kill -0 $ppid
	check "daemon stopped: the module counts the message pending" \
		test "$(mcount retain_pending)" = 1
	kill -CONT "$dpid"
	check "daemon continued: the PUBACK arrives" wait_for 15 eval '! kill -0 $ppid'
	wait $ppid
	check "... and the publisher exits 0" test $? = 0
	check "nothing pending" test "$(mcount retain_pending)" = 0
	out=$(sub $port p/held 1)
	check "the held message is retained (got '$out')" test "$out" = "1 1 p/held held"
else
	notok "publisher connected"
	exec 3>&-
	kill $ppid
fi

# --- no daemon: refused visibly, never acknowledged
wait_for 10 eval '[ "$(mcount conns_current)" = 0 ]'
if held_pub p/lost; then
	ns0=$(mcount retain_not_stored)
	stop_daemon
	echo lost >&3
	exec 3>&-
	check "daemon gone: retain_not_stored counts the refused message" \
		wait_for 10 eval '[ "$(mcount retain_not_stored)" = $((ns0 + 1)) ]'
	sleep 2
	check "daemon gone: no PUBACK for it" kill -0 $ppid
	kill $ppid 2>/dev/null
	wait $ppid 2>/dev/null
else
	notok "publisher connected"
	exec 3>&-
	kill $ppid
	stop_daemon
fi

# --- restart of kmqttd, then reload of the module with kmqttd running, then both
start_daemon "$work/kmqttd.conf"
check "kmqttd restarts on its store" up
check "it says it opened the store with its messages" \
	grep -q "persistence file $sdir/db/kmqtt.db opened: 6 retained messages" "$dlog"
out=$(sub $port 'r/#' 1)
check "after a kmqttd restart the retained message is delivered (got '$out')" \
	test "$out" = "1 0 r/b/c bc"
out=$(sub $port p/lost 1 2)
check "the refused message was not stored (got '$out')" test -z "$out"
check "rmmod with kmqttd running" rmmod kmqtt
check "insmod again" insmod "$KO"
check "kmqttd registers again" up
out=$(sub $port 'p/#' 1)
check "after a module reload the retained message is delivered (got '$out')" \
	test "$out" = "1 1 p/held held"
# rmmod with a live connection whose retained message waits for the (stopped) daemon
wait_for 10 eval '[ "$(mcount conns_current)" = 0 ]'
if held_pub p/rm; then
	kill -STOP "$dpid"
	echo rm >&3
	exec 3>&-
	check "a retained hand-over waits for the stopped daemon" \
		wait_for 30 eval '[ "$(mcount retain_pending)" = 1 ]'
	check "rmmod with a live connection and a hand-over pending" rmmod kmqtt
	kill -CONT "$dpid"
	wait $ppid 2>/dev/null
	check "insmod after it" insmod "$KO"
	check "kmqttd registers after it" up
else
	notok "publisher connected"
	exec 3>&-
	kill $ppid
fi
stop_daemon
check "rmmod, kmqttd stopped" rmmod kmqtt
check "insmod" insmod "$KO"
start_daemon "$work/kmqttd.conf"
check "kmqttd starts" up
mosquitto_sub -p $port -t big/1 -C 1 -W 10 -N >"$work/big.out2" 2>/dev/null
check "after both, the big message comes back from the store whole ($(stat -c %s "$work/big.out2") bytes)" \
	cmp -s "$work/big" "$work/big.out2"
stop_daemon

# --- the encrypted store
marker=kmqtt-PLAINTEXT-marker-7f3a9c
openssl rand -hex 32 >"$work/key"
chmod 600 "$work/key"
sed -e "s|persistence_location .*|persistence_location $sdir/edb|" "$work/kmqttd.conf" \
	>"$work/enc.conf"
echo "persistence_key_file $work/key" >>"$work/enc.conf"
start_daemon "$work/enc.conf"
check "kmqttd with an encrypted store registers" up
check "retained message into the encrypted store" pub $port -q 1 -r -t r/secret -m "$marker"
pub $port -q 1 -r -t r/secret2 -m "$marker-2"
pub $port -q 1 -r -t r/secret2 -m "$marker-3"
pub $port -q 1 -r -t r/secret2 -n
n=$(cat "$sdir"/edb/kmqtt.db* | grep -ac "$marker")
check "the payload is not in the database or its WAL while running (found $n)" test "$n" = 0
stop_daemon
n=$(cat "$sdir"/edb/kmqtt.db* | grep -ac "$marker")
check "nor after shut-down (found $n)" test "$n" = 0
check "the topic is (it is the key)" grep -aq r/secret "$sdir/edb/kmqtt.db"
start_daemon "$work/enc.conf"
check "kmqttd restarts on the encrypted store" up
out=$(sub $port r/secret 1)
check "and delivers the decrypted message (got '$out')" test "$out" = "1 1 r/secret $marker"
stop_daemon
openssl rand -hex 32 >"$work/key2"
chmod 600 "$work/key2"
sed -e "s|persistence_key_file .*|persistence_key_file $work/key2|" "$work/enc.conf" >"$work/wrong.conf"
kmqttd -c "$work/wrong.conf" >"$work/wrong.log" 2>&1
rc=$?
check "a wrong key: kmqttd exits 2 (got $rc)" test $rc = 2
check "naming the key file ($(tail -n 1 "$work/wrong.log"))" grep -q "$work/key2: wrong key" "$work/wrong.log"
grep -v persistence_key_file "$work/enc.conf" >"$work/nokey.conf"
kmqttd -c "$work/nokey.conf" >"$work/nokey.log" 2>&1
rc=$?
check "no key for an encrypted store: exit 2 (got $rc)" test $rc = 2
check "saying a key is needed ($(tail -n 1 "$work/nokey.log"))" \
	grep -q "holds encrypted payloads: persistence_key_file" "$work/nokey.log"
chmod 644 "$work/key"
kmqttd -c "$work/enc.conf" >"$work/mode.log" 2>&1
rc=$?
check "a key file others may read: exit 2 (got $rc)" test $rc = 2
check "saying so ($(tail -n 1 "$work/mode.log"))" grep -q "group or others may access it" "$work/mode.log"

# --- damaged stores
mkdir -p "$sdir/bad"
sed -e "s|persistence_location .*|persistence_location $sdir/bad|" "$work/kmqttd.conf" \
	>"$sdir/bad.conf"
head -c 8192 /dev/urandom >"$sdir/bad/kmqtt.db"
kmqttd -c "$sdir/bad.conf" >"$sdir/bad.log" 2>&1
rc=$?
check "a garbage store: exit 2 (got $rc)" test $rc = 2
check "naming the file ($(tail -n 1 "$sdir/bad.log"))" grep -q "$sdir/bad/kmqtt.db" "$sdir/bad.log"
cp "$sdir/db/kmqtt.db" "$sdir/bad/kmqtt.db"
truncate -s $(($(stat -c %s "$sdir/db/kmqtt.db") / 2)) "$sdir/bad/kmqtt.db"
kmqttd -c "$sdir/bad.conf" >"$work/trunc.log" 2>&1
rc=$?
check "a truncated store: exit 2 (got $rc)" test $rc = 2
check "naming the file ($(tail -n 1 "$work/trunc.log"))" \
	grep -q "$sdir/bad/kmqtt.db.*damaged\|$sdir/bad/kmqtt.db.*malformed" "$work/trunc.log"
echo "persistence_damaged set_aside" >>"$sdir/bad.conf"
start_daemon "$sdir/bad.conf"
check "persistence_damaged set_aside: kmqttd starts" up
check "the damaged file is kept aside" eval 'ls "$sdir"/bad/kmqtt.db.damaged-* >/dev/null'
check "and the log says so" grep -q "was DAMAGED and has been set aside" "$dlog"
stop_daemon

check "final rmmod" rmmod kmqtt
if [ $fails -gt 0 ]; then
	echo "--- kmqttd log (last 60 lines)"
	tail -n 60 "$dlog"
fi
finish
