#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Poison, end to end (rpmem only): the clear_poison parameter; 600 poisoned
# ranges on a raw namespace, none lost; then on DAX file systems (xfs with
# rmapbt and ext4 on NFIT, ext4 on e820) the matrix of injection methods
# (sysfs badblocks, debugfs inject, MADV_HWPOISON, hwpoison corrupt-pfn,
# an injected machine check) x accesses (pread short read and EIO, mmap
# read and write faults with SIGBUS BUS_MCEERR_AR, recovery pwrite, reads
# after it); sub-page recovery; the clearing policies; readers racing a
# recovery write; debugfs counters and bad input.
cd "$(dirname "$0")" && . ./lib.sh

ktap_header
if [ "$DRIVER" != rpmem ]; then
	ktap_plan 1
	ktap_skip "poison" "rpmem only (nd_pmem has no recovery policy, debugfs or overflow list)"
	exit 0
fi

param=/sys/module/rpmem/parameters/clear_poison
sigbus="sigbus code=BUS_MCEERR_AR lsb=12 in_page=1"

# --- the module parameter -------------------------------------------------
driver_unload_quiet
modprobe nd_btt
expect_eq "insmod clear_poison=bogus refused with EINVAL" "errno=EINVAL" "$(./rpmem_io finit "$RPMEM_KO" clear_poison=bogus)"
check "module not loaded after the refusal" not test -d /sys/module/rpmem
check "dmesg names the valid values" sh -c "dmesg | grep -q 'rpmem: clear_poison: expected auto, firmware or software'"
check "insmod clear_poison=software" insmod "$RPMEM_KO" clear_poison=software
expect_eq "parameter reads software" software "$(<$param)"
expect_eq "parameter write 'soft' refused with EINVAL" "errno=EINVAL" "$(./rpmem_io sysfs $param soft)"
expect_eq "parameter unchanged by the refused write" software "$(<$param)"
echo auto >$param
expect_eq "parameter set to auto at run time" auto "$(<$param)"

nfit0=$(namespace_on ACPI.NFIT 0)
nfit1=$(namespace_on ACPI.NFIT 1)
e820=$(namespace_on e820 0)

# --- 600 ranges: the kernel's list holds 512, the rest overflows -----------
namespace_mode "$nfit0" raw
b=$(blockdev_of "$nfit0")
dbg=/sys/kernel/debug/rpmem/$b
./rpmem_io write /dev/$b 0 $((600 * 16 * 512)) 7 direct >/dev/null
for ((i = 0; i < 600; i++)); do echo "sectors $((i * 16)) 1"; done | ./rpmem_io lines $dbg/inject
expect_eq "$b: 600 ranges listed in debugfs" 600 "$(wc -l <$dbg/list)"
expect_eq "$b: first and last records" "0 1|9584 1" "$(head -1 $dbg/list)|$(tail -1 $dbg/list)"
expect_eq "$b: 88 refused by the kernel's list, all 600 in the lookup table" \
	"overflowed 88|table_extents 600|512" \
	"$(grep '^overflowed ' $dbg/counters)|$(grep '^table_extents ' $dbg/counters)|$(wc -l </sys/block/$b/badblocks)"
expect_eq "$b: overflow warned once in dmesg" 1 "$(dmesg | grep -c 'poison list full')"
expect_eq "$b: every poisoned sector fails with EIO" "eio 600 ok 0 other 0" "$(./rpmem_io scan /dev/$b 0 16 600)"
expect_eq "$b: every neighbour reads" "eio 0 ok 600 other 0" "$(./rpmem_io scan /dev/$b 8 16 600)"
expect_eq "$b: one block write over all 600 repairs them" "done 4915200" \
	"$(./rpmem_io write /dev/$b 0 $((600 * 16 * 512)) 8 direct)"
expect_eq "$b: no record left (debugfs, sysfs, lookup table)" "0||table_extents 0" \
	"$(wc -l <$dbg/list)|$(</sys/block/$b/badblocks)|$(grep '^table_extents ' $dbg/counters)"
expect_eq "$b: the data written reads back" "done 4915200" "$(./rpmem_io check /dev/$b 0 $((600 * 16 * 512)) 8 direct)"

# --- DAX file systems -------------------------------------------------------
# fs_setup NS FS: fsdax namespace NS with FS mounted -o dax; prints the mount.
fs_setup() {
	local ns=$1 fs=$2 b m
	namespace_mode "$ns" fsdax -a 2M || return 1
	b=$(blockdev_of "$ns")
	m=$(mnt_dir "$b")
	case $fs in
	xfs) mkfs.xfs -f -q -m reflink=1,rmapbt=1 /dev/$b ;;
	ext4) mkfs.ext4 -F -q -b 4096 /dev/$b ;;
	esac >/dev/null && mount -o dax /dev/$b "$m" && echo "$m"
}

