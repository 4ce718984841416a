#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Poison in file system metadata, on xfs and ext4 mounted -o dax on NFIT
# fsdax namespaces. Three blocks per file system, each on a freshly made
# one (on a namespace made fsdax anew): the inode block of a file, a
# directory block, and a header the mount needs (xfs: the inode header of
# AG 0, the AGI, which the mount reads for its per-AG reservations; ext4:
# the group descriptors, block 1). The file system is populated (a
# directory "keep" of 8 files, one "victim" of 40, too many for an xfs
# short-form directory), unmounted, the 4 KiB page that holds the block is
# poisoned (sysfs badblocks) and the file system mounted again, so that the
# block is read from the media:
# - the access that needs the block fails with EIO (open of the file,
#   readdir of the directory, the mount itself), and the file system says
#   so in dmesg; the other files read back;
# - the recovery: unmounted, the page is written with zeroes (BLKZEROOUT,
#   which clears the poison: the record goes), and the file system's
#   repair tool (xfs_repair, e2fsck -fy) rebuilds what the zeroes lost;
# - then the repair tool finds nothing more (xfs_repair -n, e2fsck -fn),
#   the file system mounts, every file of "keep" reads back byte for byte,
#   and a new file can be written and read.
# The kernel must stay clean throughout (vm.sh's dmesg check). With
# nd_pmem the failures are the same (metadata goes through the block path,
# where both drivers fail a read of a poisoned sector with EIO), but it
# cannot clear poison on QEMU's NVDIMMs (it needs the bus's Clear Error
# command): the BLKZEROOUT fails with EIO, the record stays, and the
# repair and, for the header, the mount are skipped.
cd "$(dirname "$0")" && . ./lib.sh

CASES=7
ktap_header
ktap_plan $((1 + 2 * 3 * CASES + 1))

check "load $DRIVER" driver_load
nfit0=$(namespace_on ACPI.NFIT 0)
nfit1=$(namespace_on ACPI.NFIT 1)

# populate FS DEV MNT: a new file system on DEV with keep/k-1..8 (16 KiB
# each, seeds 1..8) and victim/v-1..40 (4 KiB, seeds 101..140), synced and
# unmounted. The inode numbers of victim/v-20 and of victim go to
# VICTIM_INO and DIR_INO.
populate() {
	local fs=$1 dev=$2 m=$3 i
	umount "$m" 2>/dev/null
	case $fs in
	xfs) mkfs.xfs -f -q "$dev" ;;
	ext4) mkfs.ext4 -F -q "$dev" ;;
	esac || return 1
	mount -o dax "$dev" "$m" && mkdir "$m/keep" "$m/victim" || return 1
	for ((i = 1; i <= 8; i++)); do
		touch "$m/keep/k-$i" && io_is "done 16384" write "$m/keep/k-$i" 0 16384 $i || return 1
	done
	for ((i = 1; i <= 40; i++)); do
		touch "$m/victim/v-$i" && io_is "done 4096" write "$m/victim/v-$i" 0 4096 $((100 + i)) || return 1
	done
	VICTIM_INO=$(stat -c %i "$m/victim/v-20") DIR_INO=$(stat -c %i "$m/victim")
	sync && umount "$m"
}

# keep_intact MNT: every file of keep reads back what populate wrote.
keep_intact() {
	local i out
	for ((i = 1; i <= 8; i++)); do
		out=$(./rpmem_io check "$1/keep/k-$i" 0 16384 $i)
		[ "$out" = "done 16384" ] || { echo "keep/k-$i: $out"; return 1; }
	done
}

