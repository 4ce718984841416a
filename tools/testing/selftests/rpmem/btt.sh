#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Poison under a BTT (sector mode, 4096-byte sectors) on an NFIT namespace.
# The driver hands btt devices to the BTT driver (nd_btt), which checks
# every read and write against its namespace's bad blocks; the driver keeps
# those in step with the bus (NVDIMM_REVALIDATE_POISON, as nd_pmem does).
# 64 MiB are written; a machine check (mce-inject, which the NFIT notifier
# turns into bus poison and a revalidation) lands 16 MiB into the
# namespace, in the BTT's data area:
# - exactly one 4 KiB block of the 64 MiB reads EIO, every other one the
#   data written;
# - writing that block succeeds (the BTT writes to a free block and frees
#   the poisoned one), it reads back, and then no block reads EIO;
# - the 64 MiB written again, on the same CPU: the BTT's first write takes
#   that CPU's free block, the poisoned one, and zeroes it first. rpmem
#   clears the poison there (QEMU's NVDIMMs have no Clear Error command: the
#   bus forgets it) and the rewrite reads back. Under nd_pmem this write
#   never ends: nsio_rw_bytes takes the failed clear for a success
#   (`cleared < size` with a negative long and a size_t), the block stays
#   bad and the BTT retries it for ever (see Documentation/rpmem.rst, BTT);
#   so it is skipped there.
# Last, the namespace made raw again: with rpmem nothing is left to clear;
# with nd_pmem the raw device lists the page and a write over it fails
# with EIO (nd_pmem cannot clear poison on QEMU's NVDIMMs).
# Runs last in its guest: with nd_pmem the bus keeps the poison.
cd "$(dirname "$0")" && . ./lib.sh

ktap_header
ktap_plan 11

check "load $DRIVER" driver_load
ns=$(namespace_on ACPI.NFIT 1)
len=$((64 << 20)) blocks=$(((64 << 20) / 4096))

if ! setup "$ns: sector mode, 4096-byte sectors" namespace_mode "$ns" sector -l 4096; then
	ktap_skip_rest "BTT" "the sector mode namespace could not be created"
	ktap_finished
	exit
fi
b=$(blockdev_of "$ns")
dev=/dev/$b
expect_eq "$ns: BTT device $dev with 4096-byte logical blocks" "4096" \
	"$(read_attr /sys/block/$b/queue/logical_block_size)"
expect_eq "$dev: 64 MiB written and read back" "done $len|done $len" \
	"$(./rpmem_io write "$dev" 0 $len 11 direct)|$(./rpmem_io check "$dev" 0 $len 11 direct)"

read -r start <"/sys/bus/nd/devices/$ns/resource"
region=region${ns#namespace} region=${region%%.*}
phys=$((start + (16 << 20)))
check "machine check at $(printf '%#x' $phys) (16 MiB into $ns) logged" mce_inject $phys

# Writes run on CPU 0: the BTT hands each CPU its own free block (lane).
on_cpu0() { taskset -c 0 "$@"; }

# The 64 MiB written again on CPU 0 and checked, then a scan; a write that
# has not ended in 300 s is reported as hung (it cannot be killed).
rewrite() {
	local out=/tmp/btt-rewrite.$$ end=$((SECONDS + 300))
	on_cpu0 ./rpmem_io write "$dev" 0 $len 13 direct >$out 2>&1 &
	while kill -0 $! 2>/dev/null && [ $SECONDS -lt $end ]; do
		sleep 0.5
	done
	if kill -0 $! 2>/dev/null; then
		echo "hung: the write has not ended after 300 s"
		return 1
	fi
	wait $!
	echo "$(<$out)|$(./rpmem_io check "$dev" 0 $len 13 direct)|$(./rpmem_io lbscan "$dev" $blocks)"
	rm -f $out
}

# The revalidation runs from the machine check's notifier, after the log.
one_eio() {
	local i out
	for ((i = 0; i < 50; i++)); do
		out=$(./rpmem_io lbscan "$dev" $blocks)
		[[ $out == "eio 1 ok $((blocks - 1)) other 0 first "* ]] && { echo "${out##* }"; return 0; }
		sleep 0.2
	done
	echo "$out"
	return 1
}
if bad=$(one_eio); then
	ktap_pass "$dev: exactly one 4 KiB block of the 64 MiB reads EIO (block $bad)"
	expect_eq "$dev: every other block reads the data written" \
		"done $((bad * 4096)) done $((len - (bad + 1) * 4096))" \
		"$(./rpmem_io check "$dev" 0 $((bad * 4096)) 11 $(((bad + 1) * 4096)) $((len - (bad + 1) * 4096)) 11 direct)"
	expect_eq "$dev: a write of block $bad succeeds and reads back; then no block reads EIO" \
		"done 4096|done 4096|eio 0 ok $blocks other 0" \
		"$(on_cpu0 ./rpmem_io write "$dev" $((bad * 4096)) 4096 12 direct)|$(./rpmem_io check "$dev" $((bad * 4096)) 4096 12 direct)|$(./rpmem_io lbscan "$dev" $blocks)"
else
	ktap_fail "$dev: exactly one 4 KiB block of the 64 MiB reads EIO"
	ktap_diag "lbscan: $bad"
	ktap_skip "$dev: the other blocks" "no single poisoned block"
	ktap_skip "$dev: a write of the poisoned block" "no single poisoned block"
fi
if [ "$DRIVER" = nd_pmem ]; then
	ktap_skip "$dev: the 64 MiB written again on CPU 0 (the poisoned free block reused first) and read back" \
		"nd_pmem's BTT retries the poisoned free block for ever (nsio_rw_bytes takes -ENOTTY from the clear for a success)"
	ktap_skip "bus forgets the page" "nd_pmem cannot clear poison on QEMU's NVDIMMs"
else
	expect_eq "$dev: the 64 MiB written again on CPU 0 (the poisoned free block reused first) and read back" \
		"done $len|done $len|eio 0 ok $blocks other 0" "$(rewrite)"
	expect_eq "$region/badblocks lists nothing: the bus and the region forgot the page (ndctl --media-errors reads it)" "" "$(<"/sys/bus/nd/devices/$region/badblocks")"
fi

# Raw again: with nd_pmem the poison is on the bus, so the raw device has
# its record; rpmem cleared it above.
setup "$ns raw again" namespace_mode "$ns" raw
b=$(blockdev_of "$ns")
s=$(((16 << 20) / 512))
if [ "$DRIVER" = nd_pmem ]; then
	check "$ns raw: /dev/$b lists the machine-checked page ($s 8)" has_line /sys/block/$b/badblocks "$s 8"
	expect_eq "/dev/$b: a write over the page fails with EIO, the record stays (nd_pmem cannot clear poison on QEMU's NVDIMMs)" \
		"errno=EIO|$s 8" "$(./rpmem_io write /dev/$b $((16 << 20)) 4096 14 direct)|$(</sys/block/$b/badblocks)"
else
	expect_eq "$ns raw: /dev/$b lists no poison" "" "$(</sys/block/$b/badblocks)"
	expect_eq "/dev/$b: the page written and read back" "done 4096|done 4096" \
		"$(./rpmem_io write /dev/$b $((16 << 20)) 4096 14 direct)|$(./rpmem_io check /dev/$b $((16 << 20)) 4096 14 direct)"
fi
ktap_finished
