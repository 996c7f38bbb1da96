#!/usr/bin/env bash
# Runs test groups one after the other inside one guest boot (booting is the slow part,
# above all for the debug kernel). For each group G: TAP lines in $OUT/G.tap, its exit
# status in $OUT/G.rc, its output in $OUT/G.log, its wall time in seconds in $OUT/G.secs.
#   run-groups.sh OUTDIR GROUP.sh...
set -u
out=$1
shift
rc=0
for t in "$@"; do
	name=$(basename "$t" .sh)
	: >"$out/$name.tap"
	t0=$(date +%s)
	TAP="$out/$name.tap" bash "$t" >"$out/$name.log" 2>&1
	r=$?
	echo $(($(date +%s) - t0)) >"$out/$name.secs"
	echo $r >"$out/$name.rc"
	[ $r = 0 ] || rc=1
	# Leave no module behind for the next group, whatever this one did.
	rmmod kmqtt 2>/dev/null
done
exit $rc
