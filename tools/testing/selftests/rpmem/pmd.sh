#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Poison under 2 MiB (PMD) mappings. On xfs and ext4, 2 MiB aligned, on
# fsdax namespaces with 2 MiB alignment, a 4 MiB file is read through a
# 2 MiB aligned shared mapping: two huge mappings (the fs_dax
# dax_pmd_fault_done trace event). Then page 5 of the first 2 MiB is
# poisoned and, after a remount (so that no DAX entry of the earlier
# mappings is left), a new process reads the file the same way: the huge
# fault of the first 2 MiB falls back to 4 KiB pages, every clean page reads
# the data written, and the poisoned page gives SIGBUS BUS_MCEERR_AR with
# si_addr in the page and si_addr_lsb 12 (the size of what is lost: one
# page, not 2 MiB); the second 2 MiB still maps huge. A recovery pwrite of
# the page repairs it (rpmem; nd_pmem's DAX recovery write fails with
# EFAULT on QEMU's NVDIMMs), and after a remount the whole file maps with
# 2 MiB pages again. Both drivers give the same si_addr_lsb (12: the
# finest there is).
cd "$(dirname "$0")" && . ./lib.sh

CASES=9
ktap_header
ktap_plan $((1 + 2 * CASES))

check "load $DRIVER" driver_load
nfit0=$(namespace_on ACPI.NFIT 0)
nfit1=$(namespace_on ACPI.NFIT 1)
tracing=/sys/kernel/tracing
size=$((4 << 20))
sigbus="sigbus code=BUS_MCEERR_AR lsb=12 in_page=1"

# mapped FILE SEED PAGE: rpmem_fault pmd's output, then "huge N fallback M":
# the 2 MiB faults that mapped a huge page and those that fell back.
mapped() {
	local out
	echo 0 >$tracing/tracing_on
	echo >$tracing/trace
	echo 1 >$tracing/events/fs_dax/dax_pmd_fault_done/enable
	echo 1 >$tracing/tracing_on
	out=$(./rpmem_fault pmd "$1" $size "$2" "$3")
	echo 0 >$tracing/tracing_on
	echo 0 >$tracing/events/fs_dax/dax_pmd_fault_done/enable
	echo "$out" | tr '\n' '|'
	echo "huge $(grep -c 'dax_pmd_fault_done.*NOPAGE' $tracing/trace) fallback $(grep -c 'dax_pmd_fault_done.*FALLBACK' $tracing/trace)"
}

fs_cases() {
	local fs=$1 ns=$2 b m f bb off s out mkfs
	setup "$ns fsdax, 2 MiB aligned" namespace_mode "$ns" fsdax -a 2M
	b=$(blockdev_of "$ns")
	m=$(mnt_dir "$b")
	bb=/sys/block/$b/badblocks
	f=$m/huge
	case $fs in
	xfs) mkfs=(mkfs.xfs -f -q -d su=2m,sw=1) ;;
	ext4) mkfs=(mkfs.ext4 -F -q -b 4096 -E stride=512,stripe_width=512) ;;
	esac
	check "$fs: 2 MiB aligned, mounted -o dax on /dev/$b" sh -c "${mkfs[*]} /dev/$b && mount -o dax /dev/$b $m"
	setup "$f: 4 MiB allocated and written" sh -c \
		"fallocate -l $size $f && ./rpmem_io write $f 0 $size 21 | grep -qx 'done $size' && sync"
	expect_eq "$fs: the clean file reads back through two 2 MiB mappings" \
		"clean ok|ok|huge 2 fallback 0" "$(mapped "$f" 21 5)"

	off=$(./rpmem_io phys "$f" $((5 * 4096)))
	s=$((off / 512))
	setup "$fs: page 5 (sector $s) poisoned" write_attr "$bb" "$s 8"
	setup "$fs: remounted" sh -c "umount $m && mount -o dax /dev/$b $m"
	out=$(mapped "$f" 21 5)
	expect_eq "$fs: every clean page of the poisoned 2 MiB reads the data written" "clean ok" "${out%%|*}"
	expect_eq "$fs: the poisoned page: $sigbus" "$sigbus" "$(cut -d'|' -f2 <<<"$out")"
	# Each 2 MiB fault of the poisoned range falls back (ext4 tries twice).
	local huge fallback
	read -r _ huge _ fallback <<<"$(cut -d'|' -f3 <<<"$out")"
	expect_eq "$fs: the poisoned 2 MiB falls back to 4 KiB pages, the other maps huge" \
		"huge 1, fell back" "huge $huge, $([ "${fallback:-0}" -ge 1 ] && echo "fell back" || echo "no fallback")"

	out=$(./rpmem_io write "$f" $((5 * 4096)) 4096 21)
	if [ "$DRIVER" = nd_pmem ]; then
		expect_eq "$fs: a recovery pwrite of the page: EFAULT (nd_pmem cannot clear poison on QEMU's NVDIMMs)" \
			"errno=EFAULT|listed" "$out|$(has_line "$bb" "$s 8" && echo listed || echo gone)"
		ktap_skip "$fs: after it, the file reads back through two 2 MiB mappings" "the page is still poisoned"
		ktap_skip "$fs: the data of every page" "the page is still poisoned"
	else
		expect_eq "$fs: a recovery pwrite of the page repairs it" \
			"done 4096|gone" "$out|$(has_line "$bb" "$s 8" && echo listed || echo gone)"
		setup "$fs: remounted" sh -c "umount $m && mount -o dax /dev/$b $m"
		expect_eq "$fs: after it, the file reads back through two 2 MiB mappings" \
			"clean ok|ok|huge 2 fallback 0" "$(mapped "$f" 21 5)"
		expect_eq "$fs: the data of every page" "done $size" "$(./rpmem_io check "$f" 0 $size 21)"
	fi
	umount "$m"
	case $fs in
	xfs) check "$fs: xfs_repair -n clean" xfs_repair -n "/dev/$b" ;;
	ext4) check "$fs: fsck.ext4 -fn clean" fsck.ext4 -fn "/dev/$b" ;;
	esac
}
fs_cases xfs "$nfit0"
fs_cases ext4 "$nfit1"
# As the suites after this one expect them.
setup "$nfit0 and $nfit1 left raw" raw_again "$nfit0" "$nfit1"

ktap_finished
