#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build rpmem for a kernel that a distribution built (Debian's linux-image).
#
# A headers package has the .config and Module.symvers, but no Rust
# metadata, and a Rust module must be compiled by the very rustc that built
# the kernel, against the kernel crate built from the same source and
# configuration. So "prepare" configures the same source with the kernel's
# .config (olddefconfig must change nothing but the compiler's name), checks
# rustc, bindgen and the C compiler against the .config's version texts,
# runs `make modules_prepare` (which builds the kernel crate) and takes the
# kernel's own Module.symvers. A few minutes, once per kernel.
#
# usage: distro.sh prepare HEADERS SOURCE BUILD
#            HEADERS: the kernel's headers (Debian: /lib/modules/RELEASE/build)
#            SOURCE:  the same kernel's source, a folder or a tarball (Debian:
#                     /usr/src/linux-source-X.Y.tar.xz); a tarball is
#                     extracted into BUILD/source
#            BUILD:   the output folder, reused when prepared from the same
#                     .config and source; printed on stdout
#        distro.sh make BUILD [MAKE ARGS]
#            make -C BUILD with the kernel's own C compiler
#        distro.sh dkms-build RELEASE
#            DKMS's build step (dkms.conf, in the module's source folder):
#            prepare /lib/modules/RELEASE/build with Debian's linux-source
#            tarball into /var/cache/rpmem/RELEASE, then build rpmem.ko
#        distro.sh dkms-install
#            copy this tree to /usr/src/rpmem-VERSION with a dkms.conf and
#            "dkms add" it (make dkms-install; then dkms install rpmem/VERSION)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/.." && pwd)

die() { printf 'rpmem: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'rpmem: %s\n' "$*" >&2; }

# A .config's CONFIG_$2="..." text.
config_text() { sed -n "s/^CONFIG_$2=\"\(.*\)\"\$/\1/p" "$1"; }
# The C compiler a kernel was built with: the first word of its version text.
config_cc() { config_text "$1" CC_VERSION_TEXT | cut -d' ' -f1; }

kmake() {
	local build=$1 cc
	shift
	cc=$(config_cc "$build/.config")
	make -C "$build" CC="$cc" HOSTCC="$cc" "$@"
}

prepare() {
	local headers=$1 source=$2 build=$3 config release key cc want have
	config=$headers/.config release=$headers/include/config/kernel.release
	[ -r "$config" ] || die "$headers has no .config (is it the kernel's headers folder?)"
	[ -r "$headers/Module.symvers" ] || die "$headers has no Module.symvers"
	[ -r "$release" ] || die "$headers has no include/config/kernel.release"
	release=$(cat "$release")
	grep -q '^CONFIG_RUST=y' "$config" || die "kernel $release was built without CONFIG_RUST"

	# The toolchain must be the kernel's own, to the version text.
	cc=$(config_cc "$config")
	command -v "$cc" >/dev/null || die "kernel $release was built with $cc, which is not installed"
	want=$(config_text "$config" RUSTC_VERSION_TEXT)
	have=$(rustc --version 2>/dev/null) || die "no rustc; kernel $release was built with '$want'"
	[ "$have" = "$want" ] || die "rustc is '$have'; kernel $release was built with '$want' (and needs rust-src of that version)"
	want=$(config_text "$config" BINDGEN_VERSION_TEXT)
	have=$(bindgen --version 2>/dev/null | head -n 1) || die "no bindgen; kernel $release was built with '$want'"
	[ "$have" = "$want" ] || die "bindgen is '$have'; kernel $release was built with '$want'"

	key=$({
		echo "$release"
		cat "$config"
		if [ -d "$source" ]; then echo "$source"; else stat -c '%n %s %Y' "$source"; fi
		cat "$0"
	} | sha256sum | cut -c1-16)
	if [ "$(cat "$build/.rpmem-prepared" 2>/dev/null)" = "$key" ]; then
		echo "$build"
		return
	fi
	# Emptied, not removed: it may be a mount point (stock.sh's root).
	mkdir -p "$build"
	build=$(cd "$build" && pwd)
	find "$build" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
	if [ ! -d "$source" ]; then
		[ -r "$source" ] || die "no kernel source at $source"
		say "extracting $source"
		mkdir "$build/source"
		tar -C "$build/source" --strip-components=1 -xf "$source"
		source=$build/source
	fi
	source=$(cd "$source" && pwd)
	[ -r "$source/Makefile" ] || die "$source is not a kernel source tree"
	local version localversion
	version=$(make -s -C "$source" kernelversion)
	case "$release" in
	"$version"*) localversion=${release#"$version"} ;;
	*) die "the source is Linux $version, the kernel is $release" ;;
	esac

	say "preparing the kernel crate for $release (make modules_prepare; log: $build/prepare.log)"
	mkdir -p "$build/obj"
	cp "$config" "$build/obj/.config"
	local make_args=(-C "$source" O="$build/obj" CC="$cc" HOSTCC="$cc" LOCALVERSION="$localversion")
	make -s "${make_args[@]}" olddefconfig >"$build/prepare.log" 2>&1 ||
		{ tail -n 20 "$build/prepare.log" >&2; die "olddefconfig failed; log: $build/prepare.log"; }
	if ! diff <(grep -v '^#\|^CONFIG_CC_VERSION_TEXT' "$config") \
		<(grep -v '^#\|^CONFIG_CC_VERSION_TEXT' "$build/obj/.config") >>"$build/prepare.log"; then
		die "the kernel's .config does not carry over to $source; log: $build/prepare.log"
	fi
	[ "$(make -s "${make_args[@]}" kernelrelease)" = "$release" ] ||
		die "$source does not build kernel release $release"
	make "${make_args[@]}" -j"$(nproc)" modules_prepare >>"$build/prepare.log" 2>&1 ||
		{ tail -n 20 "$build/prepare.log" >&2; die "modules_prepare failed; log: $build/prepare.log"; }
	cp "$headers/Module.symvers" "$build/obj/"
	echo "$key" >"$build/.rpmem-prepared"
	echo "$build"
}

