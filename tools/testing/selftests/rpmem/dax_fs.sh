#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ext4 and xfs mounted with -o dax on the driver's block devices: the mount
# is DAX, files are DAX (STATX_ATTR_DAX), and data written reads back.
cd "$(dirname "$0")" && . ./lib.sh

ktap_header
ktap_plan 9

check "load $DRIVER" driver_load
ns=$(namespace_on ACPI.NFIT 0)
namespace_mode "$ns" fsdax -a 2M
bdev=/dev/$(blockdev_of "$ns")

statx_dax() { xfs_io -c "statx -r" "$1" | awk '/stat.attributes/ { print and(strtonum($3), 0x200000) ? "dax" : "nodax" }'; }

for fs in xfs ext4; do
	m=$(mnt_dir $fs)
	case $fs in
	xfs) mkfs=(mkfs.xfs -f -q -m reflink=1,rmapbt=1) ;;
	ext4) mkfs=(mkfs.ext4 -F -q -b 4096) ;;
	esac
	check "$fs: mkfs and mount -o dax on $bdev" sh -c "${mkfs[*]} $bdev && mount -o dax $bdev $m"
	opts=$(awk -v m="$m" '$2 == m { print $4 }' /proc/mounts)
	check "$fs: /proc/mounts shows dax=always ($opts)" sh -c "echo '$opts' | grep -q 'dax=always'"
	head -c 8M /dev/urandom >/tmp/ref
	cp /tmp/ref "$m/file" && sync
	expect_eq "$fs: file is DAX (STATX_ATTR_DAX)" dax "$(statx_dax "$m/file")"
	echo 3 >/proc/sys/vm/drop_caches
	expect_eq "$fs: 8 MiB written and read back" "$(sha256sum </tmp/ref)" "$(sha256sum <"$m/file")"
	umount "$m"
done
namespace_mode "$ns" raw
ktap_finished
