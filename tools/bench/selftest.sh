#!/usr/bin/env bash
# Self-test of kmqtt-bench and kmqtt-relay (builds nothing: run `make tools` first).
#
#   tools/bench/selftest.sh [-b BINDIR] [-k]
#
# Starts kmqtt-relay and mosquitto (if installed) on free loopback ports, runs every
# scenario against each for about 2 s at a low fixed rate, one short search against the
# relay and, if openssl is there, one TLS run against mosquitto with a throwaway CA. Checks
# with jq that the JSON is well formed, that at this low rate every expected delivery
# arrived (delivered == expected > 0, nothing lost, no duplicates, no bad acknowledgement)
# and that the latency figures are ordered (p50 <= p90 <= p99 <= p999 <= max, CDF
# ascending to 1). QoS 2: the qos2 scenario and a QoS 2 fanin against both; against
# mosquitto a run with a window of 4 that must keep moving (the window is
# freed only by PUBCOMP, which mosquitto sends only after our PUBREL, and mosquitto's own
# 20-message window toward the subscriber only by our PUBREC and PUBCOMP); and against
# qos2-stall-peer.py, a scripted broker that withholds PUBCOMP, that PUBREC is answered with
# PUBREL and that the window stays full until PUBCOMP frees it. Offline (persistent
# subscribers away while their publishers send) against mosquitto at QoS 1 and then QoS 2
# with the same client ids: every message completed, then delivered once on the
# subscribers' return, each finding its session present, and the second run's purge
# leaving no session behind.
# Prints TAP lines ("ok - ..." / "not ok - ..."); exit status 1 if any check failed.
# -b BINDIR: where kmqtt-bench and kmqtt-relay are (default: build/bin of this tree).
# -k: keep the work directory (JSON files, logs) and print its name.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/build/bin
keep=
while getopts b:k o; do
	case $o in
	b) bin=$(cd "$OPTARG" && pwd) ;;
	k) keep=1 ;;
	*) echo "usage: $0 [-b BINDIR] [-k]" >&2; exit 2 ;;
	esac
done
bench=$bin/kmqtt-bench
relay=$bin/kmqtt-relay
fails=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fails=$((fails + 1)); }
skip() { echo "ok - $* # SKIP"; }

for t in "$bench" "$relay"; do
	if [ ! -x "$t" ]; then
		notok "bench self-test: $t is missing (make tools)"
		exit 1
	fi
done
if ! command -v jq >/dev/null; then
	notok "bench self-test: jq is missing"
	exit 1
fi

