#!/usr/bin/env bash
# debug-kernel.sh — build (once) the debug test kernel that KUnit and the VM tests boot with
# `scripts/vm -K`: Debian's linux-source-6.12 with x86_64_defconfig + kvm_guest.config,
# KUnit, KASAN, lockdep, kmemleak and everything the guest and kmqtt need built in.
#
#   scripts/debug-kernel.sh           build it unless the cached build is current
#   scripts/debug-kernel.sh --print   print "bzImage: PATH" and "tree: PATH", or fail if not built
#
# The build is cached under /var/cache/kmqtt/debug-kernel/KEY/ (KEY hashes the source
# tarball's name, size and package version and this script's code, which holds the
# configuration; comments do not count), outside the repository. The tree is configured
# and prepared for out-of-tree modules: `make -C TREE M=DIR modules` works against it
# (Module.symvers is there). 15-20 minutes on two cores; needs bc bison flex libelf-dev
# libssl-dev (`make deps`).

set -euo pipefail

prog=debug-kernel
self=$(readlink -f "$0")
root=${KMQTT_DEBUG_KERNEL_CACHE:-/var/cache/kmqtt/debug-kernel}

# Built in (y) on top of defconfig; checked after olddefconfig so that a symbol the kernel
# renamed or whose dependencies are missing fails the build instead of vanishing silently.
enable=(
	KUNIT KUNIT_DEBUGFS
	KASAN KASAN_GENERIC
	DEBUG_KERNEL PROVE_LOCKING DEBUG_ATOMIC_SLEEP DEBUG_LIST
	DEBUG_KMEMLEAK
	DEBUG_FS
	FAULT_INJECTION FAILSLAB FAULT_INJECTION_DEBUG_FS
	TLS CRYPTO_GCM CRYPTO_CHACHA20POLY1305
	NET_9P NET_9P_VIRTIO 9P_FS 9P_FS_POSIX_ACL OVERLAY_FS TMPFS DEVTMPFS
	VIRTIO_PCI VIRTIO_NET
	SERIAL_8250 SERIAL_8250_CONSOLE
	DEBUG_INFO_NONE
	MODULES MODULE_UNLOAD
	KALLSYMS
)
# Off: no boot-time test storm, no background leak scans (scripts/vm scans when a command
# has finished), no debug info (faster build, smaller tree).
disable=(
	KUNIT_ALL_TESTS
	DEBUG_KMEMLEAK_AUTO_SCAN DEBUG_KMEMLEAK_DEFAULT_OFF
	DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT DEBUG_INFO_DWARF4 DEBUG_INFO_DWARF5
	MODULE_SIG KFENCE WERROR
)
# name=value settings.
values=(
	DEBUG_KMEMLEAK_MEM_POOL_SIZE=65536
	LOG_BUF_SHIFT=20
	SERIAL_8250_RUNTIME_UARTS=4
)

die() {
	echo "$prog: $*" >&2
	exit 1
}

tarball=$(ls /usr/src/linux-source-6.12*.tar.* 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$tarball" ] || die "no /usr/src/linux-source-6.12*.tar.* (run 'make deps', which installs linux-source-6.12 from bookworm-backports)"
pkgver=$(dpkg-query -W -f '${Version}' linux-source-6.12 2>/dev/null || true)
key=$({
	echo "$(basename "$tarball") $(stat -c %s "$tarball") $pkgver"
	grep -v '^[[:space:]]*\(#\|$\)' "$self"
} | sha256sum | cut -c1-16)
dir=$root/$key
tree=$dir/linux
bz=$tree/arch/x86/boot/bzImage

print_paths() {
	echo "bzImage: $bz"
	echo "tree: $tree"
}

case ${1:-} in
--print)
	[ -e "$dir/built" ] || die "not built for this source and configuration (run scripts/debug-kernel.sh)"
	print_paths
	exit 0
	;;
"") ;;
*)
	sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$self" | sed '/^$/d' >&2
	exit 2
	;;
esac

mkdir -p "$root"
exec 9>"$root/lock"
if ! flock -n 9; then
	echo "$prog: another build holds $root/lock; waiting"
	flock 9
fi
if [ -e "$dir/built" ]; then
	print_paths
	exit 0
fi

for t in make gcc bc bison flex; do
	command -v "$t" >/dev/null || die "$t missing (run 'make deps')"
done
for h in /usr/include/libelf.h /usr/include/openssl/ssl.h; do
	[ -e "$h" ] || die "$h missing: install libelf-dev and libssl-dev (run 'make deps')"
done

start=$(date +%s)
step() {
	echo "$prog: [$(($(date +%s) - start))s] $*"
}

if [ ! -e "$dir/extracted" ]; then
	step "extracting $tarball into $tree"
	rm -rf "$tree"
	mkdir -p "$tree"
	tar -xf "$tarball" -C "$tree" --strip-components=1
	: >"$dir/extracted"
fi

step "configuring: x86_64_defconfig + kvm_guest.config + debug options"
make -s -C "$tree" x86_64_defconfig
make -s -C "$tree" kvm_guest.config
args=()
for o in "${enable[@]}"; do args+=(-e "$o"); done
for o in "${disable[@]}"; do args+=(-d "$o"); done
for o in "${values[@]}"; do args+=(--set-val "${o%%=*}" "${o#*=}"); done
"$tree/scripts/config" --file "$tree/.config" "${args[@]}"
make -s -C "$tree" olddefconfig
bad=""
for o in "${enable[@]}"; do
	grep -qx "CONFIG_$o=y" "$tree/.config" || bad+=" $o"
done
for o in "${disable[@]}"; do
	! grep -q "^CONFIG_$o=" "$tree/.config" || bad+=" !$o"
done
for o in "${values[@]}"; do
	grep -qx "CONFIG_$o" "$tree/.config" || bad+=" $o"
done
[ -z "$bad" ] || die "configuration did not take:$bad"

step "building bzImage and modules with $(nproc) jobs (about 15 min on 2 cores)"
make -s -C "$tree" -j"$(nproc)" bzImage modules
step "preparing the tree for out-of-tree modules"
make -s -C "$tree" modules_prepare
[ -s "$tree/Module.symvers" ] || die "no Module.symvers after 'make modules'"
[ -s "$bz" ] || die "no $bz after the build"
: >"$dir/built"

# Older builds (another source or configuration) are several GB each: drop them.
for old in "$root"/*/; do
	old=${old%/}
	[ "$old" = "$dir" ] || { step "removing stale build $old"; rm -rf "$old"; }
done
step "done in $(($(date +%s) - start))s"
print_paths