# The page frame and device sector of page $2 of file $1 (written, mapped).
pfn_of() { ./rpmem_fault pfn "$1" $(($2 * 4096)); }
sector_of() { echo $(($(./rpmem_io phys "$1" $(($2 * 4096))) / 512)); }

# mce_inject PHYS: an uncorrected memory error at PHYS, logged as the
# machine check handler does (mce-inject "sw"), which the NFIT notifier
# turns into bus poison and NVDIMM_REVALIDATE_POISON.
mce_inject() {
	local d=/sys/kernel/debug/mce-inject
	modprobe mce-inject || return 1
	echo sw >$d/flags && echo 0xbc0000000000009f >$d/status &&
		echo "$(printf '%#x' "$1")" >$d/addr && echo 0x8c >$d/misc && echo 1 >$d/bank
}

# wait_record BB LINE: wait (up to 10 s) until LINE is in the list BB.
wait_record() {
	local i
	for ((i = 0; i < 50; i++)); do
		has_line "$1" "$2" && return 0
		sleep 0.2
	done
	return 1
}

# poison_case TAG MOUNT DISK METHOD: file MOUNT/METHOD of 4 pages; page 2 is
# poisoned by METHOD, then read, faulted, recovered and read again.
poison_case() {
	local tag=$1/$4 m=$2 b=$3 how=$4 f=$2/$4 bb=/sys/block/$3/badblocks s pfn out
	: >"$f"
	./rpmem_io write "$f" 0 16384 1 >/dev/null
	s=$(sector_of "$f" 2)
	pfn=$(pfn_of "$f" 2)
	case $how in
	sysfs) echo "$s 8" >"$bb" ;;
	debugfs) echo "bytes $((s * 512)) 4096" >/sys/kernel/debug/rpmem/$b/inject ;;
	madvise)
		expect_eq "$tag: MADV_HWPOISON kills the mapper with BUS_MCEERR_AR" "$sigbus" \
			"$(./rpmem_fault madvise "$f" 8192)" ;;
	corrupt-pfn)
		modprobe hwpoison_inject
		check "$tag: corrupt-pfn $pfn accepted" sh -c "echo $pfn >/sys/kernel/debug/hwpoison/corrupt-pfn" ;;
	mce)
		check "$tag: machine check at $(printf '%#x' $((pfn * 4096))) logged" mce_inject $((pfn * 4096)) ;;
	esac
	check "$tag: record '$s 8' in $bb" wait_record "$bb" "$s 8"
	expect_eq "$tag: pread across it returns the 8 KiB before it" "done 8192" "$(./rpmem_io check "$f" 0 16384 1)"
	expect_eq "$tag: pread of the page fails with EIO" "errno=EIO" "$(./rpmem_io read "$f" 8192 4096)"
	expect_eq "$tag: mmap read fault" "$sigbus" "$(./rpmem_fault read "$f" 8200)"
	expect_eq "$tag: mmap write fault" "$sigbus" "$(./rpmem_fault write "$f" 12000)"
	expect_eq "$tag: page-aligned pwrite recovers" "done 4096" "$(./rpmem_io write "$f" 8192 4096 2)"
	expect_eq "$tag: record dropped" "" "$(line_starting "$bb" "$s ")"
	expect_eq "$tag: new page reads back, the others unchanged" "done 8192 done 4096 done 4096" \
		"$(./rpmem_io check "$f" 0 8192 1 8192 4096 2 12288 4096 1)"
	expect_eq "$tag: mmap read after recovery" ok "$(./rpmem_fault read "$f" 8200)"
}

