#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build rpmem.ko. Without KDIR: set up the machine, build (or reuse) the
# guest kernel of flavor $FLAVOR (test by default) and build against it.
# With KDIR=/path: build against that CONFIG_RUST kernel tree instead.
#
# usage: build.sh [modules|clean|vars|kdir|sign] [extra kbuild args...]
# sign: sign rpmem.ko with the kernel's scripts/sign-file, with SIGN_KEY
# (a PEM private key) and SIGN_CERT (its X.509 certificate), or else with a
# local key made once in the cache (its certificate also in DER, for
# mokutil --import).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
. "$here/lib.sh"

# The signing key and certificate: SIGN_KEY and SIGN_CERT, or the local
# ones; and rpmem.ko as built (sign-file would append a second signature to
# a signed one, which the kernel then fails to verify).
signing_key() {
	[ -e "$root/rpmem.ko" ] || die "no rpmem.ko to sign: make first"
	[ "$(tail -c 28 "$root/rpmem.ko" | tr -d '\n')" != "~Module signature appended~" ] ||
		die "rpmem.ko is signed already: make (which rebuilds it unsigned), then make sign"
	if [ -n "${SIGN_KEY:-}" ]; then
		[ -r "$SIGN_KEY" ] && [ -r "${SIGN_CERT:-}" ] || die "SIGN_KEY needs a readable SIGN_CERT"
		key=$(realpath "$SIGN_KEY") cert=$(realpath "$SIGN_CERT")
		return
	fi
	local dir
	dir="$(rpmem_cache)/signing"
	key=$dir/key.pem cert=$dir/cert.pem
	[ -r "$key" ] && return
	step "sign: a local module signing key in $dir (mokutil --import $dir/cert.der to trust it)"
	mkdir -p "$dir"
	chmod 0700 "$dir"
	openssl req -new -x509 -newkey rsa:4096 -nodes -days 36500 -sha256 -batch \
		-subj "/CN=rpmem local module signing key/" -addext "extendedKeyUsage=codeSigning" \
		-keyout "$key.tmp" -out "$cert" 2>"$dir/openssl.log" || die "openssl failed; log: $dir/openssl.log"
	openssl x509 -in "$cert" -outform DER -out "$dir/cert.der"
	mv "$key.tmp" "$key"
}

what=${1:-modules}
[ $# -gt 0 ] && shift

# Debian's stock kernel: built in stock.sh's toolchain root, with the
# rustc that built that kernel; then installed into the guest's module
# folder, so that modprobe finds it there too.
if [ -z "${KDIR:-}" ] && [ "${FLAVOR:-test}" = stock ]; then
	"$here/setup.sh"
	stock=$("$here/stock.sh")
	release=$(cat "$stock/build/obj/include/config/kernel.release")
	case "$what" in
	kdir) echo "$stock/build/obj" ;;
	vars)
		echo "KDIR=$stock/build/obj"
		echo "BZIMAGE=$stock/arch/x86/boot/bzImage"
		echo "MODULE=$root/rpmem.ko"
		;;
	modules)
		step "module: building rpmem.ko for Debian's $release (stock toolchain root)"
		"$here/stock.sh" make M="$root" "$@" modules
		install -D -m 0644 "$root/rpmem.ko" "$stock/modroot/lib/modules/$release/updates/rpmem.ko"
		depmod -b "$stock/modroot" "$release"
		;;
	sign)
		signing_key
		step "sign: rpmem.ko with $cert"
		RPMEM_STOCK_MOUNTS="$(dirname "$key") $(dirname "$cert")" "$here/stock.sh" run \
			"$stock/build/obj/scripts/sign-file" sha256 "$key" "$cert" "$root/rpmem.ko"
		install -D -m 0644 "$root/rpmem.ko" "$stock/modroot/lib/modules/$release/updates/rpmem.ko"
		;;
	clean) "$here/stock.sh" make M="$root" "$@" clean ;;
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
sign)
	[ -x "$KDIR/scripts/sign-file" ] || die "$KDIR has no scripts/sign-file (CONFIG_MODULE_SIG is off)"
	signing_key
	step "sign: rpmem.ko with $cert"
	"$KDIR/scripts/sign-file" sha256 "$key" "$cert" "$root/rpmem.ko"
	;;
clean) make -C "$KDIR" M="$root" "${kargs[@]}" "$@" clean ;;
*) die "build.sh: unknown action '$what'" ;;
esac
