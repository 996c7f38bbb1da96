#!/usr/bin/env bash
# deps.sh — install everything kmqtt's build, tests and `make run` need on Debian 12.
# Idempotent: a second run installs nothing. Needs root (apt-get).
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
	echo "deps: run as root (apt-get install is needed)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive

# bookworm-backports carries the 6.12 kernel. Derive its source from the machine's own
# first debian.sources stanza so that no mirror host name is written by this project.
bp=/etc/apt/sources.list.d/kmqtt-backports.sources
if [ ! -s "$bp" ]; then
	src=/etc/apt/sources.list.d/debian.sources
	if [ ! -r "$src" ]; then
		echo "deps: $src not found; cannot derive bookworm-backports" >&2
		exit 1
	fi
	awk 'BEGIN { RS = ""; ORS = "\n\n" } NR == 1' "$src" |
		sed 's/^Suites: .*/Suites: bookworm-backports/' >"$bp"
fi

pkgs=(
	build-essential pkg-config clang llvm libclang-rt-14-dev
	libnl-3-dev libnl-genl-3-dev libssl-dev libjson-c-dev libsqlite3-dev libcmocka-dev
	mosquitto mosquitto-clients libmosquitto-dev
	linux-image-amd64 linux-headers-amd64
	qemu-system-x86 busybox-static cpio kmod zstd xz-utils
	dkms sparse bc bison flex libelf-dev iproute2 procps psmisc jq
	openssl python3 util-linux gnuplot-nox sqlite3
)

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"
	done
}

# The newest 6.12 kernel image and headers in bookworm-backports.
bp_kernel() {
	apt-cache search --names-only '^linux-image-6\.12\.[0-9.]+\+deb12-amd64-unsigned$' 2>/dev/null |
		awk '{print $1}' | sort -V | tail -n 1
}

need=$(missing "${pkgs[@]}")
k612=$(ls -d /usr/src/linux-headers-6.12.*-amd64 2>/dev/null | tail -n 1 || true)
src612=$(ls /usr/src/linux-source-6.12*.tar.* 2>/dev/null | tail -n 1 || true)
if [ -n "$need" ] || [ -z "$k612" ] || [ -z "$src612" ]; then
	apt-get update -q
	# shellcheck disable=SC2086
	[ -z "$need" ] || apt-get install -y -q --no-install-recommends $need
	if [ -z "$k612" ]; then
		img=$(bp_kernel)
		if [ -z "$img" ]; then
			echo "deps: no linux-image-6.12.*-amd64-unsigned in bookworm-backports" >&2
			exit 1
		fi
		ver=${img#linux-image-}
		ver=${ver%-unsigned}
		apt-get install -y -q --no-install-recommends -t bookworm-backports \
			"$img" "linux-headers-$ver"
	fi
	if [ -z "$src612" ]; then
		apt-get install -y -q --no-install-recommends -t bookworm-backports linux-source-6.12
	fi
fi

# checkpatch.pl comes from the 6.12 source tarball (it is not in linux-headers).
cp_dir=/var/cache/kmqtt/checkpatch
if [ ! -x "$cp_dir/scripts/checkpatch.pl" ]; then
	tarball=$(ls /usr/src/linux-source-6.12*.tar.* | tail -n 1)
	mkdir -p "$cp_dir"
	tar -xf "$tarball" -C "$cp_dir" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'
fi
echo "deps: ok"
