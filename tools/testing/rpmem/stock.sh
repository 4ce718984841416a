#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The "stock" guest: Debian's own Linux 7.3 kernel (linux-image-$release from
# trixie-backports, unmodified), and what it takes to build an out-of-tree
# Rust module for it. Nothing is compiled but the kernel crate and the
# module: minutes, where the test kernel takes half an hour.
#
# A Rust module must be built by the very rustc that built the kernel,
# against the kernel crate built from the same source and configuration;
# Debian's headers package has no Rust metadata. So, all in the cache:
# - root/: a Debian trixie root (debootstrap) with the toolchain Debian built
#   the kernel with (rustc 1.85.1, bindgen 0.71.1, gcc 14; checked against
#   the kernel's CONFIG_*_VERSION_TEXT by rust/distro.sh);
# - headers/: Debian's linux-headers-$release (.config, Module.symvers);
# - build/obj: linux-source-7.3 (the same source package) prepared for that
#   kernel by rust/distro.sh, as DKMS does on a Debian machine: Debian's
#   .config and LOCALVERSION, `make modules_prepare` (which builds the
#   kernel crate), Debian's Module.symvers;
# - arch/x86/boot/bzImage, modroot/lib/modules/$release: Debian's vmlinuz and
#   modules; initrd.img: busybox and the 9p modules, to mount the guest's
#   root (9p is modular in Debian's kernel).
# vm.sh boots the directory printed on stdout like a kernel build; build.sh
# (FLAVOR=stock) builds the module in root/ against build/obj.
#
# usage: stock.sh          prepare (or reuse); prints the directory
#        stock.sh make ARGS  make -C build/obj ARGS in the toolchain root, with
#                          this tree and the kernel source at their own paths
#        stock.sh run CMD    CMD there (RPMEM_STOCK_MOUNTS: more folders)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
. "$here/lib.sh"

# The kernel: Debian's ABI name for linux-source-7.3's version.
release=7.3.4+deb13-amd64
suite=trixie
mirror=http://deb.debian.org/debian
tools="gcc-14 make flex bison bc libelf-dev libssl-dev cpio kmod python3 xz-utils
	rustc rust-src bindgen libclang1-19 dwarves libc6-dev openssl"

src=$(kernel_source)
srcver=$(dpkg-query -W -f '${Version}' linux-source-7.3)
key=$( {
	echo "$release $srcver $suite $tools"
	cat "$0" "$root/rust/distro.sh"
} | sha256sum | cut -c1-12)
out="$(rpmem_cache)/stock-$key"
chroot_dir="$out/root"

# Run "$@" in the toolchain root, with the kernel source, the kernel crate
# build and this tree mounted at their host paths (a private mount
# namespace: the mounts go with the command).
in_root() {
	unshare -m --propagation private bash -c '
		r=$1; shift
		for p in $MOUNTS ${RPMEM_STOCK_MOUNTS:-}; do
			mkdir -p "$r$p" && mount --bind "$p" "$r$p"
		done
		mount -t proc proc "$r/proc"
		exec chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"
	' in_root "$chroot_dir" "$@"
}
export MOUNTS="$src $root $out/build $out/headers"

case "${1:-}" in
make | run)
	[ -e "$out/.rpmem-stock" ] || die "stock: $out is not prepared (run stock.sh)"
	if [ "$1" = make ]; then
		shift
		in_root "$root/rust/distro.sh" make "$out/build/obj" "$@"
	else
		shift
		in_root "$@"
	fi
	exit
	;;
esac
if [ -e "$out/.rpmem-stock" ]; then
	touch "$out/.rpmem-stock"
	echo "$out"
	exit 0
fi

start=$(date +%s)
# Other versions of this script made the other stock-* folders: removed
# once unused for a day (another clone's run may be using or making one
# now: its marker is touched at each use, the folder changes while made).
for d in "$(rpmem_cache)"/stock-*; do
	[ -d "$d" ] && [ "$d" != "$out" ] || continue
	[ -n "$(find "$d/.rpmem-stock" "$d" -maxdepth 0 -mmin -1440 2>/dev/null)" ] || rm -rf "$d"
done
rm -rf "$out" # what an interrupted run left
mkdir -p "$out/debs" "$out/x"
step "stock: downloading Debian's kernel $release ($srcver): image, modules, headers"
(cd "$out/debs" && apt-get download -q "linux-binary-$release=$srcver" "linux-modules-$release=$srcver" \
	"linux-base-$release=$srcver" \
	"linux-headers-$release=$srcver" >"$out/download.log" 2>&1) ||
	{ tail -n 5 "$out/download.log" >&2; die "stock: download failed; log: $out/download.log"; }
for deb in "$out"/debs/*.deb; do
	dpkg-deb -x "$deb" "$out/x"
done
headers=$out/headers
mv "$out/x/usr/src/linux-headers-$release" "$headers"

step "stock: Debian $suite toolchain root (debootstrap, a few minutes; log: $out/debootstrap.log)"
debootstrap --variant=minbase --include="$(echo $tools | tr ' ' ,)" "$suite" "$chroot_dir" "$mirror" \
	>"$out/debootstrap.log" 2>&1 ||
	{ tail -n 5 "$out/debootstrap.log" >&2; die "stock: debootstrap failed; log: $out/debootstrap.log"; }

step "stock: kernel crate for $release (rust/distro.sh prepare: Debian's .config, make modules_prepare)"
mkdir -p "$out/build"
in_root "$root/rust/distro.sh" prepare "$headers" "$src" "$out/build" >/dev/null

step "stock: Debian's vmlinuz, modules and an initramfs for the 9p root"
mkdir -p "$out/arch/x86/boot" "$out/modroot/lib/modules"
mods="$out/x/usr/lib/modules/$release"
cp "$mods/vmlinuz" "$out/arch/x86/boot/bzImage"
mv "$mods" "$out/modroot/lib/modules/"
rm -f "$out/modroot/lib/modules/$release/build" "$out/modroot/lib/modules/$release/source"
depmod -b "$out/modroot" "$release"
initrd="$out/initrd"
mkdir -p "$initrd/bin" "$initrd/lib"
cp /usr/bin/busybox "$initrd/bin/"
k="$out/modroot/lib/modules/$release/kernel"
for m in fs/netfs/netfs net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p; do
	xz -dc "$k/$m.ko.xz" >"$initrd/lib/${m##*/}.ko"
done
cp "$here/stock-initramfs-init" "$initrd/init"
(cd "$initrd" && find . | cpio -o -H newc --quiet | gzip -1 >"$out/initrd.img")
rm -rf "$out/x" "$out/debs" "$initrd"

touch "$out/.rpmem-stock"
step "stock: ready in $(($(date +%s) - start)) s: $out"
echo "$out"
