#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make test-dkms: rpmem installed through DKMS, as on a Debian machine that
# runs the stock kernel, then loaded by that kernel.
#
# On the host, in a throwaway copy (overlayfs) of stock.sh's trixie root:
# install dkms, linux-headers-$release and linux-source-7.3 from Debian,
# `make dkms-install` (rust/distro.sh: the tree into /usr/src with a
# dkms.conf and /etc/modprobe.d/rpmem.conf), `dkms install -k $release`
# (which prepares the kernel crate with rust/distro.sh, builds and signs the
# module), check what modinfo says, then `dkms autoinstall` after an
# unbuild and with the kernel crate gone (what a kernel update runs). In the
# stock guest, with the DKMS module in Debian's module tree and rpmem.conf
# in modprobe.d (guest-dkms.sh): udev's modprobe of the namespaces' alias
# loads rpmem, not nd_pmem, and rpmem binds them.
# Also make sign (build.sh), on a copy of the tree built for the stock
# kernel: the signature that the kernel's sign-file appended verifies with
# the local certificate (openssl cms), and fails when a byte changes.
# Ends with "N passed, N failed, N skipped".
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
. "$here/lib.sh"
. "$here/results.sh"
. "$here/../selftests/rpmem/lib.sh" # check, expect_eq, ktap_*

"$here/setup.sh" || die "setup failed"
stock=$("$here/stock.sh") || die "stock kernel preparation failed"
release=$(cat "$stock/build/obj/include/config/kernel.release")
srcver=$(dpkg-query -W -f '${Version}' linux-source-7.3)
cache="$(rpmem_cache)/dkms"
res=$(results_dir "${RPMEM_OUT:-$(rpmem_cache)/results/dkms-$(date +%Y%m%d-%H%M%S)}") || die "no results folder"
mkdir -p "$cache/archives/partial" "$cache/lists/partial" "$cache/kernels"
ov=$(mktemp -d "$cache/overlay.XXXX")
trap 'rm -rf "$ov"' EXIT
mkdir -p "$ov/upper" "$ov/work" "$ov/merged"

step "dkms: dkms install in a copy of the trixie root (log: $res/dkms.log)"
# In the root: each step's exit status into steps (name status), the
# module and its modinfo into the results folder. git: the version of
# make dkms-install is git's, as in a clone.
# shellcheck disable=SC2016 # expanded in the root
in_copy='
set -u
step() { name=$1; shift; echo "== $name: $*"; "$@"; echo "$name $?" >>/results/steps; }
echo "deb http://deb.debian.org/debian trixie-backports main" >/etc/apt/sources.list.d/backports.list
step apt-update apt-get -q update
step apt-install env DEBIAN_FRONTEND=noninteractive apt-get -q -y --no-install-recommends install \
	dkms git "linux-headers-$RELEASE=$SRCVER" "linux-source-7.3=$SRCVER"
step dkms-add make -C "$TREE" dkms-install
v=$(dkms status rpmem | sed -n "s|^rpmem/\([^,:]*\)[,:].*|\1|p" | head -n 1)
echo "dkms: rpmem/$v"
make_log() { echo "== make.log:"; cat /var/lib/dkms/rpmem/"$v"/build/make.log 2>/dev/null; }
step dkms-install dkms install "rpmem/$v" -k "$RELEASE"
make_log
ko=$(ls /lib/modules/"$RELEASE"/updates/dkms/rpmem.ko* 2>/dev/null | head -n 1)
[ -n "$ko" ] && cp "$ko" /results/ && modinfo "$ko" >/results/modinfo
# A kernel update: nothing built for the kernel yet, no kernel crate either.
step dkms-unbuild dkms unbuild "rpmem/$v" -k "$RELEASE"
rm -rf /var/cache/rpmem/"$RELEASE"
step dkms-autoinstall dkms autoinstall -k "$RELEASE"
make_log
ls /lib/modules/"$RELEASE"/updates/dkms/ >/results/after-autoinstall
cp /etc/modprobe.d/rpmem.conf /results/
'
: >"$res/steps"
STOCK=$stock OV=$ov TREE=$root OUT=$res CACHE=$cache RELEASE=$release SRCVER=$srcver \
	unshare -m --propagation private bash -c '
	set -e
	mount -t overlay overlay -o "lowerdir=$STOCK/root,upperdir=$OV/upper,workdir=$OV/work" "$OV/merged"
	m=$OV/merged
	mount --rbind /dev "$m/dev"
	mount -t proc proc "$m/proc"
	mount -t sysfs sys "$m/sys"
	mkdir -p "$m$TREE" "$m/results" "$m/var/cache/rpmem"
	mount --bind "$TREE" "$m$TREE"
	mount --bind "$OUT" "$m/results"
	mount --bind "$CACHE/archives" "$m/var/cache/apt/archives"
	mount --bind "$CACHE/lists" "$m/var/lib/apt/lists"
	mount --bind "$CACHE/kernels" "$m/var/cache/rpmem"
	cp /etc/resolv.conf "$m/etc/resolv.conf"
	exec chroot "$m" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		RELEASE="$RELEASE" SRCVER="$SRCVER" TREE="$TREE" bash -c "$1"