# sub_page TAG MOUNT DISK: one poisoned sector inside a page; a write that
# leaves it uncovered fails and writes nothing, one that covers it recovers.
sub_page() {
	local tag=$1 m=$2 b=$3 f=$2/subpage bb=/sys/block/$3/badblocks s
	: >"$f"
	./rpmem_io write "$f" 0 16384 1 >/dev/null
	s=$(($(sector_of "$f" 1) + 2))
	dd if=/dev/$b of=/tmp/before bs=512 skip=$((s - 2)) count=8 iflag=direct status=none
	echo "$s 1" >"$bb"
	expect_eq "$tag: pread of a page with one bad sector fails with EIO" "errno=EIO" "$(./rpmem_io read "$f" 4096 4096)"
	expect_eq "$tag: sub-page pwrite missing the bad sector fails with EFAULT" "errno=EFAULT" \
		"$(./rpmem_io write "$f" $((4096 + 512)) 512 3)"
	expect_eq "$tag: pwrite covering half of it fails with EFAULT" "errno=EFAULT" \
		"$(./rpmem_io write "$f" $((4096 + 1024 + 256)) 512 3)"
	expect_eq "$tag: record kept" "$s 1" "$(line_starting "$bb" "$s ")"
	dd if=/dev/$b of=/tmp/after01 bs=512 skip=$((s - 2)) count=2 iflag=direct status=none
	dd if=/dev/$b of=/tmp/after3 bs=512 skip=$((s + 1)) count=1 iflag=direct status=none
	check "$tag: nothing written by the failed writes (sectors 0, 1, 3)" sh -c \
		"cmp -n 1024 /tmp/before /tmp/after01 && cmp -i 1536:0 -n 512 /tmp/before /tmp/after3"
	expect_eq "$tag: 512-byte pwrite over exactly the bad sector recovers" "done 512" \
		"$(./rpmem_io write "$f" $((4096 + 1024)) 512 3)"
	expect_eq "$tag: record dropped" "" "$(line_starting "$bb" "$s ")"
	expect_eq "$tag: the sector has the new bytes, the rest of the page the old" "done 1024 done 512 done 2560" \
		"$(./rpmem_io check "$f" 4096 1024 1 5120 512 3 5632 2560 1)"
}

# policy TAG MOUNT DISK POLICY EXPECT: a recovery pwrite under POLICY.
policy() {
	local tag="$1/clear_poison=$4" f=$2/policy-$4 bb=/sys/block/$3/badblocks s
	: >"$f"
	./rpmem_io write "$f" 0 8192 1 >/dev/null
	s=$(sector_of "$f" 1)
	echo "$4" >$param
	echo "$s 8" >"$bb"
	expect_eq "$tag: recovery pwrite" "$5" "$(./rpmem_io write "$f" 4096 4096 2)"
	if [ "$5" = "done 4096" ]; then
		expect_eq "$tag: record dropped, data in" "|done 4096" "$(line_starting "$bb" "$s ")|$(./rpmem_io check "$f" 4096 4096 2)"
	else
		expect_eq "$tag: record kept" "$s 8" "$(line_starting "$bb" "$s ")"
		echo "$s 8" >/sys/kernel/debug/rpmem/$3/clear
	fi
	echo auto >$param
}

m_xfs=$(fs_setup "$nfit0" xfs)
check "NFIT $nfit0: xfs (rmapbt) mounted -o dax" test -n "$m_xfs"
m_ext4=$(fs_setup "$nfit1" ext4)
check "NFIT $nfit1: ext4 mounted -o dax" test -n "$m_ext4"
m_e820=$(fs_setup "$e820" ext4)
check "e820 $e820: ext4 mounted -o dax" test -n "$m_e820"
b_xfs=$(blockdev_of "$nfit0") b_ext4=$(blockdev_of "$nfit1") b_e820=$(blockdev_of "$e820")

for how in sysfs debugfs madvise corrupt-pfn mce; do
	poison_case "NFIT xfs" "$m_xfs" "$b_xfs" $how
	poison_case "NFIT ext4" "$m_ext4" "$b_ext4" $how
	if [ $how = mce ]; then
		ktap_skip "e820 ext4/mce" "machine checks reach pmem only through the NFIT notifier"
	else
		poison_case "e820 ext4" "$m_e820" "$b_e820" $how
	fi
done

# Records cleared in software are forgotten on the bus: a new machine check
# (a new revalidation) brings back only its own page.
f=$m_xfs/mce2
: >"$f"
./rpmem_io write "$f" 0 4096 1 >/dev/null
pfn=$(pfn_of "$f" 0) s=$(sector_of "$f" 0)
mce_inject $((pfn * 4096))
check "NFIT xfs: a second machine check revalidates" wait_record /sys/block/$b_xfs/badblocks "$s 8"
expect_eq "NFIT xfs: only the new record after revalidation" "$s 8" "$(</sys/block/$b_xfs/badblocks)"
./rpmem_io write "$f" 0 4096 1 >/dev/null