# The 512-byte sector (from the start of the device) of a metadata block:
# xfs_db's daddr, or ext4's 4 KiB block number times 8 (plus an inode's
# offset in its block).
xfs_sector() {
	local dev=$1
	shift
	xfs_db -r "$@" -c daddr "$dev" | sed -n 's/^current daddr is \([0-9]*\)$/\1/p'
}
ext4_inode_sector() {
	debugfs -R "imap <$2>" "$1" 2>/dev/null |
		sed -n 's/^[[:space:]]*located at block \([0-9]*\), offset 0x\([0-9a-f]*\)$/\1 \2/p' |
		{ read -r blk off && echo $((blk * 8 + 0x$off / 512)); }
}
ext4_block_sector() {
	debugfs -R "bmap <$2> 0" "$1" 2>/dev/null | { read -r blk && [[ $blk =~ ^[0-9]+$ ]] && echo $((blk * 8)); }
}

# locate FS DEV WHAT: the sector of WHAT (inode, dir or header) into SECTOR.
locate() {
	local fs=$1 dev=$2
	case $fs:$3 in
	xfs:inode) SECTOR=$(xfs_db -r -c "convert ino $VICTIM_INO daddr" "$dev" | sed -n 's/^.*(\([0-9]*\))$/\1/p') ;;
	xfs:dir) SECTOR=$(xfs_sector "$dev" -c "inode $DIR_INO" -c "dblock 0") ;;
	xfs:header) SECTOR=$(xfs_sector "$dev" -c "agi 0") ;;
	ext4:inode) SECTOR=$(ext4_inode_sector "$dev" "$VICTIM_INO") ;;
	ext4:dir) SECTOR=$(ext4_block_sector "$dev" "$DIR_INO") ;;
	ext4:header) SECTOR=8 ;;
	esac
	[[ $SECTOR =~ ^[0-9]+$ ]] || { echo "no sector for the $3 block: '$SECTOR'"; return 1; }
	echo "$3 block at sector $SECTOR"
}

# The access that needs the block (what access_what says), which must
# fail with EIO.
access() {
	local fs=$1 dev=$2 m=$3
	case $4 in
	inode) ./rpmem_io read "$m/victim/v-20" 0 4096 ;;
	dir) ./rpmem_io list "$m/victim" ;;
	header) ./rpmem_io mount "$dev" "$m" "$fs" dax ;;
	esac
}
access_what() {
	case $2 in
	inode) echo "open of victim/v-20, its inode block poisoned" ;;
	dir) echo "readdir of victim, its directory block poisoned" ;;
	header) echo "mount, the $([ "$1" = xfs ] && echo AGI of AG 0 || echo group descriptor block) poisoned" ;;
	esac
}
# The failed read as the file system reports it in dmesg, after line $1.
report() {
	local pattern
	case $2 in
	xfs) pattern="metadata I/O error" ;;
	ext4) pattern="EXT4-fs.*error|can't read group descriptor" ;;
	esac
	dmesg | tail -n +$(($1 + 1)) | grep -m1 -E "$pattern" | sed 's/^\[[^]]*\] //'
}
# reported_keep_intact LINE FS MNT: the file system reported the failed
# read and every file of keep/ reads back.
reported_keep_intact() {
	[ -n "$(report "$1" "$2")" ] || { echo "no report of the failed read in dmesg"; return 1; }
	keep_intact "$3"
}

# repair FS DEV: the repair tool, allowed to change things (exit status 0
# for xfs_repair; 0 or 1, errors corrected, for e2fsck).
repair() {
	case $1 in
	xfs) xfs_repair "$2" ;;
	ext4) e2fsck -fy "$2"; [ $? -le 1 ] ;;
	esac
}
# repair_clean FS DEV: the check-only run finds nothing.
repair_clean() {
	case $1 in
	xfs) xfs_repair -n "$2" ;;
	ext4) e2fsck -fn "$2" ;;
	esac
}
# mount_keep_intact DEV MNT: mounts -o dax, every file of keep/ reads back.
mount_keep_intact() { mount -o dax "$1" "$2" && keep_intact "$2"; }

