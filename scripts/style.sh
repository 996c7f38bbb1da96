#!/usr/bin/env bash
# style.sh — checkpatch --strict over every kernel source file in kmod/.
# checkpatch.pl is not in linux-headers; scripts/deps.sh extracts it from linux-source-6.12.
set -euo pipefail
cd "$(dirname "$0")/.."
cp=${CHECKPATCH:-/var/cache/kmqtt/checkpatch/scripts/checkpatch.pl}
if [ ! -f "$cp" ]; then
	echo "style: $cp missing (run 'make deps')" >&2
	exit 1
fi
mapfile -t files < <(git ls-files 'kmod/*.c' 'kmod/*.h'; git ls-files -o --exclude-standard 'kmod/*.c' 'kmod/*.h' | grep -v '\.mod\.c$' || true)
fail=0
for f in "${files[@]}"; do
	[ -f "$f" ] || continue
	out=$(perl "$cp" --no-tree --strict --terse --show-types -f "$f" 2>&1) || true
	if echo "$out" | grep -qE ': (ERROR|WARNING|CHECK):'; then
		echo "$out" | grep -E ': (ERROR|WARNING|CHECK):'
		fail=1
	fi
done
if [ $fail = 0 ]; then
	echo "style: ${#files[@]} files clean under checkpatch --strict"
fi
exit $fail
