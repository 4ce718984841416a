#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make test-dkms, in the stock guest: Debian's kernel and modules, rpmem
# only as DKMS installed it (updates/dkms), no driver bound yet. With
# rpmem.conf in modprobe.d, what udev does for each namespace (modprobe -b
# of its modalias) loads rpmem and not nd_pmem, and rpmem binds them all.
# usage: guest-dkms.sh RPMEM_CONF
cd "$(dirname "$0")/../selftests/rpmem" && . ./lib.sh
conf=$1

loaded() { grep -q "^$1 " /proc/modules; }
# Every namespace of the buses, bound to nd driver $1.
all_bound_to() {
	local ns d n=0
	for ns in /sys/bus/nd/devices/namespace*; do
		d=$(readlink "$ns/driver") || { echo "${ns##*/}: no driver"; return 1; }
		[ "${d##*/}" = "$1" ] || { echo "${ns##*/}: bound to ${d##*/}"; return 1; }
		n=$((n + 1))
	done
	[ $n -gt 0 ] || { echo "no namespaces"; return 1; }
}
# A block written to /dev/$1 and read back.
round_trip() {
	head -c 4096 /dev/urandom >/tmp/block &&
		dd if=/tmp/block of="/dev/$1" bs=4096 seek=7 oflag=direct status=none &&
		cmp <(dd if="/dev/$1" bs=4096 skip=7 count=1 iflag=direct status=none) /tmp/block
}

ktap_header
ktap_plan 7
check "modinfo rpmem: DKMS's build (updates/dkms)" eval 'modinfo -n rpmem | grep -q /updates/dkms/rpmem.ko'
expect_eq "modinfo rpmem: vermagic is the running kernel's (nd_pmem's)" \
	"$(modinfo -F vermagic nd_pmem)" "$(modinfo -F vermagic rpmem)"
check "no nd driver loaded yet" not eval 'loaded nd_pmem || loaded rpmem'
cp "$conf" /tmp/modprobe.d/rpmem.conf
for ns in /sys/bus/nd/devices/namespace*; do
	modprobe -b "$(cat "$ns/modalias")"
done
check "modprobe -b MODALIAS of each namespace (udev) loads rpmem" loaded rpmem
check "and not nd_pmem (blacklisted by rpmem.conf)" not loaded nd_pmem
check "every namespace is bound to nd_rpmem" all_bound_to nd_rpmem
pmem=$(blockdev_of "$(namespace_on ACPI.NFIT 0)")
check "/dev/$pmem: a 4 KiB block written reads back" round_trip "$pmem"
ktap_finished
