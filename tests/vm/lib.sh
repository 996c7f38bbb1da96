# Helpers for the tests that run inside the QEMU guest (sourced). Each check appends one
# TAP line to $TAP, which tests/run collects. The tree is at the same path as on the host.
: "${TAP:?TAP must name the results file}"
: "${KVER:=$(uname -r)}"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$TOP/build/bin
KO=$TOP/build/$KVER/kmqtt.ko
export PATH=$BIN:$PATH
fails=0

ok() { echo "ok - $*" | tee -a "$TAP"; }
notok() { echo "not ok - $*" | tee -a "$TAP"; fails=$((fails + 1)); }
# check NAME CMD...: ok when CMD succeeds
check() { local n=$1; shift; if "$@"; then ok "$n"; else notok "$n"; fi; }
# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds
wait_for() {
	local t=$(($1 * 5)); shift
	while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.2; t=$((t - 1)); done
	return 1
}
finish() { exit $((fails > 0)); }
# with_mosquitto CMD...: the mosquitto reference. Starts mosquitto on $mport with
# $work/mosquitto.conf, runs CMD..., stops it. Its behaviour does not depend on the guest
# kernel: tests/run has it run on the first kernel only (KMQTT_REFERENCE=0 after).
with_mosquitto() {
	local mpid
	if [ "${KMQTT_REFERENCE:-1}" != 1 ]; then
		echo "ok - the same checks against mosquitto # SKIP run on the first kernel only" |
			tee -a "$TAP"
		return 0
	fi
	mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
	mpid=$!
	if wait_for 15 serving "$mport"; then
		"$@"
	else
		notok "mosquitto starts on port $mport ($(tail -n 2 "$work/mosquitto.log"))"
	fi
	kill $mpid
	wait $mpid 2>/dev/null
}

# The broker's state as kmqttctl shows it (KMQTT_CTL_SOCKET names kmqttd's socket; $port
# is the test's MQTT port). A test may define its own after sourcing this file.
stats() { kmqttctl -j stats 2>/dev/null; }
mcount() { stats | jq -r ".module.counters.$1 // 0"; }	# a module counter
dcount() { stats | jq -r ".daemon.counters.$1 // 0"; }	# a kmqttd counter
registered() {
	[ "$(kmqttctl -j status 2>/dev/null | jq -r '.module.state + " " + .daemon.module')" = \
		"running registered" ]
}
# serving [PORT]: an MQTT round trip works (slirp and listen() alone prove nothing)
serving() { mosquitto_sub -p "${1:-$port}" -t none -W 2 -E >/dev/null 2>&1; }
up() { wait_for 20 registered && wait_for 20 serving; }