# The package version: what git says of this tree, else the DKMS copy's.
version() {
	git -C "$tree" describe --always --dirty 2>/dev/null | sed 's/^/0.0+g/' ||
		cat "$tree/.rpmem-version" 2>/dev/null || echo 0.0
}

case "${1:-}" in
prepare)
	[ $# = 4 ] || die "usage: distro.sh prepare HEADERS SOURCE BUILD"
	out=$(prepare "$2" "$3" "$4")
	echo "$out/obj"
	;;
make)
	[ $# -ge 2 ] || die "usage: distro.sh make BUILD [MAKE ARGS]"
	shift
	kmake "$@"
	;;
dkms-build)
	[ $# = 2 ] || die "usage: distro.sh dkms-build RELEASE"
	release=$2
	headers=/lib/modules/$release/build
	[ -r "$headers/.config" ] || die "no headers for $release: install linux-headers-$release"
	series=$(sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p' "$headers/Makefile" 2>/dev/null | paste -sd.)
	series=${series:-$(echo "$release" | cut -d. -f1-2)}
	source=/usr/src/linux-source-$series.tar.xz
	[ -r "$source" ] || die "no $source: install linux-source-$series (the same version as linux-image-$release)"
	if command -v dpkg-query >/dev/null; then
		hv=$(dpkg-query -W -f '${Version}' "linux-headers-$release" 2>/dev/null || true)
		sv=$(dpkg-query -W -f '${Version}' "linux-source-$series" 2>/dev/null || true)
		[ -z "$hv" ] || [ -z "$sv" ] || [ "$hv" = "$sv" ] ||
			die "linux-source-$series is $sv, linux-headers-$release is $hv: install the same version"
	fi
	obj=$(prepare "$headers" "$source" "${RPMEM_DISTRO_CACHE:-/var/cache/rpmem}/$release")/obj
	kmake "$obj" M="$tree" modules
	;;
dkms-install)
	[ $# = 1 ] || die "usage: distro.sh dkms-install"
	command -v dkms >/dev/null || die "dkms is not installed"
	v=$(version)
	dest=/usr/src/rpmem-$v
	rm -rf "$dest"
	mkdir -p "$dest"
	# The sources only (git's list when there is one), no build products.
	if git -C "$tree" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$tree" ls-files -z -co --exclude-standard Kbuild Makefile rust drivers include |
			(cd "$tree" && cpio -p0dm --quiet "$dest")
	else
		(cd "$tree" && cp -a Kbuild Makefile rust drivers include "$dest/")
		find "$dest" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' -o -name '*.mod*' \
			-o -name 'bindings_generated.rs*' \) -delete
	fi
	echo "$v" >"$dest/.rpmem-version"
	cat >"$dest/dkms.conf" <<-EOF
		# rpmem for every kernel with CONFIG_RUST (rust/distro.sh prepares the
		# kernel crate that a headers package lacks, once per kernel).
		PACKAGE_NAME="rpmem"
		PACKAGE_VERSION="$v"
		BUILT_MODULE_NAME[0]="rpmem"
		DEST_MODULE_LOCATION[0]="/updates/dkms"
		MAKE[0]="bash rust/distro.sh dkms-build \${kernelver}"
		CLEAN="rm -f rpmem.ko"
		BUILD_EXCLUSIVE_CONFIG="CONFIG_RUST CONFIG_LIBNVDIMM"
		AUTOINSTALL="yes"
	EOF
	install -D -m 0644 "$tree/drivers/nvdimm/rpmem/rpmem.conf" /etc/modprobe.d/rpmem.conf
	dkms remove "rpmem/$v" --all >/dev/null 2>&1 || true
	dkms add "rpmem/$v"
	say "added rpmem/$v to DKMS; /etc/modprobe.d/rpmem.conf prefers rpmem to nd_pmem"
	say "build and install it for a kernel: dkms install rpmem/$v -k RELEASE"
	;;
*) die "usage: distro.sh prepare|make|dkms-build|dkms-install ..." ;;
esac
