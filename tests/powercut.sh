#!/usr/bin/env bash
# tests/powercut.sh [KVER] — a power cut with kmqttd's store on a disk, then a reboot on
# the same disk. Boot 1 makes an ext4 file system on a fresh virtio disk, starts kmqtt
# with its store there, gives the persistent client "psub" a session (subscribed to c/q1
# and c/q2 at QoS 2) and lets it go offline; a publisher then streams QoS 1 and QoS 2
# messages for it, logging every acknowledgment to the host through the 9p share, until
# the guest is switched off mid-traffic with sysrq 'o' (no sync, no unmount: what was
# not on the disk is lost, as in a power cut). Boot 2 mounts the disk (ext4 replays its
# journal), starts kmqttd on the same store and reconnects psub: the store must open,
# and every message acknowledged before the cut must be delivered (QoS 2 exactly once).
# Prints TAP lines; exit status 0 only if none failed.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
kver=${1:-${KVER:-$(ls /lib/modules | grep -E '^6\.1\.' | sort -V | tail -n 1)}}
dir=$top/build/powercut
rm -rf "$dir"
mkdir -p "$dir"
fails=0
ok() { echo "ok - [power cut, $kver] $*"; }
notok() { echo "not ok - [power cut, $kver] $*"; fails=$((fails + 1)); }

truncate -s 256M "$dir/disk.img"
# The guest half: "$0 guest 1|2" runs inside the VM.
scripts/vm -k "$kver" -t 600 -W -d "$dir/disk.img" -l "$dir/boot1.dmesg" -- \
	bash tests/powercut-guest.sh 1 "$dir" >"$dir/boot1.log" 2>&1
echo "# boot 1 ended (exit $?): $(grep -c . "$dir/acked" 2>/dev/null) acknowledgments logged"
if grep -q '^cut$' "$dir/boot1.log"; then
	ok "boot 1: traffic flowed, then the guest was switched off mid-traffic"
else
	notok "boot 1: the guest did not reach the power cut (log: $dir/boot1.log)"
	tail -n 20 "$dir/boot1.log" | sed 's/^/#   /'
fi
scripts/vm -k "$kver" -t 600 -d "$dir/disk.img" -l "$dir/boot2.dmesg" -- \
	bash tests/powercut-guest.sh 2 "$dir" >"$dir/boot2.log" 2>&1
rc=$?
grep -E '^(not )?ok ' "$dir/boot2.log" | sed "s/^\(\(not \)\?ok\) - /\1 - [power cut, $kver] /"
fails=$((fails + $(grep -c '^not ok' "$dir/boot2.log")))
if [ $rc != 0 ] && ! grep -q '^not ok' "$dir/boot2.log"; then
	notok "boot 2 failed (exit $rc, log: $dir/boot2.log)"
	tail -n 20 "$dir/boot2.log" | sed 's/^/#   /'
fi
n1=$(grep -c '^q1 ' "$dir/acked" 2>/dev/null)
n2=$(grep -c '^q2 ' "$dir/acked" 2>/dev/null)
grep '^c/q1 ' "$dir/psub" 2>/dev/null | cut -d' ' -f2 | sort -n >"$dir/got1"
grep '^c/q2 ' "$dir/psub" 2>/dev/null | cut -d' ' -f2 | sort -n >"$dir/got2"
lost1=$(grep '^q1 ' "$dir/acked" | cut -d' ' -f2 | sort -n | comm -23 - <(sort -nu "$dir/got1") | wc -l)
lost2=$(grep '^q2 ' "$dir/acked" | cut -d' ' -f2 | sort -n | comm -23 - <(sort -nu "$dir/got2") | wc -l)
dup2=$(($(wc -l <"$dir/got2") - $(sort -nu "$dir/got2" | wc -l)))
if [ "${n1:-0}" -ge 20 ] && [ "${n2:-0}" -ge 20 ]; then
	ok "messages acknowledged before the cut: $n1 QoS 1, $n2 QoS 2"
else
	notok "too few messages acknowledged before the cut: ${n1:-0} QoS 1, ${n2:-0} QoS 2"
fi
if [ "$lost1" = 0 ]; then
	ok "every acknowledged QoS 1 message delivered after the reboot ($(wc -l <"$dir/got1") delivered)"
else
	notok "$lost1 acknowledged QoS 1 messages lost in the power cut"
fi
if [ "$lost2" = 0 ] && [ "$dup2" = 0 ]; then
	ok "every acknowledged QoS 2 message delivered once after the reboot ($(wc -l <"$dir/got2") delivered)"
else
	notok "QoS 2 after the power cut: $lost2 acknowledged lost, $dup2 delivered twice"
fi
rm -f "$dir/disk.img"
exit $((fails > 0))