# scenario FS NS WHAT: the cases for one metadata block.
scenario() {
	local fs=$1 ns=$2 w=$3 b dev m bb page line i
	# A new fsdax namespace each time: no record of an earlier scenario
	# is left (nd_pmem cannot clear them; see below).
	if setup "$fs $w: $ns made fsdax" namespace_mode "$ns" fsdax -a 2M; then
		b=$(blockdev_of "$ns")
		dev=/dev/$b m=$(mnt_dir "$b") bb=/sys/block/$b/badblocks
	fi
	if [ -z "$b" ] || ! setup "$fs $w: populated" populate "$fs" "$dev" "$m" ||
		! setup "$fs $w: located" locate "$fs" "$dev" "$w"; then
		for ((i = 0; i < CASES; i++)); do ktap_skip "$fs $w: case $((i + 1)) of $CASES" "setup failed"; done
		return
	fi
	page=$((SECTOR / 8 * 8))
	ktap_diag "$fs: the $w block at sector $SECTOR of $dev; sectors $page-$((page + 7)) poisoned"
	setup "$fs $w: page poisoned" write_attr "$bb" "$page 8"
	line=$(dmesg | wc -l)
	[ "$w" = header ] || setup "$fs $w: mounted again" mount -o dax "$dev" "$m"
	expect_eq "$fs: $(access_what "$fs" "$w"): EIO" \
		"$([ "$w" = inode ] && echo "open: ")errno=EIO" "$(access "$fs" "$dev" "$m" "$w")"
	ktap_diag "$fs $w: dmesg: $(report "$line" "$fs")"
	if [ "$w" = header ]; then
		check "$fs $w: the file system reported the failed read in dmesg" test -n "$(report "$line" "$fs")"
	else
		check "$fs $w: the file system reported the failed read in dmesg; keep/ reads back" \
			reported_keep_intact "$line" "$fs" "$m"
	fi
	mountpoint -q "$m" && umount "$m"
	if [ "$DRIVER" = nd_pmem ]; then
		# nd_pmem clears poison only through the bus's Clear Error
		# command, which QEMU's NFIT does not have: the write fails.
		expect_eq "$fs $w: BLKZEROOUT of the poisoned page: EIO, the record stays (nd_pmem cannot clear poison on QEMU's NVDIMMs)" \
			"errno=EIO|$page 8" "$(./rpmem_io blk "$dev" zeroout $((page * 512)) 4096)|$(grep "^$page " "$bb")"
		ktap_skip "$fs $w: repair" "the poison stays (nd_pmem, above): the repair tool's reads of the page fail"
		ktap_skip "$fs $w: repair finds nothing" "no repair (nd_pmem, above)"
		if [ "$w" = header ]; then
			ktap_skip "$fs $w: mounted again" "the poisoned header stays (nd_pmem, above): the mount fails"
			ktap_skip "$fs $w: a new file" "not mounted (nd_pmem, above)"
			return
		fi
	else
		expect_eq "$fs $w: BLKZEROOUT of the poisoned page: done, the record gone" "done|" \
			"$(./rpmem_io blk "$dev" zeroout $((page * 512)) 4096)|$(grep "^$page " "$bb")"
		check "$fs $w: $([ "$fs" = xfs ] && echo xfs_repair || echo e2fsck -fy) repairs what the zeroes lost" \
			repair "$fs" "$dev"
		check "$fs $w: then $([ "$fs" = xfs ] && echo xfs_repair -n || echo e2fsck -fn) finds nothing" \
			repair_clean "$fs" "$dev"
	fi
	check "$fs $w: mounted -o dax again; every file of keep/ reads back" mount_keep_intact "$dev" "$m"
	expect_eq "$fs $w: a new file written and read back" "done|done 4096|done 4096" \
		"$(./rpmem_io create "$m/new")|$(./rpmem_io write "$m/new" 0 4096 77)|$(./rpmem_io check "$m/new" 0 4096 77)"
	umount "$m"
}

for fs_ns in "xfs $nfit0" "ext4 $nfit1"; do
	read -r fs ns <<<"$fs_ns"
	for w in inode dir header; do
		scenario "$fs" "$ns" $w
	done
done
check "$nfit0 and $nfit1 back to raw" raw_again "$nfit0" "$nfit1"
ktap_finished