mkdir -p "$top/build"
work=$(mktemp -d "$top/build/bench-selftest.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ -n "$keep" ]; then echo "# kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {	# wait_port PORT: until something listens there (5 s)
	local i
	for i in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# The relay, on a port it picks.
"$relay" -p 0 --threads 2 --port-file "$work/relay.port" 2>"$work/relay.log" &
pids+=($!)
for i in $(seq 50); do [ -s "$work/relay.port" ] && break; sleep 0.1; done
relay_port=$(cat "$work/relay.port" 2>/dev/null)
if [ -n "$relay_port" ] && wait_port "$relay_port"; then
	ok "bench self-test: kmqtt-relay listens on port $relay_port"
else
	notok "bench self-test: kmqtt-relay did not start: $(cat "$work/relay.log")"
	relay_port=
fi

# mosquitto, if installed.
mosq_port=
if command -v mosquitto >/dev/null; then
	mosq_port=$(free_port)
	{
		echo "listener $mosq_port 127.0.0.1"
		echo "allow_anonymous true"
		[ "$(id -u)" = 0 ] && echo "user root"
	} >"$work/mosquitto.conf"
	mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
	pids+=($!)
	if wait_port "$mosq_port"; then
		ok "bench self-test: mosquitto listens on port $mosq_port"
	else
		notok "bench self-test: mosquitto did not start: $(tail -3 "$work/mosquitto.log")"
		mosq_port=
	fi
fi

# check_json NAME FILE KIND: KIND traffic, idle N, search or offline N
check_json() {
	local name=$1 f=$2 kind=$3 why
	if ! jq -e '.tool == "kmqtt-bench" and .version == 1' "$f" >/dev/null 2>&1; then
		notok "$name: JSON not well formed: $(head -c 300 "$f")"
		return
	fi
	why=$(jq -r --arg kind "$kind" '
		def ordered: .p50 <= .p90 and .p90 <= .p99 and .p99 <= .p999 and .p999 <= .max;
		def cdf_ok: (length <= 200) and
			(if length == 0 then true else
			 (.[-1][1] == 1) and
			 ([range(1; length) as $i | (.[$i][1] >= .[$i-1][1]) and (.[$i][0] >= .[$i-1][0])] | all)
			 end);
		[ (if (.params | has("n", "qos", "size", "rate", "duration_s", "threads", "tls", "raw")) then empty else "params incomplete" end),
		  (if .bad_acks == 0 and .qos2_duplicates == 0 then empty else "bad acks \(.bad_acks), QoS 2 duplicates \(.qos2_duplicates)" end),
		  (if (.latency_us | ordered) then empty else "percentiles out of order: \(.latency_us)" end),
		  (if (.latency_cdf | cdf_ok) then empty else "latency_cdf malformed" end),
		  (if (.gen_cpu_s.user >= 0 and .gen_cpu_s.sys >= 0 and .gen_cpu_pct >= 0) then empty else "gen_cpu missing" end),
		  (if $kind == "traffic" or $kind == "search" or ($kind | startswith("offline")) then
			(if .expected > 0 and .delivered == .expected and .lost == 0 and .duplicates == 0 and .sent > 0
			 then empty else "sent \(.sent) expected \(.expected) delivered \(.delivered) lost \(.lost) dup \(.duplicates)" end),
			(if .latency_us.count == .delivered and .latency_us.p50 > 0 then empty else "latency count \(.latency_us.count) for \(.delivered) deliveries" end)
		   else empty end),
		  (if $kind == "search" then
			(if (.search.steps | length) >= 1 and .search.max_rate > 0 and
			    ([.search.steps[] | has("offered", "delivered_per_s", "ok")] | all)
			 then empty else "search object malformed: \(.search)" end)
		   else empty end),
		  (if ($kind | startswith("offline")) then
			(($kind | ltrimstr("offline ") | tonumber) as $n |
			 if .offline.sessions_present == $n and .offline.sessions_lost == 0 and
			    .offline.sessions_stale == 0 and .offline.resumed == $n and
			    .offline.stored == .offline.messages and .offline.messages == $n * .params.messages and
			    .offline.unacked == 0 and .offline.stored_per_s > 0 and
			    .offline.drained_per_s > 0 and .ok == true
			 then empty else "offline: \(.offline), ok \(.ok)" end)
		   else empty end),
		  (if ($kind | startswith("idle")) then
			(if .idle.connections == ($kind | ltrimstr("idle ") | tonumber) and .idle.connect_s > 0
			 then empty else "idle: \(.idle)" end)
		   else empty end),
		  (if .scenario == "city" then
			(if (.classes | keys | length) == 6 and
			    ([.classes[] | .delivered == .sent and .sent > 0] | all)
			 then empty else "classes: \(.classes | map_values({sent, delivered}))" end)
		   else empty end)
		] | join("; ")' "$f")
	if [ -z "$why" ]; then ok "$name"; else notok "$name: $why"; fi
}

# run NAME KIND ARGS...: run kmqtt-bench, then check its JSON
run() {
	local name=$1 kind=$2 f rc
	shift 2
	f=$work/$(echo "$name" | tr -c 'a-zA-Z0-9\n' '_').json
	timeout 120 "$bench" --json "$f" "$@" >"$f.log" 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		notok "$name: exit status $rc: $(grep -v '^#' "$f.log" | tail -3)"
		return
	fi
	check_json "$name" "$f" "$kind"
}

low=(-r 200 -d 2 -w 0.5 -n 5 --threads 2)
for target in relay mosquitto; do
	case $target in
	relay) port=$relay_port; extra=(--raw) ;;
	mosquitto) port=$mosq_port; extra=() ;;
	esac
	if [ -z "$port" ]; then
		skip "bench self-test: no $target"
		continue
	fi
	for s in fanin fanout p2p qos1 qos2; do
		run "bench $s against $target" traffic -p "$port" "${extra[@]}" --label "$target" "${low[@]}" $s
	done
	f=$work/bench_qos2_against_${target}.json
	if jq -e '.params.qos == 2 and .scenario == "qos2"' "$f" >/dev/null 2>&1; then
		ok "bench qos2 against $target: the JSON says QoS 2"
	else
		notok "bench qos2 against $target: params.qos is $(jq -c .params.qos "$f" 2>&1)"
	fi
	run "bench fanin QoS 1 against $target" traffic -p "$port" "${extra[@]}" "${low[@]}" -q 1 fanin
	run "bench fanin QoS 2 against $target" traffic -p "$port" "${extra[@]}" "${low[@]}" -q 2 fanin
	# 5 s: the one police camera at -n 5 sends its burst every 5 s
	run "bench city against $target" traffic -p "$port" "${extra[@]}" -n 5 -d 5 -w 0.2 city
	run "bench idle against $target" "idle 200" -p "$port" "${extra[@]}" -n 200 -d 1 \
		--ready-file "$work/ready.$target" idle
	if [ "$(cat "$work/ready.$target" 2>/dev/null)" = 200 ]; then
		ok "bench idle against $target: ready file says 200"
	else
		notok "bench idle against $target: ready file: '$(cat "$work/ready.$target" 2>/dev/null)'"
	fi
