#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# /sys/block/pmemN/badblocks: an injected sector gives EIO on a block read
# and its neighbours read fine; a block write over it repairs it where the
# bus can clear poison (e820) and fails with EIO, changing nothing, where
# it cannot (QEMU's NFIT has no clear-error command): nd_pmem's behaviour,
# and rpmem's with clear_poison=firmware; rpmem's default (auto) clears in
# software there and the write succeeds; poll(2) wakes on changes;
# malformed input is refused with EINVAL and changes nothing.
cd "$(dirname "$0")" && . ./lib.sh

# Malformed input the attribute refuses (on every driver).
malformed=("abc" "-8 1" "8 -1" "8 0" "8" "8 1 2" "0x10 1")
# Cases: load; 4 on each of the 2 buses; writes over poison: 2 on e820, 2
# on NFIT, 2 on NFIT with clear_poison=auto; poll; malformed input; 2
# ranges past the end; the list unchanged.
ktap_header
ktap_plan $((1 + 2 * 4 + 2 + 2 + 2 + 1 + ${#malformed[@]} + 2 + 1))

check "load $DRIVER" driver_load
param=/sys/module/rpmem/parameters/clear_poison
if [ "$DRIVER" = rpmem ]; then
	setup "clear_poison=firmware" write_attr $param firmware
fi
nfit=$(namespace_on ACPI.NFIT 0)
e820=$(namespace_on e820 0)
setup "$nfit raw" namespace_mode "$nfit" raw

io() { ./rpmem_io "$@"; }

for ns in "$e820" "$nfit"; do
	b=$(blockdev_of "$ns")
	dev=/dev/$b bb=/sys/block/$b/badblocks
	setup "$b: 64 KiB written" io_is "done 65536" write "$dev" 0 65536 1 direct
	echo "8 1" >"$bb"
	expect_eq "$b: injected sector listed" "8 1" "$(<$bb)"
	expect_eq "$b: O_DIRECT read of the bad sector fails with EIO" "errno=EIO" "$(io read $dev 4096 512 direct)"
	expect_eq "$b: a 64 KiB read across it fails with EIO" "errno=EIO" "$(io read $dev 0 65536 direct)"
	expect_eq "$b: neighbours intact (sectors 7 and 9)" "done 512 done 512" \
		"$(io check $dev 3584 512 1 direct | tr '\n' ' ')$(io check $dev 4608 512 1 direct)"
done

# Block writes over poison: e820 treats the clear as done, NFIT (QEMU) fails it.
b=$(blockdev_of "$e820")
expect_eq "$b (e820): write over the bad sector succeeds" "done 512" "$(io write /dev/$b 4096 512 2 direct)"
expect_eq "$b (e820): record cleared, data written" "|done 512" \
	"$(</sys/block/$b/badblocks)|$(io check /dev/$b 4096 512 2 direct)"
b=$(blockdev_of "$nfit")
expect_eq "$b (NFIT): write over the bad sector fails with EIO" "errno=EIO" "$(io write /dev/$b 4096 512 2 direct)"
expect_eq "$b (NFIT): record kept" "8 1" "$(</sys/block/$b/badblocks)"
if [ "$DRIVER" = rpmem ]; then
	setup "clear_poison=auto" write_attr $param auto
	expect_eq "$b (NFIT, clear_poison=auto): the write succeeds" "done 512" "$(io write /dev/$b 4096 512 2 direct)"
	expect_eq "$b (NFIT, clear_poison=auto): record cleared, data written" "|done 512" \
		"$(</sys/block/$b/badblocks)|$(io check /dev/$b 4096 512 2 direct)"
else
	ktap_skip "$b (NFIT, clear_poison=auto): the write succeeds" "rpmem only"
	ktap_skip "$b (NFIT, clear_poison=auto): record cleared, data written" "rpmem only"
fi

# poll(2) on the attribute wakes up when the list changes.
b=$(blockdev_of "$e820")
if [ "$DRIVER" = nd_pmem ]; then
	ktap_skip "$b: poll(2) wakes on an injection" "nd_pmem notifies on clears only, not on sysfs injections"
else
	expect_eq "$b: poll(2) wakes on an injection" woke "$(io pollwrite /sys/block/$b/badblocks "100 8")"
fi

# Malformed input: EINVAL, list unchanged.
before=$(</sys/block/$b/badblocks)
cap=$(</sys/block/$b/size)
for input in "${malformed[@]}"; do
	expect_eq "$b: '$input' refused with EINVAL" "errno=EINVAL" "$(io sysfs /sys/block/$b/badblocks "$input")"
done
if [ "$DRIVER" = nd_pmem ]; then
	ktap_skip "$b: range beyond capacity refused" "nd_pmem accepts ranges past the end"
	ktap_skip "$b: huge count refused" "nd_pmem accepts ranges past the end"
else
	expect_eq "$b: range beyond capacity ($cap) refused" "errno=EINVAL" "$(io sysfs /sys/block/$b/badblocks "$((cap - 1)) 2")"
	expect_eq "$b: huge count refused" "errno=EINVAL" "$(io sysfs /sys/block/$b/badblocks "0 99999999999999999999")"
fi
expect_eq "$b: list unchanged by refused input" "$before" "$(</sys/block/$b/badblocks)"
ktap_finished
