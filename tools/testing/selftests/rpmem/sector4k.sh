#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Poison on namespaces with 4096-byte logical blocks. Such namespaces are
# made from labels: the guest's third NVDIMM has a label area
# (RPMEM_LABEL_NVDIMM=1 in vm.sh, the labels guest of make test), its labels
# are initialised and a raw namespace of 4096-byte sectors is created on
# it. sysfs badblocks stays in 512-byte sectors, the I/O is in 4 KiB
# blocks:
# - one poisoned 512-byte sector fails the 4 KiB block that holds it with
#   EIO, its neighbours read the data written;
# - a 4 KiB write over the block repairs it (the record goes) and it reads
#   back; a record of a whole block the same;
# - the same as fsdax with xfs (4 KiB sectors) mounted -o dax: a poisoned
#   page of a file reads EIO, a recovery write repairs it, the file reads
#   back, and xfs_repair -n is clean.
# nd_pmem cannot clear poison on QEMU's NVDIMMs (no Clear Error command):
# its writes over poison fail with EIO and the records stay (measured, and
# the cases after them skipped).
cd "$(dirname "$0")" && . ./lib.sh

ktap_header
ktap_plan 11

check "load $DRIVER" driver_load

region=$(label_region)
[ -n "$region" ] || no_label_region "4096-byte sectors"
ktap_diag "labelled region $region"

# new_namespace MODE ARGS...: one namespace of MODE with 4096-byte
# sectors, of 512 MiB (xfs needs 300), whose name goes to NS.
new_namespace() { label_namespace "$region" "$1" -l 4096 -s 512M "${@:2}"; }

if ! setup "raw namespace with 4096-byte sectors on $region" new_namespace raw; then
	ktap_skip_rest "4096-byte sectors" "the namespace could not be created"
	ktap_finished
	exit
fi
b=$(blockdev_of "$NS")
dev=/dev/$b bb=/sys/block/$b/badblocks
expect_eq "$NS: /dev/$b with 4096-byte logical blocks" 4096 "$(read_attr /sys/block/$b/queue/logical_block_size)"
setup "$dev: 64 KiB written" io_is "done 65536" write "$dev" 0 65536 21 direct

# Sector 9 (512 bytes into block 1) poisoned: block 1 fails.
setup "$dev: sector 9 poisoned" write_attr "$bb" "9 1"
expect_eq "$dev: block 1 (sector 9 poisoned) reads EIO; blocks 0 and 2 the data written" \
	"errno=EIO|done 4096 done 4096" \
	"$(./rpmem_io read "$dev" 4096 4096 direct)|$(./rpmem_io check "$dev" 0 4096 21 8192 4096 21 direct)"
write_block() { ./rpmem_io write "$dev" "$1" 4096 "$2" direct; }
if [ "$DRIVER" = nd_pmem ]; then
	expect_eq "$dev: a write of block 1 fails with EIO, the record stays (nd_pmem cannot clear poison here)" \
		"errno=EIO|9 1" "$(write_block 4096 22)|$(<"$bb")"
	ktap_skip "$dev: a whole-block record" "nd_pmem cannot clear poison on QEMU's NVDIMMs"
else
	expect_eq "$dev: a write of block 1 repairs it: the record gone, the block reads back" \
		"done 4096||done 4096" "$(write_block 4096 22)|$(<"$bb")|$(./rpmem_io check "$dev" 4096 4096 22 direct)"
	setup "$dev: sectors 24-31 (block 3) poisoned" write_attr "$bb" "24 8"
	expect_eq "$dev: block 3 reads EIO, a write repairs it, it reads back" \
		"errno=EIO|done 4096||done 4096" \
		"$(./rpmem_io read "$dev" 12288 4096 direct)|$(write_block 12288 23)|$(<"$bb")|$(./rpmem_io check "$dev" 12288 4096 23 direct)"
fi

# fsdax with xfs, 4 KiB sectors.
if ! setup "fsdax namespace with 4096-byte sectors on $region" new_namespace fsdax -a 2M; then
	ktap_skip_rest "4096-byte sectors, fsdax" "the namespace could not be created"
	ktap_finished
	exit
fi
b=$(blockdev_of "$NS")
dev=/dev/$b bb=/sys/block/$b/badblocks m=$(mnt_dir "$b")
expect_eq "$NS fsdax: /dev/$b with 4096-byte logical blocks" 4096 "$(read_attr /sys/block/$b/queue/logical_block_size)"
check "xfs (4096-byte sectors) on $dev mounted -o dax" sh -c "mkfs.xfs -f -q -s size=4096 $dev && mount -o dax $dev $m"
f=$m/file
setup "$f: 64 KiB written" sh -c "touch $f && ./rpmem_io write $f 0 65536 24 | grep -qx 'done 65536' && sync"
off=$(./rpmem_io phys "$f" 8192)
setup "$f: page 2 poisoned" write_attr "$bb" "$((off / 512)) 8"
expect_eq "$f: page 2 reads EIO, pages 1 and 3 the data written" "errno=EIO|done 4096 done 4096" \
	"$(./rpmem_io read "$f" 8192 4096)|$(./rpmem_io check "$f" 4096 4096 24 12288 4096 24)"
if [ "$DRIVER" = nd_pmem ]; then
	expect_eq "$f: a recovery write of page 2 fails (nd_pmem: EFAULT on QEMU's NVDIMMs), the record stays" \
		"errno=EFAULT|$((off / 512)) 8" "$(./rpmem_io write "$f" 8192 4096 25)|$(<"$bb")"
	ktap_skip "$f: the file reads back" "not repaired (nd_pmem, above)"
else
	expect_eq "$f: a recovery write of page 2 repairs it: the record gone" "done 4096|" \
		"$(./rpmem_io write "$f" 8192 4096 25)|$(<"$bb")"
	expect_eq "$f: the file reads back" "done 8192 done 4096 done 53248" \
		"$(./rpmem_io check "$f" 0 8192 24 8192 4096 25 12288 53248 24)"
fi
if [ "$DRIVER" = nd_pmem ]; then
	umount "$m"
	ktap_skip "xfs consistent (xfs_repair -n)" "the poisoned page stays (nd_pmem, above): xfs_repair's reads of it fail with EIO"
else
	check "xfs consistent (umount, xfs_repair -n)" sh -c "umount $m && xfs_repair -n $dev"
fi
setup "$region emptied" ndctl destroy-namespace all -r "$region" -f
ktap_finished
