#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Poison in a block that two files share (xfs, reflink and rmapbt, -o dax,
# on an fsdax namespace). File A is written and cloned whole into B
# (FICLONE); one page of the shared extent is poisoned (sysfs badblocks):
# both owners get EIO from pread and SIGBUS BUS_MCEERR_AR from a mapped
# read. A write of that page through A is a copy-on-write, which fs/dax.c
# starts by copying the old block, even when the write covers it whole: it
# fails with EIO and changes nothing (with either driver). Punching the
# page out of A and writing it gives A a new block, while B still owns the
# poisoned one (EIO, the record stays) until a recovery write through B,
# now its only owner, repairs it (rpmem; nd_pmem's fails with EFAULT).
# Then a simulated memory failure (MADV_HWPOISON through A, with
# vm.memory_failure_early_kill=1) on another shared page reaches both
# owners through dax_holder_notify_failure and xfs's reverse map: the
# caller gets BUS_MCEERR_AR, a process that maps the page through B gets
# BUS_MCEERR_AO. xfs_repair -n is clean afterwards.
cd "$(dirname "$0")" && . ./lib.sh

ktap_header
ktap_plan 13

# With its default parameters: MADV_HWPOISON below is not recorded.
[ "$DRIVER" = rpmem ] && driver_unload_quiet
check "load $DRIVER with its default parameters" driver_load
ns=$(namespace_on ACPI.NFIT 0)
setup "$ns fsdax" namespace_mode "$ns" fsdax -a 2M
b=$(blockdev_of "$ns")
m=$(mnt_dir "$b")
bb=/sys/block/$b/badblocks
tmp=$(mktemp -d)
page=4096 size=65536
sigbus="sigbus code=BUS_MCEERR_AR lsb=12 in_page=1"
check "xfs (reflink, rmapbt) on /dev/$b mounted -o dax" sh -c \
	"mkfs.xfs -f -q -m reflink=1,rmapbt=1 /dev/$b && mount -o dax /dev/$b $m"
a=$m/a c=$m/b
setup "$a written, cloned into $c" sh -c \
	"touch $a && ./rpmem_io write $a 0 $size 31 | grep -qx 'done $size' && cp --reflink=always $a $c && sync"

# Page 3 of both files is one block.
pa=$(./rpmem_io phys "$a" $((3 * page)))
pc=$(./rpmem_io phys "$c" $((3 * page)))
expect_eq "page 3 of both files is the same block" "$pa" "$pc"
s=$((pa / 512))
setup "page 3 (sector $s) poisoned" write_attr "$bb" "$s 8"

expect_eq "pread of page 3: EIO through either file" "errno=EIO|errno=EIO" \
	"$(./rpmem_io read "$a" $((3 * page)) $page)|$(./rpmem_io read "$c" $((3 * page)) $page)"
expect_eq "mapped read of page 3: $sigbus through either file" "$sigbus|$sigbus" \
	"$(./rpmem_fault read "$a" $((3 * page)))|$(./rpmem_fault read "$c" $((3 * page)))"

# A write through A is a copy-on-write, and fs/dax.c copies the old block
# to the new one first, even for a whole page: it reads the poison.
expect_eq "a write of page 3 through $a: EIO (copy-on-write reads the poisoned block first), nothing changed" \
	"errno=EIO|errno=EIO|kept" \
	"$(./rpmem_io write "$a" $((3 * page)) $page 32)|$(./rpmem_io read "$a" $((3 * page)) $page)|$([ "$(./rpmem_io phys "$a" $((3 * page)))" = "$pa" ] && echo kept || echo moved)"
# Dropping A's share instead: a hole, then a new block.
expect_eq "$a: PUNCH_HOLE of page 3, then a write: a new block, its data reads back" "done|done 4096|done 4096|moved" \
	"$(./rpmem_io falloc "$a" punch $((3 * page)) $page)|$(./rpmem_io write "$a" $((3 * page)) $page 32)|$(./rpmem_io check "$a" $((3 * page)) $page 32)|$([ "$(./rpmem_io phys "$a" $((3 * page)))" != "$pa" ] && echo moved || echo "not moved")"
expect_eq "$c: page 3 still EIO, the record stays" "errno=EIO|listed" \
	"$(./rpmem_io read "$c" $((3 * page)) $page)|$(has_line "$bb" "$s 8" && echo listed || echo gone)"

w="$(./rpmem_io write "$c" $((3 * page)) $page 33)|$(has_line "$bb" "$s 8" && echo listed || echo gone)|$(./rpmem_io check "$c" $((3 * page)) $page 33)"
if [ "$DRIVER" = nd_pmem ]; then
	expect_eq "a recovery write of page 3 through $c: EFAULT (nd_pmem cannot clear poison on QEMU's NVDIMMs)" \
		"errno=EFAULT|listed|errno=EIO" "$w"
else
	expect_eq "a recovery write of page 3 through $c (its only owner now) repairs the block" "done 4096|gone|done 4096" "$w"
fi
expect_eq "the other pages of both files unchanged" "done 12288 done 49152 done 12288 done 49152" \
	"$(./rpmem_io check "$a" 0 12288 31 16384 49152 31) $(./rpmem_io check "$c" 0 12288 31 16384 49152 31)"

# A memory failure on shared page 6 reaches both owners.
early=$(cat /proc/sys/vm/memory_failure_early_kill)
echo 1 >/proc/sys/vm/memory_failure_early_kill
./rpmem_fault hold "$c" 6 1 10 >"$tmp/holder.out" &
hpid=$!
for ((i = 0; i < 150; i++)); do has_line "$tmp/holder.out" ready && break; sleep 0.2; done
expect_eq "MADV_HWPOISON of page 6 through $a: BUS_MCEERR_AR to the caller" \
	"sigbus code=BUS_MCEERR_AR lsb=12 stage=madvise page=6" "$(./rpmem_fault hwpoison "$a" 6 1)"
wait $hpid
echo "$early" >/proc/sys/vm/memory_failure_early_kill
expect_eq "the process that maps page 6 through $c: BUS_MCEERR_AO (xfs found both owners)" \
	"sigbus code=BUS_MCEERR_AO lsb=12 stage=hold page=6" "$(tail -n 1 "$tmp/holder.out")"

umount "$m"
if [ "$DRIVER" = nd_pmem ]; then
	ktap_skip "xfs_repair -n clean" "the poison nd_pmem could not clear lies in the first 512 KiB that xfs_repair reads at once: EIO"
else
	check "xfs_repair -n clean" xfs_repair -n "/dev/$b"
fi
setup "$ns left raw" namespace_mode "$ns" raw
rm -rf "$tmp"
ktap_finished