' dkms "$in_copy" >"$res/dkms.log" 2>&1 </dev/null
step "dkms: done; $(tr '\n' ' ' <"$res/steps")"

# make sign, on a copy of the tree (the module of this tree stays as built).
step "dkms: make sign on a copy of the tree, built for the stock kernel (log: $res/sign.log)"
mkdir -p "$ov/tree"
git -C "$root" ls-files -z -co --exclude-standard | (cd "$root" && cpio -p0dm --quiet "$ov/tree")
FLAVOR=stock make -C "$ov/tree" modules sign >"$res/sign.log" 2>&1
signed=$ov/tree/rpmem.ko
# verify_sig KO CERT: the module's appended signature (PKCS#7, then struct
# module_signature, whose last 4 bytes are its length, big-endian, then the
# 28-byte marker) verifies over the rest of the file.
verify_sig() {
	local size len
	size=$(stat -c %s "$1") || return 1
	[ "$(tail -c 28 "$1" | tr -d '\n')" = "~Module signature appended~" ] || { echo "no signature marker"; return 1; }
	len=$(tail -c 32 "$1" | head -c 4 | od -An -tu1 | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
	head -c $((size - 40 - len)) "$1" >"$ov/body"
	tail -c $((40 + len)) "$1" | head -c "$len" >"$ov/sig"
	openssl cms -verify -binary -inform DER -in "$ov/sig" -content "$ov/body" \
		-certfile "$2" -CAfile "$2" -purpose any -out /dev/null
}
flip_byte() { cp "$1" "$2" && printf '\x5a' | dd of="$2" bs=1 seek=4096 conv=notrunc status=none; }
cert="$(rpmem_cache)/signing/cert.pem"

# The host's cases, from what the root left.
step_ok() { grep -qx "$1 0" "$res/steps"; }
modinfo_field() { sed -n "s/^$1: *//p" "$res/modinfo" 2>/dev/null | head -n 1; }
nd_pmem_vermagic=$(modinfo -F vermagic "$stock/modroot/lib/modules/$release/kernel/drivers/nvdimm/nd_pmem.ko.xz")
{
	ktap_header
	ktap_plan 9
	expect_eq "make sign: modinfo's signer is the local key" "rpmem local module signing key" \
		"$(modinfo -F signer "$signed" 2>&1)"
	check "make sign: the signature verifies with the local certificate" verify_sig "$signed" "$cert"
	check "make sign: with one byte changed, it does not" \
		eval 'flip_byte "$signed" "$ov/flipped.ko" && not verify_sig "$ov/flipped.ko" "$cert"'
	check "apt: dkms, linux-headers-$release and linux-source-7.3 ($srcver) installed" \
		step_ok apt-install
	check "make dkms-install: rpmem added to DKMS, /etc/modprobe.d/rpmem.conf installed" \
		eval 'step_ok dkms-add && cmp -s "$res/rpmem.conf" "$root/drivers/nvdimm/rpmem/rpmem.conf"'
	check "dkms install -k $release: built and installed in updates/dkms" step_ok dkms-install
	expect_eq "modinfo: vermagic is that of Debian's nd_pmem" "$nd_pmem_vermagic" "$(modinfo_field vermagic)"
	if [ -n "$(modinfo_field sig_id)" ]; then
		expect_eq "modinfo: signed by DKMS's local key (sha256)" "sha256" "$(modinfo_field sig_hashalgo)"
	else
		ktap_skip "modinfo: signed by DKMS's local key" "this dkms signed nothing (no sign-file or key)"
	fi
	check "dkms autoinstall after unbuild, kernel crate gone (a kernel update) builds and installs it" \
		eval 'step_ok dkms-unbuild && step_ok dkms-autoinstall && grep -q "^rpmem.ko" "$res/after-autoinstall"'
	ktap_finished
} >"$res/host.tap" 2>&1
sed 's/^/    /' "$res/host.tap"

# The guest: Debian's kernel and modules, with the DKMS module among them
# (hard links: Debian's tree is not copied) and nothing of build.sh's.
ko=$(ls "$res"/rpmem.ko* 2>/dev/null | head -n 1)
if [ -n "$ko" ]; then
	kb="$ov/kbuild"
	mkdir -p "$kb/arch/x86/boot"
	ln -s "$stock/arch/x86/boot/bzImage" "$kb/arch/x86/boot/bzImage"
	ln -s "$stock/initrd.img" "$kb/initrd.img"
	cp -al "$stock/modroot" "$kb/modroot"
	rm -rf "$kb/modroot/lib/modules/$release/updates"
	install -D -m 0644 "$ko" "$kb/modroot/lib/modules/$release/updates/dkms/${ko##*/}"
	depmod -b "$kb/modroot" "$release"
	RPMEM_VM_NAME=dkms "$here/vm.sh" "$kb" "$res/guest" 600 "$here/guest-dkms.sh" \
		"$root/drivers/nvdimm/rpmem/rpmem.conf"
	count_guest "$res/guest" 0
	count_tap "$res/guest/guest.log"
else
	count_fail "guest: no module from DKMS to load (log: $res/dkms.log)"
fi
count_tap "$res/host.tap"
echo "results: $res"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
