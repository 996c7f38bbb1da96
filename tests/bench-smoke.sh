#!/usr/bin/env bash
# bench-smoke.sh — `make check`'s step for `make bench`: runs the short version
# (scripts/bench --quick: two guest boots, every scenario against kmqtt, mosquitto and the
# relay once, the 1-vCPU scaling searches) and checks that its results JSON, plots and
# markdown report are complete and well formed. It checks that the harness works, not how
# fast anything is. Prints TAP lines ("ok - bench: ..."); exit status 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=build/bench/smoke
rm -rf "$out"
mkdir -p "$(dirname "$out")"
fails=0
ok() { echo "ok - bench: $*"; }
notok() { echo "not ok - bench: $*"; fails=$((fails + 1)); }
check() { local n=$1; shift; if "$@"; then ok "$n"; else notok "$n"; fi; }

t0=$(date +%s)
scripts/bench --quick --out "$out" >"$out.log" 2>&1
rc=$?
check "scripts/bench --quick exits 0 ($(($(date +%s) - t0)) s; log $out.log)" test $rc = 0
[ $rc = 0 ] || tail -n 30 "$out.log" | sed 's/^/#   /'
res=$out/results.json
if ! jq -e . "$res" >/dev/null 2>&1; then
	notok "results.json exists and is JSON"
	exit 1
fi
ok "results.json exists and is JSON"

# jq FILTER must print true
jqt() { [ "$(jq -r "$1" "$res" 2>/dev/null)" = true ]; }
# A positive finite number; percentiles in order; a CDF that rises to 1.
defs='def pos: type == "number" and . > 0 and (isinfinite | not);
	def nonneg: type == "number" and . >= 0 and (isinfinite | not);
	def lat_ok: . as $l | ([$l.p50, $l.p90, $l.p99, $l.p999, $l.max] | all(pos)) and
		$l.p50 <= $l.p90 and $l.p90 <= $l.p99 and $l.p99 <= $l.p999 and $l.p999 <= $l.max;
	def cdf_ok: length > 0 and all(.[]; (.[0] | pos) and (.[1] | nonneg) and .[1] <= 1) and
		(.[-1][1] == 1) and ([.[][1]] | . == sort) and ([.[][0]] | . == sort);
	def main: .runs[] | select(.scaling | not);
	def scal: .runs[] | select(.scaling);
	def recs(k; s; t): [.records[] | select(.kind == k and .scenario == s and .target == t)];'

check "run facts: date, commit, kernel, vCPUs, QUICK flag" jqt "$defs
	(.date | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T\")) and (.commit | length > 0) and .quick == true and
	([main] | length == 1) and ([main][0] | (.kernel | length > 0) and .vcpus == 2) and
	([main][0].baseline.window_s | pos)"

for s in fanin fanout p2p qos1 city; do
	for t in kmqtt mosquitto relay; do
		# (max_rate may be 0 when no step kept up: a result, not malformed output)
		check "$s/$t: a search with steps, delivered msg/s > 0" jqt "$defs
			[main | recs(\"search\"; \"$s\"; \"$t\")[]] | length >= 1 and all(.rc == 0 and
			(.bench.delivered_per_s | pos) and (.bench.search.max_rate | nonneg) and
			(.bench.search.steps | length > 0) and .bench.mode == \"search\" and
			.bench.scenario == \"$s\" and .bench.target == \"$t\")"
		check "$s/$t: a fixed-load run: delivered > 0, ordered percentiles, CDF, CPU window" jqt "$defs
			[main | recs(\"fixed\"; \"$s\"; \"$t\")[]] | length >= 1 and all(.rc == 0 and
			(.rate | pos) and (.bench.delivered | pos) and (.bench.latency_us | lat_ok) and
			(.bench.latency_cdf | cdf_ok) and (.bench.gen_cpu_s.user | nonneg) and
			(.bench.gen_cpu_s.sys | nonneg) and (.cpu.window_s | pos) and
			(.cpu.busy_ticks | nonneg) and .bench.mode == \"fixed\")"
		check "$s/$t: a CPU run at 80% of the maximum: delivered > 0, CPU window, generator CPU" jqt "$defs
			[main | recs(\"cpu\"; \"$s\"; \"$t\")[]] | length >= 1 and all(.rc == 0 and
			(.rate | pos) and (.bench.delivered_per_s | pos) and (.cpu.window_s | pos) and
			(.cpu.idle_ticks | nonneg) and (.cpu.cpus | pos) and
			((.bench.gen_cpu_s.user + .bench.gen_cpu_s.sys) | nonneg))"
	done
done
for t in kmqtt mosquitto relay; do
	check "idle/$t: all connections up, memory sampled before and while held" jqt "$defs
		[main | recs(\"idle\"; \"idle\"; \"$t\")[]] | length >= 1 and all(.rc == 0 and
		.bench.idle.connections == .n and (.bench.idle.connect_s | nonneg) and
		(.mem.before.slab_kib | pos) and (.mem.held.slab_kib | pos) and
		(.mem.held.broker_rss_kib | pos) and (.mem.held.gen_rss_kib | pos))"
done
for s in fanin fanout; do
	for t in kmqtt mosquitto; do
		check "scaling $s/$t: a 1-vCPU search with delivered msg/s > 0" jqt "$defs
			([scal] | length == 1) and ([scal][0].vcpus == 1) and
			([scal | recs(\"search\"; \"$s\"; \"$t\")[]] | length >= 1 and
			 all(.rc == 0 and (.bench.delivered_per_s | pos)))"
	done
done

for p in throughput cpu-per-message memory-per-connection scaling \
	latency-cdf-fanin latency-cdf-fanout latency-cdf-p2p latency-cdf-qos1 latency-cdf-city; do
	check "plot $p.png drawn" bash -c "[ \"\$(head -c 8 '$out/$p.png' 2>/dev/null | od -An -tx1 | tr -d ' \n')\" = 89504e470d0a1a0a ]"
done
md=$out/benchmarks.md
check "benchmarks.md written" test -s "$md"
check "benchmarks.md has every section" bash -c "for h in 'This run' 'Throughput' 'Broker CPU per delivered message' \
	'Latency at the fixed load' 'Memory per idle connection' 'Scaling' 'Targets (issue 8)'; do
	grep -q \"^## \$h\" '$md' || exit 1; done"
check "benchmarks.md: a row per scenario in the throughput table with three figures" bash -c \
	"for s in fan-in fan-out point-to-point 'QoS 1 pairs' 'smart-city mix'; do
	grep -E \"^\\| \$s \\| [0-9]\" '$md' | head -n 1 | grep -qv 'n/a' || exit 1; done"
check "benchmarks.md: every target judged from data" bash -c \
	"[ \$(sed -n '/^## Targets/,\$p' '$md' | grep -cE '\\*\\*(met|not met)\\*\\*') = 6 ]"
check "benchmarks.md: no NaN or None" bash -c "! grep -qiE '\\bnan\\b|\\bNone\\b' '$md'"
exit $((fails > 0))
