#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build rpmem.ko. Without KDIR: set up the machine, build (or reuse) the
# guest kernel of flavor $FLAVOR (test by default) and build against it.
# With KDIR=/path: build against that CONFIG_RUST kernel tree instead.
#
# usage: build.sh [modules|clean|vars|kdir] [extra kbuild args...]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
. "$here/lib.sh"

what=${1:-modules}
[ $# -gt 0 ] && shift

# Debian's stock kernel: built in stock.sh's toolchain root, with the
# rustc that built that kernel; then installed into the guest's module
# folder, so that modprobe finds it there too.
if [ -z "${KDIR:-}" ] && [ "${FLAVOR:-test}" = stock ]; then
	"$here/setup.sh"
	stock=$("$here/stock.sh")
	release=$(cat "$stock/build/include/config/kernel.release")
	case "$what" in
	kdir) echo "$stock/build" ;;
	vars)
		echo "KDIR=$stock/build"
		echo "BZIMAGE=$stock/arch/x86/boot/bzImage"
		echo "MODULE=$root/rpmem.ko"
		;;
	modules)
		step "module: building rpmem.ko for Debian's $release (stock toolchain root)"
		"$here/stock.sh" make -C "$stock/build" M="$root" "$@" modules
		install -D -m 0644 "$root/rpmem.ko" "$stock/modroot/lib/modules/$release/updates/rpmem.ko"
		depmod -b "$stock/modroot" "$release"
		;;
	clean) "$here/stock.sh" make -C "$stock/build" M="$root" "$@" clean ;;
	*) die "build.sh: unknown action '$what'" ;;
	esac
	exit
fi
if [ -z "${KDIR:-}" ]; then
	"$here/setup.sh"
	KDIR=$("$here/kernel.sh" "${FLAVOR:-test}")
fi
KDIR=$(cd "$KDIR" && pwd)
[ -e "$KDIR/.config" ] || die "KDIR=$KDIR is not a configured kernel tree"
grep -q '^CONFIG_RUST=y' "$KDIR/.config" || die "KDIR=$KDIR has no CONFIG_RUST"

# A clang-built kernel needs its modules built with the same LLVM.
kargs=(RUSTC="$RUSTC" CLIPPY_DRIVER=/usr/bin/clippy-driver)
if [ -z "${LLVM:-}" ] && grep -q '^CONFIG_CC_IS_CLANG=y' "$KDIR/.config"; then
	kargs+=(LLVM=-19)
elif [ -n "${LLVM:-}" ]; then
	kargs+=(LLVM="$LLVM")
fi

case "$what" in
kdir) echo "$KDIR" ;;
vars)
	echo "KDIR=$KDIR"
	echo "BZIMAGE=$KDIR/arch/x86/boot/bzImage"
	echo "MODULE=$root/rpmem.ko"
	;;
modules)
	step "module: building rpmem.ko against $KDIR"
	make -C "$KDIR" M="$root" "${kargs[@]}" "$@" modules
	;;
clean) make -C "$KDIR" M="$root" "${kargs[@]}" "$@" clean ;;
*) die "build.sh: unknown action '$what'" ;;
esac
