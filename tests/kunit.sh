#!/usr/bin/env bash
# kunit.sh — the KUnit suites (kmqtt_codec, kmqtt_topic) on the debug test kernel.
#
# Builds the debug kernel if needed (scripts/debug-kernel.sh), builds kmqtt_test.ko against
# it, boots it once with scripts/vm -K, loads the module (KUnit runs its suites during the
# load), collects each suite's KTAP results from debugfs and prints TAP on stdout:
#
#   ok - kunit <suite>.<case>[.<parameter>]      one line per case (per parameter of a
#   not ok - kunit <suite>.<case>[.<parameter>]  parameterized case)
#   ok - kunit dmesg: ...                        the harness's kernel-log verdict: a KASAN,
#   not ok - kunit dmesg: ...                    lockdep, kmemleak or WARNING report fails it
#
# Exits 1 if any line is "not ok". Build logs, the kernel log and the raw KTAP are kept in
# $BUILD/kunit (default build/kunit). KUNIT_TIMEOUT (seconds, default 2400) bounds the run.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
case $build in /*) ;; *) build=$top/$build ;; esac
out=$build/kunit
suites=(kmqtt_codec kmqtt_topic)

fail() {
	echo "not ok - kunit: $*"
	exit 1
}

mkdir -p "$out" || fail "cannot create $out"
rm -rf "$out/src" "$out/results" "$out/dmesg" "$out/guest.status"
mkdir -p "$out/results"

# 1. The debug kernel.
echo "# kunit: debug kernel (scripts/debug-kernel.sh; about 15 min on 2 cores the first time)"
if ! "$top/scripts/debug-kernel.sh" >"$out/debug-kernel.log" 2>&1; then
	sed 's/^/# /' "$out/debug-kernel.log" | tail -n 20
	fail "the debug kernel cannot be built: $(tail -n 1 "$out/debug-kernel.log")"
fi
paths=$("$top/scripts/debug-kernel.sh" --print) || fail "the debug kernel is not built"
bzimage=$(sed -n 's/^bzImage: //p' <<<"$paths")
ktree=$(sed -n 's/^tree: //p' <<<"$paths")

# 2. kmqtt_test.ko, built from a copy of the sources so that this build never races the
# tree's own kernel-module builds (which target other kernels in the same directories).
src=$out/src
mkdir -p "$src/kmod/core" "$src/kmod/tests" "$src/kmod/uapi"
cp "$top"/kmod/*.h "$src/kmod/" 2>/dev/null
cp "$top"/kmod/core/*.[ch] "$src/kmod/core/"
cp "$top"/kmod/uapi/*.h "$src/kmod/uapi/" 2>/dev/null
cp "$top"/kmod/tests/Kbuild "$top"/kmod/tests/*.[ch] "$src/kmod/tests/"
cp "$top/VERSION" "$src/" 2>/dev/null
echo "# kunit: building kmqtt_test.ko against $ktree"
if ! make -C "$ktree" M="$src/kmod/tests" W=1 modules >"$out/build.log" 2>&1; then
	sed 's/^/# /' "$out/build.log" | grep -E 'error|warning' | head -n 30
	fail "kmqtt_test.ko does not build against the debug kernel (see $out/build.log)"
fi
if grep -q 'warning:' "$out/build.log"; then
	grep 'warning:' "$out/build.log" | sed 's/^/# /' | head -n 30
	fail "kmqtt_test.ko builds with warnings (see $out/build.log)"
fi
ko=$src/kmod/tests/kmqtt_test.ko
[ -s "$ko" ] || fail "no $ko after the build"

# 3. One boot: load the module, keep each suite's results, unload it. scripts/vm then scans
# the kernel log (after a kmemleak scan) and exits 125 if it reports anything.
cat >"$out/guest.sh" <<GUEST
set -u
dbg=/sys/kernel/debug
# Let the fail-nth cases fail GFP_KERNEL allocations, without a stack dump per failure.
if [ -d \$dbg/failslab ]; then
	echo N >\$dbg/failslab/ignore-gfp-wait
	echo 0 >\$dbg/failslab/verbose
fi
insmod "$ko" || { echo "insmod kmqtt_test.ko failed" >&2; exit 3; }
for s in ${suites[*]}; do
	if [ -r \$dbg/kunit/\$s/results ]; then
		cat \$dbg/kunit/\$s/results >"$out/results/\$s"
	fi
done
rmmod kmqtt_test || { echo "rmmod kmqtt_test failed" >&2; exit 4; }
GUEST
echo "# kunit: running the suites in the debug kernel (scripts/vm -K $bzimage)"
start=$(date +%s)
(cd "$out" && "$top/scripts/vm" -K "$bzimage" -c 2 -m 1024 -t "${KUNIT_TIMEOUT:-2400}" \
	-l "$out/dmesg" -- sh "$out/guest.sh") >"$out/vm.log" 2>&1
vm=$?
sed 's/^/# /' "$out/vm.log"
echo "# kunit: guest ran for $(($(date +%s) - start)) s, scripts/vm exited $vm"

# 4. KTAP to TAP. A result line at indentation I belongs to the tests whose "# Subtest:"
# headers are open at indentations 4, 8, ..., I; parameter results are reported one by one,
# a case only when it had no parameter results or failed without a failing parameter.
ktap_to_tap() {
	awk '
	function indent(s) { match(s, /^ */); return RLENGTH }
	function close_below(i,   j) { for (j in hdr) if (j + 0 > i) { delete hdr[j]; delete kids[j]; delete bad[j] } }
	{
		sub(/\r$/, "")
		i = indent($0)
		line = substr($0, i + 1)
	}
	line ~ /^# Subtest: / {
		close_below(i - 1)
		hdr[i] = substr(line, 12)
		kids[i] = 0
		bad[i] = 0
		next
	}
	line ~ /^(not )?ok [0-9]+ / {
		notok = line ~ /^not /
		rest = line
		sub(/^(not )?ok [0-9]+ /, "", rest)
		directive = ""
		if ((p = index(rest, " # ")) > 0) {
			directive = substr(rest, p)
			rest = substr(rest, 1, p - 1)
		}
		path = ""
		for (j = 4; j <= i; j += 4)
			if (j in hdr)
				path = path hdr[j] "."
		emit = 0
		if (i == 0)
			emit = notok && !(4 in bad && bad[4])
		else if (!((i + 4) in kids) || kids[i + 4] == 0)
			emit = 1
		else if (notok && !bad[i + 4])
			emit = 1
		if (emit)
			printf "%s - kunit %s%s%s\n", notok ? "not ok" : "ok", path, rest, directive
		if (i in kids) {
			kids[i]++
			if (notok)
				bad[i]++
		}
		close_below(i)
	}'
}

status=0
for s in "${suites[@]}"; do
	if [ -s "$out/results/$s" ]; then
		ktap_to_tap <"$out/results/$s" | tee "$out/results/$s.tap"
		if grep -q '^not ok' "$out/results/$s.tap"; then
			status=1
			# What the failing cases said.
			grep -E -A 6 'EXPECTATION FAILED|ASSERTION FAILED' "$out/results/$s" |
				sed 's/^ */# /' | head -n 200
		fi
		grep -q '^ok' "$out/results/$s.tap" || {
			echo "not ok - kunit $s: no case results"
			status=1
		}
	else
		echo "not ok - kunit $s: no results (module not loaded, or the guest died)"
		status=1
	fi
done

case $vm in
0) echo "ok - kunit dmesg: no KASAN, lockdep, kmemleak or WARNING report" ;;
125) echo "not ok - kunit dmesg: the kernel log reports a problem (excerpt above, log in $out/dmesg)"
	status=1 ;;
124) echo "not ok - kunit dmesg: the guest crashed or timed out (console tail above)"
	status=1 ;;
*) echo "not ok - kunit guest: the test script exited $vm (output above)"
	status=1 ;;
esac
exit $status
