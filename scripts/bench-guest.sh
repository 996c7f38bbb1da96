#!/usr/bin/env bash
# bench-guest.sh — the guest side of `make bench` (scripts/bench boots the VM and runs this
# as root inside it; the tree is at the same path as on the host).
#
#   bench-guest.sh [--quick] [--scaling] [--reps N] [--targets A,B] [--scenarios A,B] OUTDIR
#
# Runs every scenario against three targets, one target up at a time, the generator
# (build/bin/kmqtt-bench) in the same guest:
#   kmqtt      kmqtt.ko (build/$(uname -r)/kmqtt.ko) + kmqttd, 127.0.0.1:1883
#   mosquitto  Debian's mosquitto 2, the equivalent configuration, 127.0.0.1:1884
#   relay      build/bin/kmqtt-relay (bytes forwarded, no MQTT work), 127.0.0.1:1885
# Phases (each measurement repeated --reps times, the targets' order rotated per repetition):
#   baseline   /proc/stat of the idle guest, nothing running: the busy rate to subtract
#   search     max-throughput search (kmqtt-bench --search) for each scenario and target
#   fixed      each scenario at a fixed offered load of 50% of mosquitto's median maximum,
#              the same load for the three targets: latency (and the VM's CPU, as below)
#   cpu        each scenario at 80% of the target's own median maximum: the VM's CPU from
#              /proc/stat over the middle of the measurement, for broker CPU per message
#   idle       N idle connections held: memory per connection from /proc/meminfo,
#              /proc/net/sockstat and the broker's and the generator's VmRSS
# --scaling (the 1-vCPU boot): only the fan-in and fan-out searches, kmqtt and mosquitto.
#
# Output in OUTDIR: records.jsonl (one JSON object per measurement, the generator's own JSON
# inside), run.json (this boot: kernel, vCPUs, settings, baseline), logs/ (generator stderr,
# broker logs). Progress lines go to stderr. Exit status 0 when every phase ran (a single
# failed measurement is recorded, not fatal), 1 when a target could not be started.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$TOP/build/bin
export PATH=$BIN:$PATH
KVER=$(uname -r)
KO=$TOP/build/$KVER/kmqtt.ko

quick=0 scaling=0 reps="" only_targets="" only_scenarios=""
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--scaling) scaling=1 ;;
	--reps) reps=$2; shift ;;
	--targets) only_targets=${2//,/ }; shift ;;
	--scenarios) only_scenarios=${2//,/ }; shift ;;
	-*) echo "bench-guest: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# = 1 ] || { echo "usage: bench-guest.sh [--quick] [--scaling] [--reps N] [--targets A,B] [--scenarios A,B] OUTDIR" >&2; exit 2; }
out=$1
mkdir -p "$out/logs"
records=$out/records.jsonl
: >"$records"
work=$(mktemp -d)	# guest-local (tmpfs): configurations and the control socket

# --- settings. Full run: search steps of 2 s, latency runs of 5 s, CPU runs of 4 s, 3
# repetitions, 5000 idle connections; about 40 minutes under TCG. QUICK: the same path, narrow,
# short and once (a smoke test of the harness, not a measurement).
# A search's first repetition doubles from search_start and bisects 3 times (to within
# 12.5%); the later ones start at 80% of the best maximum found so far, step x1.5 and
# bisect 3 times (to within 5%): fewer steps for a finer answer, and a first search cut
# short by a stall of the (shared, loaded) host still lets the later ones climb.
if [ $quick = 1 ]; then
	: "${reps:=1}"
	search_start=250 search_step=1 search_warm=0.5 search_max=2
	first_opts="--factor 4 --bisect 0" next_opts="--factor 1.5 --bisect 0"
	fixed_warm=0.5 fixed_dur=2 cpu_dur=2 idle_n=100 idle_hold=4 base_s=2 width=4 city_n=1
else
	: "${reps:=3}"
	search_start=2000 search_step=2 search_warm=0.5 search_max=14
	first_opts="--factor 2 --bisect 3" next_opts="--factor 1.5 --bisect 3"
	fixed_warm=1 fixed_dur=5 cpu_dur=4 idle_n=5000 idle_hold=10 base_s=5 width=16 city_n=5