# Scrub results past the kernel list's 512 ranges are kept too: with the
# list full, a machine check's page lands in the lookup table.
dbg=/sys/kernel/debug/rpmem/$b_xfs
cap=$(</sys/block/$b_xfs/size)
for ((i = 1; i <= 512; i++)); do echo "sectors $((cap - i * 16)) 1"; done | ./rpmem_io lines $dbg/inject >/dev/null
f=$m_xfs/mce3
: >"$f"
./rpmem_io write "$f" 0 4096 1 >/dev/null
pfn=$(pfn_of "$f" 0) s=$(sector_of "$f" 0)
mce_inject $((pfn * 4096))
check "NFIT xfs, list full: machine-checked page '$s 8' kept (debugfs list)" wait_record $dbg/list "$s 8"
expect_eq "NFIT xfs, list full: its pread fails with EIO" "errno=EIO" "$(./rpmem_io read "$f" 0 4096)"
expect_eq "NFIT xfs, list full: recovery pwrite" "done 4096" "$(./rpmem_io write "$f" 0 4096 2)"
echo "$((cap - 512 * 16)) $((512 * 16))" >$dbg/clear
expect_eq "NFIT xfs: list empty again" 0 "$(wc -l <$dbg/list)"

sub_page "NFIT xfs" "$m_xfs" "$b_xfs"
sub_page "e820 ext4" "$m_e820" "$b_e820"

policy "NFIT xfs" "$m_xfs" "$b_xfs" firmware "errno=EFAULT"
policy "NFIT xfs" "$m_xfs" "$b_xfs" software "done 4096"
policy "e820 ext4" "$m_e820" "$b_e820" firmware "done 4096"
policy "e820 ext4" "$m_e820" "$b_e820" software "done 4096"

# Readers racing a recovery write see EIO, then the new data: never the old
# bytes nor zeroes.
f=$m_xfs/race
: >"$f"
./rpmem_io write "$f" 0 8192 1 >/dev/null
echo "$(sector_of "$f" 1) 8" >/sys/block/$b_xfs/badblocks
expect_eq "NFIT xfs: readers during a recovery write" "eio >0 new 1 stale 0 other 0" "$(./rpmem_io race "$f" 4096 5 1)"

# Counters and debugfs input, on the e820 disk.
dbg=/sys/kernel/debug/rpmem/$b_e820
counter() { sed -n "s/^$1 //p" $dbg/counters; }
f=$m_e820/counted
: >"$f"
./rpmem_io write "$f" 0 4096 9 >/dev/null
s=$(sector_of "$f" 0)
before="$(counter poison_hits) $(counter recoveries) $(counter software_clears)"
echo "sectors $s 8" >$dbg/inject
./rpmem_io read "$f" 0 4096 >/dev/null
./rpmem_io write "$f" 0 4096 1 >/dev/null
read -r h r c <<<"$before"
# Two hits: the read, and the write's failfast attempt before fs/dax.c
# retries it in recovery mode.
expect_eq "e820: counters after one refused read and one recovery" "$((h + 2)) $((r + 1)) $((c + 1))" \
	"$(counter poison_hits) $(counter recoveries) $(counter software_clears)"
list=$(<$dbg/list)
cap=$(</sys/block/$b_e820/size)
for input in "abc" "bytes 1" "sectors 1 0" "bytes 0 0" "$cap 1" "$((cap - 1)) 2" "0 99999999999999999999" \
	"bytes 18446744073709551615 2" "sectors -1 1" "$(printf '%070d' 1) 1"; do
	expect_eq "debugfs inject '$input' refused with EINVAL" "errno=EINVAL" "$(./rpmem_io sysfs $dbg/inject "$input")"
done
expect_eq "debugfs clear 'x' refused with EINVAL" "errno=EINVAL" "$(./rpmem_io sysfs $dbg/clear x)"
for input in 0 abc 100000001 "1 2"; do
	expect_eq "debugfs lookup_bench '$input' refused with EINVAL" "errno=EINVAL" "$(./rpmem_io sysfs $dbg/lookup_bench "$input")"
done
echo 1000 >$dbg/lookup_bench
read -r w1 records w2 calls w3 ns <$dbg/lookup_bench
expect_eq "debugfs lookup_bench: 1000 lookups timed" "records 0 calls 1000 total_ns>0" \
	"$w1 $records $w2 $calls $w3$([ "${ns:-0}" -gt 0 ] && echo '>0')"
expect_eq "debugfs list unchanged by refused input" "$list" "$(<$dbg/list)"

for m in "$m_xfs" "$m_ext4" "$m_e820"; do umount "$m"; done
for ns in "$nfit0" "$nfit1" "$e820"; do namespace_mode "$ns" raw; done
ktap_plan "$KTAP_N"
ktap_finished
