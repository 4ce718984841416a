#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rpmem.ko loads on its own (insmod, one file): nd_btt.ko, which only BTT
# (sector mode) namespaces need, is referenced weakly (rust/rpmem_glue.c).
# Loaded without it, rpmem binds raw namespaces and refuses a BTT one with a
# message that says what to do; loaded after nd_btt (as modprobe does:
# nd_btt is in its depends), BTT namespaces bind. rpmem only.
cd "$(dirname "$0")" && . ./lib.sh

ktap_header
ktap_plan 8

if [ "$DRIVER" = nd_pmem ]; then
	ktap_skip_rest "loading rpmem.ko" "DRIVER=nd_pmem"
	ktap_finished
	exit
fi
loaded() { grep -q "^$1 " /proc/modules; }
unload() { ! loaded "$1" || rmmod "$1"; }

ns=$(namespace_on ACPI.NFIT 1)
if ! setup "$ns raw, then rpmem and nd_btt unloaded" \
	eval 'driver_load && namespace_mode "$ns" raw && unload rpmem && unload nd_btt'; then
	ktap_skip_rest "loading rpmem.ko" "rpmem and nd_btt could not be unloaded"
	ktap_finished
	exit
fi
check "insmod rpmem.ko with nd_btt not loaded" insmod "$RPMEM_KO"
check "nd_btt still not loaded" not loaded nd_btt
check "$ns raw: bound to nd_rpmem, /dev/$(blockdev_of "$ns")" \
	test -e "/sys/bus/nd/drivers/nd_rpmem/$ns" -a -b "/dev/$(blockdev_of "$ns")"
dmesg -C
check "$ns: sector mode refused" not namespace_mode "$ns" sector -l 4096
check "the kernel log says why" eval \
	'dmesg | grep -q "needs nd_btt, which was not loaded when rpmem was: modprobe nd_btt, then load rpmem again"'
check "rmmod rpmem, modprobe nd_btt, insmod rpmem.ko" eval 'rmmod rpmem && modprobe nd_btt && insmod "$RPMEM_KO"'
check "$ns: sector mode, with its BTT block device" eval \
	'namespace_mode "$ns" sector -l 4096 && test -b "/dev/$(blockdev_of "$ns")"'
check "$ns raw again" namespace_mode "$ns" raw
ktap_finished