fi
size=64	# payload bytes
fixed_frac=50	# % of mosquitto's median maximum for the fixed-load (latency) runs
cpu_frac=80	# % of the target's own median maximum for the CPU runs
threads=1	# generator threads: one vCPU's worth, the other left to the broker

# Scenario widths and QoS: SCEN_ARGS[name] = kmqtt-bench options.
declare -A SCEN_ARGS=(
	[fanin]="-n $width -q 0 -s $size"
	[fanout]="-n $width -q 0 -s $size"
	[p2p]="-n $((width / 2)) -q 0 -s $size"
	[qos1]="-n $((width / 2)) -q 1 -s $size"
	[city]="-n $city_n"
)
if [ $scaling = 1 ]; then
	scenarios=(fanin fanout)
	targets=(mosquitto kmqtt)
else
	scenarios=(fanin fanout p2p qos1 city)
	targets=(mosquitto kmqtt relay)
fi
# shellcheck disable=SC2206
[ -n "$only_targets" ] && targets=($only_targets)
# shellcheck disable=SC2206
[ -n "$only_scenarios" ] && scenarios=($only_scenarios)
declare -A PORT=([kmqtt]=1883 [mosquitto]=1884 [relay]=1885)

t_start=$(date +%s)
log() { printf 'bench: [%4ds] %s\n' $(($(date +%s) - t_start)) "$*" >&2; }

# --- /proc sampling. cpu_now prints "SECONDS BUSY IDLE" (ticks of USER_HZ over all CPUs;
# busy = user+nice+system+irq+softirq+steal, idle = idle+iowait) with bash builtins only.
cpu_now() {
	local cpu u n s i w irq sirq st rest
	read -r cpu u n s i w irq sirq st rest </proc/stat
	echo "$EPOCHREALTIME $((u + n + s + irq + sirq + st)) $((i + w))"
}
# cpu_window SAMPLES FROM TO: the /proc/stat figures between the first sample at or after
# FROM and the last at or before TO (seconds since the epoch), as JSON; "null" if the
# window holds fewer than two samples.
cpu_window() {
	awk -v a="$2" -v b="$3" -v hz="$(getconf CLK_TCK)" -v cpus="$(nproc)" '
		$1 >= a && n0 == "" { t0 = $1; b0 = $2; i0 = $3; n0 = NR }
		$1 <= b { t1 = $1; b1 = $2; i1 = $3; n1 = NR }
		END {
			if (n0 == "" || n1 == "" || n1 <= n0) { print "null"; exit }
			printf "{\"window_s\":%.6f,\"busy_ticks\":%d,\"idle_ticks\":%d,\"hz\":%d,\"cpus\":%d,\"busy_s\":%.2f}\n", \
				t1 - t0, b1 - b0, i1 - i0, hz, cpus, (b1 - b0) / hz
		}' "$1"
}
# mem_json BROKER_PID [GEN_PID]: the figures memory per connection is made of, in KiB, as
# one JSON object, read by one awk (each exec is slow under TCG). Reclaimable caches are
# not dropped first: that makes every later exec re-read its files over 9p for many
# seconds, and the noise it would remove is small against thousands of connections.
mem_json() {
	awk -v pagesz="$(getconf PAGESIZE)" '
		FILENAME == "/proc/meminfo" { sub(":", "", $1); mi[$1] = $2; next }
		FILENAME == "/proc/net/sockstat" && $1 == "TCP:" {
			for (i = 2; i < NF; i++) if ($i == "mem") tcp = $(i + 1) * pagesz / 1024
			next
		}
		FILENAME ~ /^\/proc\/[0-9]+\/status$/ && ($1 == "VmRSS:" || $1 == "RssAnon:") {
			who = (FILENAME == bfile) ? "broker" : "gen"
			v[who, $1] = $2
		}
		END {
			printf "{\"mem_total_kib\":%d,\"mem_available_kib\":%d,\"used_kib\":%d,", \
				mi["MemTotal"], mi["MemAvailable"], mi["MemTotal"] - mi["MemAvailable"]
			printf "\"slab_kib\":%d,\"sunreclaim_kib\":%d,\"tcp_mem_kib\":%d,", \
				mi["Slab"], mi["SUnreclaim"], tcp
			printf "\"broker_rss_kib\":%d,\"broker_anon_kib\":%d,", \
				v["broker", "VmRSS:"], v["broker", "RssAnon:"]
			printf "\"gen_rss_kib\":%d,\"gen_anon_kib\":%d}\n", v["gen", "VmRSS:"], v["gen", "RssAnon:"]
		}' bfile="/proc/$1/status" /proc/meminfo /proc/net/sockstat "/proc/$1/status" \
		${2:+"/proc/$2/status"} 2>/dev/null
}

