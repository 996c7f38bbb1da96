#!/usr/bin/env bash
# dkms.sh — register kmqtt's module source with DKMS and build/install it.
#
#   scripts/dkms.sh install [KVER...]   copy the source to /usr/src/kmqtt-VERSION, dkms add
#                                       (once), build and install for each KVER (default:
#                                       the running kernel), then check the installed module
#   scripts/dkms.sh remove              remove every kmqtt version from DKMS and /usr/src
set -euo pipefail
cd "$(dirname "$0")/.."
ver=$(cat VERSION)
src=/usr/src/kmqtt-$ver

command -v dkms >/dev/null || { echo "dkms: not installed (run 'make deps')" >&2; exit 1; }

install_src() {
	local files
	rm -rf "$src"
	mkdir -p "$src"
	# Only what Kbuild needs; never build products of the working tree.
	if git rev-parse --git-dir >/dev/null 2>&1; then
		files=$(git ls-files Kbuild VERSION kmod)
	else
		files=$(find Kbuild VERSION kmod -type f -name '*.[ch]' -o -name Kbuild -o -name VERSION)
	fi
	# shellcheck disable=SC2086
	tar -cf - $files | tar -xf - -C "$src"
	sed "s/@VERSION@/$ver/" dkms.conf >"$src/dkms.conf"
}

case ${1:-} in
install)
	shift
	kvers=${*:-$(uname -r)}
	# A previous registration of this version (whatever its state) is replaced.
	if [ -e "/var/lib/dkms/kmqtt/$ver" ]; then
		dkms remove -m kmqtt -v "$ver" --all >/dev/null 2>&1 || true
		rm -rf "/var/lib/dkms/kmqtt/$ver"
	fi
	install_src
	dkms add -m kmqtt -v "$ver"
	for k in $kvers; do
		dkms build -m kmqtt -v "$ver" -k "$k"
		dkms install -m kmqtt -v "$ver" -k "$k" --force
		ko=$(find "/lib/modules/$k/updates/dkms" -name 'kmqtt.ko*' | head -n 1)
		if [ -z "$ko" ]; then
			echo "dkms: kmqtt.ko not installed for $k" >&2
			exit 1
		fi
		got=$(modinfo -F version "$ko")
		if [ "$got" != "$ver" ]; then
			echo "dkms: $ko has version '$got', expected $ver" >&2
			exit 1
		fi
		echo "dkms: $ko installed (version $got)"
	done
	;;
remove)
	for v in $(dkms status -m kmqtt 2>/dev/null | sed -n 's#^kmqtt/\([^,:]*\).*#\1#p' | sort -u); do
		dkms remove -m kmqtt -v "$v" --all
		rm -rf "/usr/src/kmqtt-$v"
	done
	rm -rf "$src"
	echo "dkms: kmqtt removed"
	;;
*)
	sed -n '2,8p' "$0"
	exit 2
	;;
esac
