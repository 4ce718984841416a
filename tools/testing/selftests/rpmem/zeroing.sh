#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Zeroing and discard over poison. On a raw e820 namespace: BLKDISCARD
# (neither driver supports discard: EOPNOTSUPP, the record stays),
# BLKZEROOUT over a whole poisoned range (the block layer writes zero pages:
# the write clears the poison, the record goes and zeroes read back) and
# over half of one (the zeroed half is repaired, the other half keeps its
# record), and buffered (page cache) reads over poison (EIO, a short read
# up to the poisoned page, the neighbours readable): the same results with
# both drivers. On DAX files of xfs and ext4: fallocate PUNCH_HOLE and
# ZERO_RANGE of a whole poisoned page (the file
# reads zeroes there; the block is freed or made unwritten, not rewritten,
# so the device keeps its record) and ZERO_RANGE of part of a poisoned page
# (the page cannot be mapped to zero it in place: EIO; the record stays and
# the rest of the file is intact), then a write over each poisoned page
# (rpmem repairs it; nd_pmem's DAX recovery write fails with EFAULT on
# QEMU's NVDIMMs, and on ext4, which reuses the poisoned block for the
# zeroed range, its later write fails with EIO: nothing is lost, nothing
# repaired).
cd "$(dirname "$0")" && . ./lib.sh

FS_CASES=10
ktap_header
ktap_plan $((1 + 11 + 2 * (1 + FS_CASES)))

check "load $DRIVER" driver_load
e820=$(namespace_on e820 0)
nfit0=$(namespace_on ACPI.NFIT 0)
nfit1=$(namespace_on ACPI.NFIT 1)

# listed FILE SECTOR COUNT: whether the badblocks file has that record.
listed() { has_line "$1" "$2 $3"; }

# --- raw ---------------------------------------------------------------------
setup "$e820 raw" namespace_mode "$e820" raw
b=$(blockdev_of "$e820")
dev=/dev/$b bb=/sys/block/$b/badblocks
setup "$dev: 64 KiB written" io_is "done 65536" write "$dev" 0 65536 7 direct

# Block 1 (sectors 8..15) poisoned at sector 8.
setup "$dev: sector 8 poisoned" write_attr "$bb" "8 1"
expect_eq "$dev: BLKDISCARD of the poisoned block refused with EOPNOTSUPP" "errno=EOPNOTSUPP" \
	"$(./rpmem_io blk "$dev" discard 4096 4096)"
check "$dev: the record stays after the refused discard" listed "$bb" 8 1
expect_eq "$dev: the poisoned block reads EIO, its neighbours the data written" \
	"errno=EIO|done 4096 done 4096" \
	"$(./rpmem_io read "$dev" 4096 4096 direct)|$(./rpmem_io check "$dev" 0 4096 7 8192 4096 7 direct)"

# BLKZEROOUT of the whole poisoned block: written with zero pages.
expect_eq "$dev: BLKZEROOUT over the poisoned block: done, the record gone, zeroes read back" \
	"done|gone|done 4096" \
	"$(./rpmem_io blk "$dev" zeroout 4096 4096)|$(listed "$bb" 8 1 && echo listed || echo gone)|$(./rpmem_io zeroes "$dev" 4096 4096 direct)"
expect_eq "$dev: the neighbours of the zeroed block unchanged" "done 4096 done 4096" \
	"$(./rpmem_io check "$dev" 0 4096 7 8192 4096 7 direct)"

# Sectors 20..23 poisoned; BLKZEROOUT of sectors 22..25 rewrites half of it.
setup "$dev: sectors 20-23 poisoned" write_attr "$bb" "20 4"
expect_eq "$dev: BLKZEROOUT of sectors 22-25 over half the record: done" "done" \
	"$(./rpmem_io blk "$dev" zeroout $((22 * 512)) 2048)"
expect_eq "$dev: sectors 20-21 still recorded, 22-23 no longer" "20 2|listed|gone" \
	"$(grep '^20 ' "$bb")|$(listed "$bb" 20 2 && echo listed || echo gone)|$(grep -q '^2[23] ' "$bb" && echo listed || echo gone)"
expect_eq "$dev: sectors 22-25 read zeroes, 20-21 EIO, 16-19 the data written" \
	"done 2048|errno=EIO|done 2048" \
	"$(./rpmem_io zeroes "$dev" $((22 * 512)) 2048 direct)|$(./rpmem_io read "$dev" $((20 * 512)) 1024 direct)|$(./rpmem_io check "$dev" $((16 * 512)) 2048 7 direct)"

# Buffered reads: block 5 (sectors 40..47) poisoned at sector 42.
setup "$dev: sector 42 poisoned" write_attr "$bb" "42 1"
setup "$dev: page cache dropped" blockdev --flushbufs "$dev"
expect_eq "$dev: buffered read of the poisoned page: EIO" "errno=EIO" "$(./rpmem_io read "$dev" $((5 * 4096)) 4096)"
expect_eq "$dev: buffered read of pages 4-6: a short read up to the poisoned page, with the data written" \
	"done 4096" "$(./rpmem_io check "$dev" $((4 * 4096)) 12288 7)"
expect_eq "$dev: buffered read of the pages after it: the data written" \
	"done 8192" "$(./rpmem_io check "$dev" $((6 * 4096)) 8192 7)"

