#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The driver binds the namespaces nd_pmem binds, on both buses: raw io
# namespaces on ACPI.NFIT and e820, fsdax (pfn) namespaces with map=mem and
# map=dev; ndctl shows their block devices; disable/enable and sysfs
# unbind/bind work. A devdax namespace it leaves to dax_pmem and device_dax,
# as nd_pmem does: daxctl sees the device and a mapping of it writes and
# reads; made fsdax again, the namespace is the driver's again. rpmem.ko
# carries the nd bus aliases nd_pmem carries, so udev loads it for the same
# devices.
cd "$(dirname "$0")" && . ./lib.sh

ktap_header
ktap_plan 21

check "load $DRIVER" driver_load
drv=$(nd_driver)
nd_aliases() { modinfo -F alias "$1" | grep '^nd:' | sort | tr '\n' ' '; }
if [ "$DRIVER" = nd_pmem ]; then
	ktap_skip "rpmem.ko's nd bus aliases are nd_pmem's" "DRIVER=nd_pmem"
else
	expect_eq "rpmem.ko's nd bus aliases are nd_pmem's" "$(nd_aliases nd_pmem)" "$(nd_aliases "$RPMEM_KO")"
fi

nfit0=$(namespace_on ACPI.NFIT 0)
nfit1=$(namespace_on ACPI.NFIT 1)
e820=$(namespace_on e820 0)
ktap_diag "namespaces: NFIT $nfit0 $nfit1, e820 $e820"
check "two namespaces on ACPI.NFIT and one on e820" test -n "$nfit0" -a -n "$nfit1" -a -n "$e820"

# Raw namespaces on both buses get a block device from the driver.
for ns in "$nfit0" "$e820"; do
	bdev=$(blockdev_of "$ns")
	check "raw $ns: /dev/$bdev bound to $drv" \
		test -b "/dev/$bdev" -a -e "/sys/bus/nd/drivers/$drv/$ns"
done
bdev=$(blockdev_of "$e820")
expect_eq "e820 $e820: capacity 256 MiB in 512-byte sectors" 524288 \
	"$(read_attr /sys/block/$bdev/size)"

# fsdax with the memmap in RAM (map=mem) and on the device (map=dev).
check "ndctl create-namespace -m fsdax --map=mem on $nfit0" namespace_mode "$nfit0" fsdax -a 2M --map=mem
bdev=$(blockdev_of "$nfit0")
mode=$(ndctl_mode "$nfit0")
expect_eq "$nfit0 is fsdax map=mem with /dev/$bdev" "fsdax mem" "$mode"
check "fsdax map=mem: pfn device bound to $drv" test -n "$(bound_to $drv pfn)"

check "ndctl create-namespace -m fsdax --map=dev on $nfit1" namespace_mode "$nfit1" fsdax -a 2M --map=dev
bdev1=$(blockdev_of "$nfit1")
mode=$(ndctl_mode "$nfit1")
expect_eq "$nfit1 is fsdax map=dev with /dev/$bdev1" "fsdax dev" "$mode"
# map=dev keeps the struct pages on the device: less capacity than map=mem.
check "map=dev capacity < map=mem capacity" \
	test "$(</sys/block/$bdev1/size)" -lt "$(</sys/block/$bdev/size)"

check "ndctl disable-namespace $nfit1" sh -c "ndctl disable-namespace $nfit1 && test ! -b /dev/$bdev1"
check "ndctl enable-namespace $nfit1" sh -c "ndctl enable-namespace $nfit1 && test -b /dev/$bdev1"

# sysfs unbind/bind of the raw e820 namespace.
bdev=$(blockdev_of "$e820")
check "sysfs unbind/bind $e820" sh -c "
	echo $e820 > /sys/bus/nd/drivers/$drv/unbind && test ! -b /dev/$bdev &&
	echo $e820 > /sys/bus/nd/drivers/$drv/bind && test -b /dev/$bdev"

# devdax: the nd dax device goes to dax_pmem, its dax device to device_dax.
setup "dax_pmem and device_dax loaded" modprobe -a dax_pmem device_dax
check "ndctl create-namespace -m devdax on $nfit1" namespace_mode "$nfit1" devdax -a 2M
chardev=$(ndctl list -n "$nfit1" | sed -n 's/.*"chardev":"\(dax[0-9.]*\)".*/\1/p')
expect_eq "$nfit1 is devdax with a character device, and no block device" "devdax char " \
	"$(ndctl_mode "$nfit1" | cut -d' ' -f1) $([ -c "/dev/$chardev" ] && echo char) $(blockdev_of "$nfit1")"
expect_eq "$nfit1: its nd dax device bound to dax_pmem, not to $drv; /dev/$chardev to device_dax" \
	"dax_pmem device_dax" \
	"$(basename "$(readlink "/sys/bus/nd/devices/$(bound_to dax_pmem dax)/driver")") $(basename "$(readlink "/sys/bus/dax/devices/$chardev/driver")")"
check "daxctl list: $chardev in devdax mode" sh -c "daxctl list -d $chardev | grep -q '\"mode\":\"devdax\"'"
check "/dev/$chardev: 4 MiB written and read back through a mapping" \
	sh -c "./rpmem_mmap write /dev/$chardev $((4 << 20)) 3 && ./rpmem_mmap verify /dev/$chardev $((4 << 20)) 3"
# fsdax_again NS: NS made fsdax; its pfn device bound to the driver, with
# a block device.
fsdax_again() {
	local pfn
	namespace_mode "$1" fsdax -a 2M && pfn=$(pfn_dev_of "$1") && [ -n "$pfn" ] || return 1
	[ -e "/sys/bus/nd/drivers/$drv/$pfn" ] || { echo "$pfn not bound to $drv"; return 1; }
	[ -b "/dev/$(blockdev_of "$1")" ] || { echo "no block device for $1"; return 1; }
}
check "$nfit1 made fsdax again: its pfn device bound to $drv, with a block device" fsdax_again "$nfit1"

# Leave the namespaces raw for the next test.
setup "$nfit0 and $nfit1 left raw" raw_again "$nfit0" "$nfit1"
ktap_finished