done

# QoS 2 with a window of 4 against mosquitto: more than 4 messages go out only if PUBRECs
# get our PUBREL and PUBCOMPs free their slots (at least 100 of the 200 scheduled: the
# window turned over 25 times; the rest may be unsent on a loaded host, a round trip per
# 4 messages); all of them arrive only if the subscriber's PUBREC and PUBCOMP let
# mosquitto go on delivering past its 20 messages in flight.
if [ -n "$mosq_port" ]; then
	run "bench qos2 with --inflight 4 against mosquitto" traffic -p "$mosq_port" \
		--inflight 4 -r 100 -d 2 -w 0 -n 1 --threads 2 qos2
	f=$work/bench_qos2_with___inflight_4_against_mosquitto.json
	if jq -e '.sent >= 100 and .sent + .unsent == 200 and .delivered == .sent' "$f" >/dev/null 2>&1; then
		ok "bench qos2 --inflight 4: $(jq .sent "$f") of 200 messages sent and delivered, the window kept moving"
	else
		notok "bench qos2 --inflight 4: $(jq -c '{sent, unsent, delivered}' "$f" 2>&1)"
	fi
fi

# Persistent delivery: QoS 1 then QoS 2 with the same client ids (the second run's purge
# must find and end the first run's sessions: "sessions_stale" otherwise). Window 16:
# below mosquitto's default max_inflight_messages (20), beyond which mosquitto 2.0
# completes QoS 2 messages for offline subscribers that it never delivers.
if [ -n "$mosq_port" ]; then
	for q in 1 2; do
		run "bench offline QoS $q against mosquitto" "offline 3" -p "$mosq_port" -n 3 -m 300 \
			-q $q --inflight 16 --drain 3 --threads 2 --client-prefix "kbself$$-" offline
	done
fi

