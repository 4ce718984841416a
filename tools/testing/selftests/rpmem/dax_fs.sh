#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ext4 and xfs (reflink, rmapbt) mounted with -o dax on the driver's fsdax
# namespace: the mount and its files are DAX, data written with write(2)
# and through shared (MAP_SYNC) mappings reads back, 2 MiB aligned files get
# PMD faults, rmmod is refused while mounted, and the data survives
# unmount, rmmod, insmod and a new mount.
cd "$(dirname "$0")" && . ./lib.sh

# The file systems, FS_CASES cases each.
fss=(xfs ext4)
FS_CASES=12
ktap_header
ktap_plan $((1 + ${#fss[@]} * FS_CASES))

check "load $DRIVER" driver_load
ns=$(namespace_on ACPI.NFIT 0)
setup "$ns fsdax" namespace_mode "$ns" fsdax -a 2M
bdev=/dev/$(blockdev_of "$ns")
tracing=/sys/kernel/tracing
[ -d $tracing/events ] || setup "tracefs mounted" mount -t tracefs tracefs $tracing

# STATX_ATTR_DAX (0x200000) of file $1.
statx_dax() {
	local attrs
	attrs=$(xfs_io -c "statx -r" "$1" | sed -n 's/^stat.attributes = //p')
	[ -n "$attrs" ] && (( attrs & 0x200000 )) && echo dax || echo "nodax ($attrs)"
}

# PMD faults that mapped a huge page while rpmem_mmap touched FILE (none,
# with rpmem_mmap's error, when it failed).
pmd_faults() {
	local out rc
	echo 0 >$tracing/tracing_on
	echo >$tracing/trace
	echo 1 >$tracing/events/fs_dax/dax_pmd_fault_done/enable
	echo 1 >$tracing/tracing_on
	out=$(./rpmem_mmap touch "$1" $((4 << 20)))
	rc=$?
	echo 0 >$tracing/tracing_on
	echo 0 >$tracing/events/fs_dax/dax_pmd_fault_done/enable
	[ $rc = 0 ] || { echo "none: rpmem_mmap touch failed: $out"; return 1; }
	grep -c 'dax_pmd_fault_done.*NOPAGE' $tracing/trace
}

remount() {
	umount "$1" && driver_unload && driver_load && mount -o dax "$bdev" "$1"
}

setup "8 MiB of random bytes" to_file /tmp/ref head -c 8M /dev/urandom
for fs in "${fss[@]}"; do
	m=$(mnt_dir $fs)
	case $fs in
	xfs) mkfs=(mkfs.xfs -f -q -m reflink=1,rmapbt=1 -d su=2m,sw=1) ;;
	ext4) mkfs=(mkfs.ext4 -F -q -b 4096 -E stride=512,stripe_width=512) ;;
	esac
	check "$fs: mkfs and mount -o dax on $bdev" sh -c "${mkfs[*]} $bdev && mount -o dax $bdev $m"
	opts=$(awk -v m="$m" '$2 == m { print $4 }' /proc/mounts)
	check "$fs: mounted with dax=always ($opts)" sh -c "echo '$opts' | grep -q 'dax=always'"

	setup "$fs: 8 MiB copied to $m/file" cp /tmp/ref "$m/file" && setup "$fs: sync" sync
	expect_eq "$fs: file is DAX (STATX_ATTR_DAX)" dax "$(statx_dax "$m/file")"
	expect_eq "$fs: 8 MiB written with write(2) read back" "$(sha256sum </tmp/ref)" "$(sha256sum <"$m/file")"

	setup "$fs: 16 MiB file" truncate -s 16M "$m/mapped"
	check "$fs: mmap write + msync, then mmap read back" sh -c \
		"./rpmem_mmap write $m/mapped 16777216 42 && ./rpmem_mmap verify $m/mapped 16777216 42"
	setup "$fs: 1 MiB file" truncate -s 1M "$m/synced"
	check "$fs: MAP_SYNC mapping accepted, written, read back" sh -c \
		"./rpmem_mmap write $m/synced 1048576 43 sync && ./rpmem_mmap verify $m/synced 1048576 43"

	setup "$fs: 4 MiB allocated file" fallocate -l 4M "$m/huge"
	n=$(pmd_faults "$m/huge")
	check "$fs: 2 MiB aligned file gets PMD faults ($n huge mappings)" test "$n" -ge 1

	check "rmmod of the driver refused while $fs is mounted" not driver_unload_quiet
	check "$fs: unmount, unload, load, mount again" remount "$m"
	check "$fs: write(2) data survived" sh -c "cmp -s /tmp/ref $m/file"
	check "$fs: mmap data survived" ./rpmem_mmap verify "$m/mapped" 16777216 42
	check "$fs: fsck clean" sh -c "umount $m && case $fs in xfs) xfs_repair -n $bdev ;; ext4) fsck.ext4 -fn $bdev ;; esac >/tmp/fsck.log 2>&1 || { tail -5 /tmp/fsck.log; false; }"
	mountpoint -q "$m" && setup "$fs: unmounted" umount "$m"
done
setup "$ns left raw" namespace_mode "$ns" raw
ktap_finished