# --- DAX files ---------------------------------------------------------------
# poison_page FILE PAGE BB: every sector of page PAGE of FILE recorded.
poison_page() {
	local off
	off=$(./rpmem_io phys "$1" $(($2 * 4096))) && [[ $off =~ ^[0-9]+$ ]] || return 1
	PAGE_SECTOR=$((off / 512))
	write_attr "$3" "$PAGE_SECTOR 8"
}

fs_cases() {
	local fs=$1 ns=$2 b m f bb s
	setup "$ns fsdax" namespace_mode "$ns" fsdax -a 2M
	b=$(blockdev_of "$ns")
	m=$(mnt_dir "$b")
	bb=/sys/block/$b/badblocks
	case $fs in
	xfs) check "xfs on /dev/$b mounted -o dax" sh -c "mkfs.xfs -f -q /dev/$b && mount -o dax /dev/$b $m" ;;
	ext4) check "ext4 on /dev/$b mounted -o dax" sh -c "mkfs.ext4 -F -q /dev/$b && mount -o dax /dev/$b $m" ;;
	esac
	f=$m/file
	setup "$f: 64 KiB written" sh -c "touch $f && ./rpmem_io write $f 0 65536 9 | grep -qx 'done 65536' && sync"

	# PUNCH_HOLE of page 2, poisoned whole.
	setup "$f: page 2 poisoned" poison_page "$f" 2 "$bb"
	s=$PAGE_SECTOR
	expect_eq "$fs: PUNCH_HOLE of the poisoned page 2: done, it reads zeroes" "done|done 4096" \
		"$(./rpmem_io falloc "$f" punch 8192 4096)|$(./rpmem_io zeroes "$f" 8192 4096)"
	check "$fs: the freed block keeps its record (it was not rewritten)" listed "$bb" "$s" 8
	expect_eq "$fs: pages 1 and 3 unchanged" "done 4096 done 4096" "$(./rpmem_io check "$f" 4096 4096 9 12288 4096 9)"

	# ZERO_RANGE of page 5, poisoned whole.
	setup "$f: page 5 poisoned" poison_page "$f" 5 "$bb"
	s=$PAGE_SECTOR
	expect_eq "$fs: ZERO_RANGE of the poisoned page 5: done, it reads zeroes" "done|done 4096" \
		"$(./rpmem_io falloc "$f" zero $((5 * 4096)) 4096)|$(./rpmem_io zeroes "$f" $((5 * 4096)) 4096)"
	check "$fs: the block's record stays (made unwritten, not rewritten)" listed "$bb" "$s" 8
	# ext4 makes the same block unwritten: the write meets the poison.
	local w r
	w=$(./rpmem_io write "$f" $((5 * 4096)) 4096 10)
	if [ "$w" = "done 4096" ]; then
		r=$(./rpmem_io check "$f" $((5 * 4096)) 4096 10)
	else
		r="$(./rpmem_io zeroes "$f" $((5 * 4096)) 4096) (zeroes)"
	fi
	if [ "$DRIVER" = nd_pmem ] && [ "$fs" = ext4 ]; then
		expect_eq "$fs: a write of page 5 after it: EIO (nd_pmem cannot clear the poison of the reused block), it still reads zeroes" \
			"errno=EIO|done 4096 (zeroes)" "$w|$r"
	else
		expect_eq "$fs: a write of page 5 after it reads back" "done 4096|done 4096" "$w|$r"
	fi

	# ZERO_RANGE of 1 KiB inside page 8, poisoned whole.
	setup "$f: page 8 poisoned" poison_page "$f" 8 "$bb"
	s=$PAGE_SECTOR
	expect_eq "$fs: ZERO_RANGE of 1 KiB inside the poisoned page 8: EIO" "errno=EIO" \
		"$(./rpmem_io falloc "$f" zero $((8 * 4096 + 1024)) 1024)"
	expect_eq "$fs: page 8 keeps its record and reads EIO" "listed|errno=EIO" \
		"$(listed "$bb" "$s" 8 && echo listed || echo gone)|$(./rpmem_io read "$f" $((8 * 4096)) 4096)"
	expect_eq "$fs: the rest of the file unchanged (pages 0-1, 3-4, 6-7, 9-15)" \
		"done 8192 done 8192 done 8192 done 28672" \
		"$(./rpmem_io check "$f" 0 8192 9 12288 8192 9 24576 8192 9 36864 28672 9)"
	w="$(./rpmem_io write "$f" $((8 * 4096)) 4096 11)|$(listed "$bb" "$s" 8 && echo listed || echo gone)|$(./rpmem_io check "$f" $((8 * 4096)) 4096 11)"
	if [ "$DRIVER" = nd_pmem ]; then
		expect_eq "$fs: a recovery write of page 8: EFAULT (nd_pmem cannot clear poison on QEMU's NVDIMMs), the page still poisoned" \
			"errno=EFAULT|listed|errno=EIO" "$w"
	else
		expect_eq "$fs: a recovery write of page 8 repairs it" "done 4096|gone|done 4096" "$w"
	fi
	umount "$m"
}
fs_cases xfs "$nfit0"
fs_cases ext4 "$nfit1"
# As the suites after this one expect them.
setup "$nfit0 and $nfit1 left raw" raw_again "$nfit0" "$nfit1"

ktap_finished