# A broker that withholds PUBCOMP: the scripted peer checks the bytes on the wire (see
# qos2-stall-peer.py); the JSON must show exactly the 6 PUBLISHes it allowed.
peer=$(dirname "$0")/qos2-stall-peer.py
if command -v python3 >/dev/null; then
	python3 "$peer" "$work/peer.port" "$work/peer.verdict" 2>"$work/peer.log" &
	peer_pid=$!
	pids+=("$peer_pid")
	for _ in $(seq 50); do [ -s "$work/peer.port" ] && break; sleep 0.1; done
	f=$work/stall.json
	timeout 60 "$bench" -p "$(cat "$work/peer.port" 2>/dev/null)" --json "$f" -n 1 -s 64 \
		--inflight 4 -q 2 -r 200 -d 5 -w 0 --drain 1 --threads 2 fanin >"$f.log" 2>&1
	rc=$?
	wait "$peer_pid" 2>/dev/null
	if [ $rc = 0 ] && jq -e '.sent == 6 and .unsent == 994 and .bad_acks == 0 and .params.qos == 2' \
		"$f" >/dev/null 2>&1; then
		ok "bench QoS 2 against a broker withholding PUBCOMP: sent 6 (4 + the 2 slots PUBCOMP freed), 994 unsent"
	else
		notok "bench QoS 2 against a broker withholding PUBCOMP: exit $rc, $(jq -c '{sent, unsent, bad_acks}' "$f" 2>&1)"
	fi
	for step in window pubrel pubcomp; do
		line=$(grep -E "^(ok|fail) $step" "$work/peer.verdict" 2>/dev/null)
		case $line in
		ok*) ok "bench QoS 2 stall peer: ${line#ok }" ;;
		*) notok "bench QoS 2 stall peer: $step: ${line:-no verdict} $(grep fail "$work/peer.verdict" 2>/dev/null | head -2)" ;;
		esac
	done
fi

if [ -n "$relay_port" ]; then
	run "bench search against relay" search -p "$relay_port" --raw -n 4 -r 500 --search \
		--step 0.5 -w 0.2 --max-steps 3 --threads 2 fanout
fi

# Usage errors are exit status 2, a refused connection 1.
"$bench" -r 10 nosuchscenario >/dev/null 2>&1
[ $? = 2 ] && ok "bench: unknown scenario is a usage error" || notok "bench: unknown scenario is not exit status 2"
"$bench" p2p >/dev/null 2>&1
[ $? = 2 ] && ok "bench: fixed mode without -r is a usage error" || notok "bench: missing -r is not exit status 2"
"$bench" -q 0 offline >/dev/null 2>&1
[ $? = 2 ] && ok "bench: offline at QoS 0 is a usage error" || notok "bench: offline -q 0 is not exit status 2"
dead=$(free_port)
timeout 30 "$bench" -p "$dead" -r 10 -d 1 p2p >/dev/null 2>&1
[ $? = 1 ] && ok "bench: a refused connection is exit status 1" || notok "bench: a refused connection is not exit status 1"

# TLS against mosquitto with a throwaway CA.
if [ -n "$mosq_port" ] && command -v openssl >/dev/null; then
	pki=$work/pki
	mkdir -p "$pki"
	if (cd "$pki" &&
	    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 \
		-subj "/CN=kmqtt-bench selftest CA" &&
	    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" &&
	    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext &&
	    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-out server.crt -days 1 -extfile san.ext && chmod 644 server.key) >"$work/pki.log" 2>&1; then
		tls_port=$(free_port)
		{
			echo "listener $tls_port 127.0.0.1"
			echo "allow_anonymous true"
			echo "cafile $pki/ca.crt"
			echo "certfile $pki/server.crt"
			echo "keyfile $pki/server.key"
			[ "$(id -u)" = 0 ] && echo "user root"
		} >"$work/mosquitto-tls.conf"
		mosquitto -c "$work/mosquitto-tls.conf" >"$work/mosquitto-tls.log" 2>&1 &
		pids+=($!)
		if wait_port "$tls_port"; then
			run "bench p2p over TLS against mosquitto" traffic -p "$tls_port" --tls \
				--cafile "$pki/ca.crt" "${low[@]}" -q 1 p2p
		else
			notok "bench self-test: mosquitto with TLS did not start: $(tail -3 "$work/mosquitto-tls.log")"
		fi
	else
		notok "bench self-test: cannot make a throwaway CA: $(tail -3 "$work/pki.log")"
	fi
fi

[ $fails = 0 ]
