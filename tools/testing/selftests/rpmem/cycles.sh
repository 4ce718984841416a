#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# CYCLES (default 5) cycles of sysfs unbind/bind and of rmmod/insmod, with
# I/O in between:
# the devices come back each time with their data and the kernel stays
# clean (leaks.sh looks for leaked memory, in a kmemleak boot).
cd "$(dirname "$0")" && . ./lib.sh

ktap_header
ktap_plan 4

CYCLES=${CYCLES:-5}
check "load $DRIVER" driver_load
drv=$(nd_driver)
nfit=$(namespace_on ACPI.NFIT 1)
e820=$(namespace_on e820 0)
setup "$nfit fsdax" namespace_mode "$nfit" fsdax -a 2M

io() { ./rpmem_io "$@"; }

bind_cycles() {
	local i ns b
	for i in $(seq "$CYCLES"); do
		for ns in "$e820" "$nfit"; do
			dev=$ns
			[ "$ns" = "$nfit" ] && dev=$(pfn_dev_of "$nfit")
			b=$(blockdev_of "$ns")
			echo "$dev" >/sys/bus/nd/drivers/$drv/unbind || return 1
			[ ! -b /dev/$b ] || { echo "cycle $i: /dev/$b still there after unbind"; return 1; }
			echo "$dev" >/sys/bus/nd/drivers/$drv/bind || return 1
			[ "$(io check /dev/$b 1048576 8192 $i direct)" = "done 8192" ] ||
				{ echo "cycle $i: $b lost data"; return 1; }
			io_is "done 8192" write /dev/$b 1048576 8192 $((i + 1)) direct || return 1
		done
	done
}

module_cycles() {
	local i b=$(blockdev_of "$e820")
	for i in $(seq "$CYCLES"); do
		driver_unload || return 1
		[ ! -b /dev/$b ] || { echo "cycle $i: /dev/$b still there after unload"; return 1; }
		driver_load || return 1
		[ "$(io check /dev/$b 0 4096 $i direct)" = "done 4096" ] ||
			{ echo "cycle $i: $b lost data"; return 1; }
		io_is "done 4096" write /dev/$b 0 4096 $((i + 1)) direct || return 1
	done
}

for ns in "$e820" "$nfit"; do
	b=$(blockdev_of "$ns")
	setup "$b: 8 KiB written" io_is "done 8192" write /dev/$b 1048576 8192 1 direct
done
check "$CYCLES cycles of unbind/bind ($e820 raw, $nfit fsdax), data kept" bind_cycles
# Module cycles rebind every namespace; the fsdax one (1 GiB of struct
# pages to set up each time) had its cycles above.
setup "$nfit raw" namespace_mode "$nfit" raw
b=$(blockdev_of "$e820")
setup "$b: 4 KiB written" io_is "done 4096" write /dev/$b 0 4096 1 direct
check "$CYCLES cycles of rmmod/insmod, data kept" module_cycles
check "all namespaces bound again" test -b "/dev/$(blockdev_of "$e820")" -a -b "/dev/$(blockdev_of "$nfit")"

ktap_finished