# --- targets
bpid=""	# the running target's PID
wait_for() {	# wait_for SECONDS CMD...
	local t=$(($1 * 5))
	shift
	while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.2; t=$((t - 1)); done
	return 1
}
mqtt_ok() { mosquitto_pub -h 127.0.0.1 -p "$1" -i bench-ready -t bench/ready -m x >/dev/null 2>&1; }
tcp_ok() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
write_configs() {
	cat >"$work/kmqttd.conf" <<-EOF
	listener ${PORT[kmqtt]} 127.0.0.1
	allow_anonymous true
	max_queued_messages 100000
	max_inflight_messages 32
	max_packet_size 262144
	control_socket $work/kmqttd.sock
	log_level warning
	EOF
	# mosquitto the same way: no persistence, the same queue and in-flight limits, the
	# same TCP_NODELAY as kmqtt.ko sets on its sockets, errors and warnings only.
	cat >"$work/mosquitto.conf" <<-EOF
	listener ${PORT[mosquitto]} 127.0.0.1
	allow_anonymous true
	user root
	persistence false
	max_queued_messages 100000
	max_inflight_messages 32
	max_packet_size 262144
	set_tcp_nodelay true
	log_dest stderr
	log_type error
	log_type warning
	connection_messages false
	EOF
}
cur=""	# the running target
start_target() {
	local t=$1 port=${PORT[$1]}
	cur=$t
	case $t in
	kmqtt)
		KMQTT_CTL_SOCKET=$work/kmqttd.sock kmqttd -c "$work/kmqttd.conf" >>"$out/logs/kmqttd.log" 2>&1 &
		bpid=$!
		wait_for 20 mqtt_ok "$port"
		;;
	mosquitto)
		mosquitto -c "$work/mosquitto.conf" >>"$out/logs/mosquitto.log" 2>&1 &
		bpid=$!
		wait_for 20 mqtt_ok "$port"
		;;
	relay)
		kmqtt-relay -p "$port" -b 127.0.0.1 --threads "$threads" >>"$out/logs/relay.log" 2>&1 &
		bpid=$!
		wait_for 20 tcp_ok "$port"
		;;
	esac || { log "$t did not come up on port $port (logs in $out/logs)"; return 1; }
	sleep 1	# let the start-up settle before anything is measured
}
stop_target() {	# stop_target [LABEL]: kmqtt's counters are kept in logs/kmqtt-stats-LABEL.json
	[ -n "$bpid" ] || return 0
	[ "$cur" = kmqtt ] && [ -n "${1:-}" ] &&
		KMQTT_CTL_SOCKET=$work/kmqttd.sock kmqttctl -j stats >"$out/logs/kmqtt-stats-$1.json" 2>&1
	kill -TERM "$bpid" 2>/dev/null
	local i
	for i in $(seq 50); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.2; done
	kill -KILL "$bpid" 2>/dev/null
	wait "$bpid" 2>/dev/null
	bpid=""
}
cleanup() {
	stop_sampler
	stop_target
	local j
	for j in $(jobs -p); do kill "$j" 2>/dev/null; done
	rmmod kmqtt 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# --- measurements
done_n=0 total_n=0
target_args() {	# the generator's options that name the target (and a set-up time limit
	# for a loaded TCG host: hundreds of connections can take a minute there)
	case $1 in
	relay) echo "--raw -p ${PORT[relay]} --label relay --connect-timeout 300" ;;
	*) echo "-p ${PORT[$1]} --label $1 --connect-timeout 300" ;;
	esac
}
# finish KIND SCENARIO TARGET REP RC JSONFILE T0 [EXTRA_JSON]: one line of records.jsonl
# (the generator's JSON inside, null if it wrote none) and a progress line; one jq, as
# every exec costs under TCG. Keeps FIRST[SCENARIO/TARGET] at the best search maximum.
declare -A FIRST
finish() {
	local extra=${8:-} lines
	[ -n "$extra" ] || extra='{}'
	[ -e "$6" ] || : >"$6"
	done_n=$((done_n + 1))
	mapfile -t lines <<<"$(jq -rn --rawfile raw "$6" --arg kind "$1" --arg scenario "$2" \
		--arg target "$3" --argjson rep "$4" --argjson rc "$5" \
		--argjson wall $(($(date +%s) - $7)) --argjson extra "$extra" '
		($raw | try fromjson catch null) as $b |
		({kind: $kind, scenario: $scenario, target: $target, rep: $rep, rc: $rc,
		  wall_s: $wall, bench: $b} + $extra | tojson),
		(if $b == null then "no result"
		 elif $b.mode == "search" then "max \($b.offered_per_s | floor) msg/s offered, \($b.delivered_per_s | floor) delivered"
		 elif $b.scenario == "idle" then "\($b.idle.connections // $b.connections) connections"
		 else "\($b.delivered_per_s | floor) msg/s, p99 \($b.latency_us.p99) us, lost \($b.lost)" end),
		(if $rc == 0 then $b.search.max_rate // 0 | floor else 0 end)')"
	echo "${lines[0]}" >>"$records"
	[ "${lines[2]:-0}" -gt "${FIRST[$2/$3]:-0}" ] 2>/dev/null && FIRST[$2/$3]=${lines[2]}
	local el=$(($(date +%s) - t_start))
	log "($done_n/$total_n, ETA $((el * (total_n - done_n) / done_n)) s) $1 $2 $3 #$4: ${lines[1]:-?} (exit $5, $(($(date +%s) - $7)) s)"
}

run_search() {	# run_search SCENARIO TARGET REP
	local f=$out/search-$1-$2-r$3.json t0 rc first=${FIRST[$1/$2]:-0} start opts
	if [ "$first" -gt 0 ]; then
		start=$((first * 8 / 10))
		opts=$next_opts
	else
		start=$search_start
		opts=$first_opts
	fi
	t0=$(date +%s)
	# shellcheck disable=SC2046,SC2086
	kmqtt-bench $(target_args "$2") ${SCEN_ARGS[$1]} --threads $threads \
		--search -r $start $opts --max-steps $search_max --step $search_step -w $search_warm --json "$f" "$1" \
		2>>"$out/logs/gen-search-$1-$2.log"
	rc=$?
	finish search "$1" "$2" "$3" $rc "$f" "$t0" \
		"$(printf '{"start_rate":%d,"search_opts":"%s"}' "$start" "$opts")"
}

# CPU over the middle of a measurement. A sampler (bash builtins only, no fork per sample)
# writes /proc/stat every 0.25 s while the generator runs; afterwards the window is placed
# from the generator's own timeline: it starts (ts), sets up its connections (connect_s in
# its JSON), schedules from 20 ms ahead, warms up, then measures. The window taken is from
# 0.5 s after the warm-up to 0.25 s before the end: connection set-up, warm-up and drain
# stay outside.
sampler=""
start_sampler() {	# start_sampler FILE
	(while :; do cpu_now; read -r -t 0.25 -u 8 _; done) >"$1" &
	sampler=$!
}
stop_sampler() {
	[ -n "$sampler" ] && kill "$sampler" 2>/dev/null && wait "$sampler" 2>/dev/null
	sampler=""
}
run_fixed() {	# run_fixed KIND SCENARIO TARGET REP RATE DURATION (KIND: fixed or cpu)
	local f=$out/$1-$2-$3-r$4.json smp=$out/cpu-$1-$2-$3-r$4.txt t0 ts rc cs=0 cpu
	t0=$(date +%s)
	start_sampler "$smp"
	ts=$EPOCHREALTIME
	# shellcheck disable=SC2046,SC2086
	kmqtt-bench $(target_args "$3") ${SCEN_ARGS[$2]} --threads $threads \
		-r "$5" -d "$6" -w $fixed_warm --json "$f" "$2" \
		2>>"$out/logs/gen-$1-$2-$3.log"
	rc=$?
	stop_sampler
	[ -s "$f" ] && [[ $(<"$f") =~ \"connect_s\":([0-9.]+) ]] && cs=${BASH_REMATCH[1]}
	cpu=$(cpu_window "$smp" \
		"$(awk -v t="$ts" -v c="$cs" -v w=$fixed_warm 'BEGIN { printf "%.6f", t + c + 0.02 + w + 0.5 }')" \
		"$(awk -v t="$ts" -v c="$cs" -v w=$fixed_warm -v d="$6" 'BEGIN { printf "%.6f", t + c + 0.02 + w + d - 0.25 }')")
	finish "$1" "$2" "$3" "$4" $rc "$f" "$t0" "{\"rate\":$5,\"cpu\":$cpu}"
}

run_idle() {	# run_idle TARGET REP
	local f=$out/idle-$1-r$2.json ready=$work/ready t0 gpid m0 m1="" rc
	t0=$(date +%s)
	rm -f "$ready"
	m0=$(mem_json "$bpid")
	# shellcheck disable=SC2046
	kmqtt-bench $(target_args "$1") -n $idle_n --threads $threads -d $idle_hold --connect-timeout 900 \
		--ready-file "$ready" --json "$f" idle 2>>"$out/logs/gen-idle-$1.log" &
	gpid=$!
	if wait_for 900 test -s "$ready"; then
		sleep 1
		m1=$(mem_json "$bpid" "$gpid")
		# A sample taken after the generator let go of its connections measures nothing.
		kill -0 $gpid 2>/dev/null || { log "idle $1: the generator had exited before the sample"; m1=""; }
	fi
	wait $gpid
	rc=$?
	finish idle idle "$1" "$2" $rc "$f" "$t0" "{\"n\":$idle_n,\"mem\":{\"before\":$m0,\"held\":${m1:-null}}}"
}

rotate() {	# rotate K ITEMS...: ITEMS rotated left by K
	local k=$1
	shift
	local a=("$@") i n=$#
	for ((i = 0; i < n; i++)); do echo "${a[$(((i + k) % n))]}"; done
}

# --- the run
for tool in kmqtt-bench kmqtt-relay kmqttd mosquitto mosquitto_pub jq; do
	command -v $tool >/dev/null || { echo "bench-guest: $tool missing" >&2; exit 1; }
done
write_configs
insmod "$KO" || { echo "bench-guest: insmod $KO failed" >&2; exit 1; }
ulimit -n 65536

nt=${#targets[@]} ns=${#scenarios[@]}
if [ $scaling = 1 ]; then
	total_n=$((reps * nt * ns))
else
	total_n=$((3 * reps * nt * ns + reps * nt))
fi
log "kernel $KVER, $(nproc) vCPUs, $((reps)) repetitions, $total_n measurements$([ $quick = 1 ] && echo ", QUICK")"

# The idle guest's busy CPU rate, measured with nothing of ours running but the sampler.
mkfifo "$work/tick"
exec 8<>"$work/tick"	# the sampler's clock: a read that times out
sleep 1
start_sampler "$out/cpu-baseline.txt"
sleep $base_s
stop_sampler
baseline=$(cpu_window "$out/cpu-baseline.txt" 0 9999999999)
[ "$baseline" != null ] || { echo "bench-guest: no baseline CPU samples" >&2; exit 1; }
log "baseline: $(jq -r '"\(.busy_ticks) busy ticks in \(.window_s * 100 | round / 100) s"' <<<"$baseline")"

jq -n --arg kernel "$KVER" --argjson vcpus "$(nproc)" --argjson quick $quick \
	--argjson scaling $scaling --argjson reps "$reps" --argjson baseline "$baseline" \
	--arg mosquitto "$(dpkg-query -W -f='${Version}' mosquitto 2>/dev/null)" \
	--argjson mem_total_kib "$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)" \
	--argjson settings "$(jq -n --argjson step $search_step --argjson sw $search_warm \
		--argjson fw $fixed_warm --argjson fd $fixed_dur --argjson in $idle_n \
		--argjson cd $cpu_dur --argjson cf $cpu_frac \
		--argjson ih $idle_hold --argjson size $size --argjson frac $fixed_frac \
		--argjson threads $threads --argjson start $search_start \
		--arg fo "$first_opts" --arg no "$next_opts" --argjson sm $search_max \
		--argjson sa "$(for s in "${!SCEN_ARGS[@]}"; do jq -n --arg k "$s" --arg v "${SCEN_ARGS[$s]}" '{($k): $v}'; done | jq -s add)" \
		'{search_step_s: $step, search_warmup_s: $sw, search_start_rate: $start,
		  search_first_opts: $fo, search_next_opts: $no, search_max_steps: $sm,
		  fixed_warmup_s: $fw, fixed_duration_s: $fd, fixed_load_pct_of_mosquitto_max: $frac,
		  cpu_duration_s: $cd, cpu_load_pct_of_own_max: $cf,
		  idle_connections: $in, idle_hold_s: $ih, payload_bytes: $size,
		  generator_threads: $threads, scenario_args: $sa}')" \
	'{kernel: $kernel, vcpus: $vcpus, quick: ($quick == 1), scaling: ($scaling == 1),
	  reps: $reps, baseline: $baseline, mosquitto_version: $mosquitto,
	  mem_total_kib: $mem_total_kib, settings: $settings}' >"$out/run.json"

failed=0
# search: per repetition, each target up in turn (rotated) running every scenario
for ((r = 1; r <= reps; r++)); do
	for t in $(rotate $((r - 1)) "${targets[@]}"); do
		start_target "$t" || { failed=1; continue; }
		for s in "${scenarios[@]}"; do
			run_search "$s" "$t" "$r"
		done
		stop_target "search-r$r"
	done
done

if [ $scaling = 0 ]; then
	# fixed load for latency: 50% of mosquitto's median maximum offered rate (-r: PUBLISHes
	# per second; a fan-out delivers each to every subscriber), per scenario; CPU load: 80%
	# of each target's own median maximum
	declare -A RATE
	median_rate() {	# median_rate SCENARIO TARGET PERCENT
		jq -s --arg s "$1" --arg t "$2" --argjson pct "$3" '
			[.[] | select(.kind == "search" and .scenario == $s and .target == $t
				and .rc == 0 and .bench != null) | .bench.offered_per_s] | sort |
			if length == 0 then 0 else .[(length - 1) / 2 | floor] * $pct / 100 | floor end' "$records"
	}
	for s in "${scenarios[@]}"; do
		RATE[$s]=$(median_rate "$s" mosquitto $fixed_frac)
		for t in "${targets[@]}"; do
			RATE[$s/$t]=$(median_rate "$s" "$t" $cpu_frac)
		done
		log "load for $s: latency ${RATE[$s]} msg/s; CPU$(for t in "${targets[@]}"; do printf ' %s %s,' "$t" "${RATE[$s/$t]}"; done | sed 's/,$//') msg/s"
	done
	for ((r = 1; r <= reps; r++)); do
		for t in $(rotate $((r - 1)) "${targets[@]}"); do
			start_target "$t" || { failed=1; continue; }
			for s in "${scenarios[@]}"; do
				if [ "${RATE[$s]}" -ge 1 ]; then
					run_fixed fixed "$s" "$t" "$r" "${RATE[$s]}" $fixed_dur
				else
					log "no mosquitto maximum for $s: no latency run"
					failed=1
				fi
				if [ "${RATE[$s/$t]}" -ge 1 ]; then
					run_fixed cpu "$s" "$t" "$r" "${RATE[$s/$t]}" $cpu_dur
				else
					log "no $t maximum for $s: no CPU run"
					failed=1
				fi
			done
			stop_target "fixed-r$r"
		done
	done
	# idle connections
	for ((r = 1; r <= reps; r++)); do
		for t in $(rotate $((r - 1)) "${targets[@]}"); do
			start_target "$t" || { failed=1; continue; }
			run_idle "$t" "$r"
			stop_target "idle-r$r"
		done
	done
fi
log "done in $(($(date +%s) - t_start)) s"
exit $failed
