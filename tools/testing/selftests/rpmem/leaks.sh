#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kmemleak after the driver's whole life cycle: every namespace kind bound,
# used and unbound (raw e820 with struct pages, fsdax map=mem and map=dev,
# BTT), a DAX mount, the poison store past its overflow, unbind/bind and
# rmmod/insmod. The kinds cycle on the 256 MiB e820 namespace, where struct
# pages cost a quarter of an NVDIMM's. Needs a guest booted with
# kmemleak=on (make test runs it in a second boot for that).
cd "$(dirname "$0")" && . ./lib.sh

ktap_header
ktap_plan 7

kmemleak=/sys/kernel/debug/kmemleak
if ! echo clear 2>/dev/null >$kmemleak; then
	ktap_skip_rest "leak check" "kmemleak is not enabled (boot with kmemleak=on)"
	ktap_finished
	exit 0
fi

check "load $DRIVER" driver_load
drv=$(nd_driver)
e820=$(namespace_on e820 0)

life_cycle() {
	local mode ns=$e820 b
	for mode in "fsdax --map=mem" "fsdax --map=dev" "sector" "raw"; do
		namespace_mode "$ns" $mode -a 2M 2>/dev/null || namespace_mode "$ns" $mode || return 1
		b=$(blockdev_of "$ns")
		[ -b "/dev/$b" ] || { echo "$mode: no block device"; return 1; }
		io_is "done 65536" write /dev/$b 0 65536 1 direct || return 1
		[ "$(./rpmem_io check /dev/$b 0 65536 1 direct)" = "done 65536" ] || { echo "$mode: I/O failed"; return 1; }
		ndctl disable-namespace "$ns" >/dev/null && ndctl enable-namespace "$ns" >/dev/null || return 1
	done
}
check "every namespace kind bound, used, disabled and enabled" life_cycle

dax_mount() {
	local b m
	namespace_mode "$e820" fsdax -a 2M || return 1
	b=$(blockdev_of "$e820") m=$(mnt_dir leak)
	mkfs.ext4 -F -q -b 4096 "/dev/$b" && mount -o dax "/dev/$b" "$m" &&
		head -c 4M /dev/urandom >"$m/f" && ./rpmem_mmap write "$m/f" 4194304 3 &&
		umount "$m" && namespace_mode "$e820" raw
}
check "ext4 -o dax mounted, written, unmounted" dax_mount

# The poison store's allocations (rpmem only): the lookup table (600
# ranges, 88 beyond the kernel's 512), its listing, clearing, and a device
# unbound with records left.
poison_store() {
	local b d i
	namespace_mode "$e820" raw || return 1
	b=$(blockdev_of "$e820") d=/sys/kernel/debug/rpmem/$b
	for i in $(seq 0 599); do echo "sectors $((i * 16)) 1" >$d/inject || return 1; done
	[ "$(wc -l <$d/list)" = 600 ] || return 1
	echo "0 9600" >$d/clear && [ "$(wc -l <$d/list)" = 0 ] || return 1
	for i in $(seq 0 599); do echo "sectors $((i * 16)) 1" >$d/inject || return 1; done
	echo "$e820" >/sys/bus/nd/drivers/$drv/unbind && echo "$e820" >/sys/bus/nd/drivers/$drv/bind
}
if [ "$DRIVER" = rpmem ]; then
	check "poison store filled past 512, listed, cleared, refilled, unbound" poison_store
else
	ktap_skip "poison store filled past 512, listed, cleared, refilled, unbound" \
		"rpmem only: nd_pmem has no debugfs poison store"
fi

unbind_bind() {
	local i
	namespace_mode "$e820" raw || return 1
	for i in 1 2 3; do
		echo "$e820" >/sys/bus/nd/drivers/$drv/unbind && echo "$e820" >/sys/bus/nd/drivers/$drv/bind || return 1
	done
}
check "e820 namespace unbound and bound 3 times" unbind_bind
reload() {
	local i
	for i in 1 2 3; do driver_unload && driver_load || return 1; done
}
check "rmmod and insmod 3 times" reload

# Two scans: kmemleak reports an object only once it stayed unreferenced
# across a scan; objects of the driver are named by their allocation trace.
setup "kmemleak scan" write_attr $kmemleak scan
sleep 2
setup "second kmemleak scan" write_attr $kmemleak scan
setup "kmemleak report read" to_file /tmp/kmemleak.txt cat $kmemleak
leaks=$(grep -c "rpmem\|nd_pmem\|pmem_attach\|nvdimm" /tmp/kmemleak.txt)
expect_eq "kmemleak: no leak from the driver ($(grep -c '^unreferenced object' /tmp/kmemleak.txt) unrelated reports)" 0 "$leaks"
[ "$leaks" = 0 ] || grep -B3 -A20 "rpmem\|nd_pmem" /tmp/kmemleak.txt | head -n 60 | sed 's/^/# /'
ktap_finished
