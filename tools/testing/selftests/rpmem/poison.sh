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

# The plan, the same on both drivers, section by section: the module
# parameters (9), 600 ranges (11), 3 mounts, the matrix (methods x 3 disks x
# POISON_CASE; e820 has no machine check: skipped), revalidation (2), a
# full list (4), sub-page recovery (2 x SUB_PAGE), the policies (4 x
# POLICY), the race (1), the counters (1), bad debugfs input (bad_inject, 2
# past the end, 1 clear, bad_bench), lookup_bench (1), the list unchanged
# (1).
methods=(sysfs debugfs madvise corrupt-pfn mce)
POISON_CASE=10 SUB_PAGE=8 POLICY=2
bad_inject=("abc" "bytes 1" "sectors 1 0" "bytes 0 0" "0 99999999999999999999"
	"bytes 18446744073709551615 2" "sectors -1 1" "$(printf '%070d' 1) 1")
bad_bench=(0 abc 100000001 "1 2")
ktap_header
ktap_plan $((9 + 11 + 3 + ${#methods[@]} * 3 * POISON_CASE + 2 + 4 + 2 * SUB_PAGE + 4 * POLICY + 1 + 1 +
	${#bad_inject[@]} + 2 + 1 + ${#bad_bench[@]} + 1 + 1))
if [ "$DRIVER" != rpmem ]; then
	ktap_skip_rest "poison" "rpmem only (nd_pmem has no recovery policy, debugfs or overflow list)"
	ktap_finished
	exit
fi

param=/sys/module/rpmem/parameters/clear_poison
sigbus="sigbus code=BUS_MCEERR_AR lsb=12 in_page=1"

# --- the module parameter -------------------------------------------------
driver_unload_quiet
setup "nd_btt loaded" modprobe nd_btt
expect_eq "insmod clear_poison=bogus refused with EINVAL" "errno=EINVAL" "$(./rpmem_io finit "$RPMEM_KO" clear_poison=bogus)"
check "module not loaded after the refusal" not test -d /sys/module/rpmem
check "dmesg names the valid values" sh -c "dmesg | grep -q 'rpmem: clear_poison: expected auto, firmware or software'"
expect_eq "insmod record_simulated=bogus refused with EINVAL" "errno=EINVAL" "$(./rpmem_io finit "$RPMEM_KO" record_simulated=bogus)"
# The matrix below records simulated failures (MADV_HWPOISON, corrupt-pfn)
# as poison: mf_sim.sh tests the default, which does not.
check "insmod clear_poison=software record_simulated=1" insmod "$RPMEM_KO" clear_poison=software record_simulated=1
expect_eq "parameter reads software" software "$(<$param)"
expect_eq "parameter write 'soft' refused with EINVAL" "errno=EINVAL" "$(./rpmem_io sysfs $param soft)"
expect_eq "parameter unchanged by the refused write" software "$(<$param)"
echo auto >$param
expect_eq "parameter set to auto at run time" auto "$(<$param)"

nfit0=$(namespace_on ACPI.NFIT 0)
nfit1=$(namespace_on ACPI.NFIT 1)
e820=$(namespace_on e820 0)

# --- 600 ranges: the kernel's list holds 512, the rest overflows -----------
setup "$nfit0 raw" namespace_mode "$nfit0" raw
b=$(blockdev_of "$nfit0")
dbg=/sys/kernel/debug/rpmem/$b
setup "$b: written" io_is "done $((600 * 16 * 512))" write /dev/$b 0 $((600 * 16 * 512)) 7 direct
for ((i = 0; i < 600; i++)); do echo "sectors $((i * 16)) 1"; done >/tmp/ranges
setup "$b: 600 ranges injected through debugfs" io_is "done 600" lines $dbg/inject </tmp/ranges
expect_eq "$b: 600 ranges listed in debugfs" 600 "$(wc -l <$dbg/list)"
expect_eq "$b: first and last records" "0 1|9584 1" "$(head -1 $dbg/list)|$(tail -1 $dbg/list)"
expect_eq "$b: 88 refused by the kernel's list, all 600 in the lookup table" \
	"overflowed 88|table_extents 600" \
	"$(grep '^overflowed ' $dbg/counters)|$(grep '^table_extents ' $dbg/counters)"
# sysfs shows the first records of the whole list, as many whole lines as
# one page (4095 bytes) takes.
fit=$(awk '{ n += length($0) + 1 } n <= 4095 { c++ } END { print c }' $dbg/list)
expect_eq "$b: sysfs badblocks shows the first $fit records of the list (all that fit in a page)" \
	"$(head -n "$fit" $dbg/list)" "$(</sys/block/$b/badblocks)"
expect_eq "$b: overflow warned once in dmesg" 1 "$(dmesg | grep -c 'poison list full')"
expect_eq "$b: every poisoned sector fails with EIO" "eio 600 ok 0 other 0" "$(./rpmem_io scan /dev/$b 0 16 600)"
expect_eq "$b: every neighbour reads" "eio 0 ok 600 other 0" "$(./rpmem_io scan /dev/$b 8 16 600)"
expect_eq "$b: one block write over all 600 repairs them" "done 4915200" \
	"$(./rpmem_io write /dev/$b 0 $((600 * 16 * 512)) 8 direct)"
expect_eq "$b: no record left (debugfs, sysfs, lookup table)" "0||table_extents 0" \
	"$(wc -l <$dbg/list)|$(</sys/block/$b/badblocks)|$(grep '^table_extents ' $dbg/counters)"
expect_eq "$b: the data written reads back" "done 4915200" "$(./rpmem_io check /dev/$b 0 $((600 * 16 * 512)) 8 direct)"
# 500 ranges far in: all in struct badblocks, but more text than a page
# (the kernel's badblocks_show would fill the page, and sysfs warn).
for ((i = 0; i < 500; i++)); do echo "sectors $((100000 + i * 16)) 1"; done >/tmp/ranges
./rpmem_io lines $dbg/inject </tmp/ranges >/dev/null
fit=$(awk '{ n += length($0) + 1 } n <= 4095 { c++ } END { print c }' $dbg/list)
expect_eq "$b: 500 ranges of more text than a page: sysfs shows the first $fit, whole lines, nothing in the table" \
	"$(head -n "$fit" $dbg/list)|table_extents 0" "$(</sys/block/$b/badblocks)|$(grep '^table_extents ' $dbg/counters)"
echo "sectors 100000 8000" >$dbg/clear

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

# pfn_of VAR FILE PAGE, sector_of VAR FILE PAGE: the page frame (FILE is
# mapped), the device sector, of page PAGE of FILE (written) into VAR; they
# fail on anything but a number (setup steps).
pfn_of() {
	local _v
	_v=$(./rpmem_fault pfn "$2" $(($3 * 4096)))
	[[ $_v =~ ^[0-9]+$ ]] || { echo "rpmem_fault pfn $2: '$_v'"; return 1; }
	printf -v "$1" %s "$_v"
}
sector_of() {
	local _v
	_v=$(./rpmem_io phys "$2" $(($3 * 4096)))
	[[ $_v =~ ^[0-9]+$ ]] || { echo "rpmem_io phys $2: '$_v'"; return 1; }
	printf -v "$1" %s $((_v / 512))
}

# corrupt_pfn PFN: a simulated memory failure of page frame PFN.
corrupt_pfn() { modprobe hwpoison_inject && echo "$1" >/sys/kernel/debug/hwpoison/corrupt-pfn; }

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
# poisoned by METHOD, then read, faulted, recovered and read again:
# POISON_CASE cases, whatever the method.
poison_case() {
	local tag=$1/$4 m=$2 b=$3 how=$4 f=$2/$4 bb=/sys/block/$3/badblocks s= pfn= out
	: >"$f"
	setup "$tag: $f written" io_is "done 16384" write "$f" 0 16384 1
	setup "$tag: sector of page 2" sector_of s "$f" 2
	setup "$tag: page frame of page 2" pfn_of pfn "$f" 2
	case $how in
	sysfs) check "$tag: '$s 8' written to $bb" write_attr "$bb" "$s 8" ;;
	debugfs)
		check "$tag: debugfs inject 'bytes $((s * 512)) 4096' accepted" \
			write_attr /sys/kernel/debug/rpmem/$b/inject "bytes $((s * 512)) 4096" ;;
	madvise)
		expect_eq "$tag: MADV_HWPOISON kills the mapper with BUS_MCEERR_AR" "$sigbus" \
			"$(./rpmem_fault madvise "$f" 8192)" ;;
	corrupt-pfn) check "$tag: corrupt-pfn $pfn accepted" corrupt_pfn "$pfn" ;;
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
# leaves it uncovered fails and writes nothing, one that covers it recovers:
# SUB_PAGE cases.
sub_page() {
	local tag=$1 m=$2 b=$3 f=$2/subpage bb=/sys/block/$3/badblocks s=
	: >"$f"
	setup "$tag: $f written" io_is "done 16384" write "$f" 0 16384 1
	setup "$tag: sector of page 1" sector_of s "$f" 1
	s=$((s + 2))
	setup "$tag: sectors $((s - 2))..$((s + 5)) saved" \
		dd if=/dev/$b of=/tmp/before bs=512 skip=$((s - 2)) count=8 iflag=direct status=none
	setup "$tag: '$s 1' written to $bb" write_attr "$bb" "$s 1"
	expect_eq "$tag: pread of a page with one bad sector fails with EIO" "errno=EIO" "$(./rpmem_io read "$f" 4096 4096)"
	expect_eq "$tag: sub-page pwrite missing the bad sector fails with EFAULT" "errno=EFAULT" \
		"$(./rpmem_io write "$f" $((4096 + 512)) 512 3)"
	expect_eq "$tag: pwrite covering half of it fails with EFAULT" "errno=EFAULT" \
		"$(./rpmem_io write "$f" $((4096 + 1024 + 256)) 512 3)"
	expect_eq "$tag: record kept" "$s 1" "$(line_starting "$bb" "$s ")"
	setup "$tag: sectors $((s - 2)) and $((s - 1)) read" \
		dd if=/dev/$b of=/tmp/after01 bs=512 skip=$((s - 2)) count=2 iflag=direct status=none
	setup "$tag: sector $((s + 1)) read" \
		dd if=/dev/$b of=/tmp/after3 bs=512 skip=$((s + 1)) count=1 iflag=direct status=none
	check "$tag: nothing written by the failed writes (sectors 0, 1, 3)" sh -c \
		"cmp -n 1024 /tmp/before /tmp/after01 && cmp -i 1536:0 -n 512 /tmp/before /tmp/after3"
	expect_eq "$tag: 512-byte pwrite over exactly the bad sector recovers" "done 512" \
		"$(./rpmem_io write "$f" $((4096 + 1024)) 512 3)"
	expect_eq "$tag: record dropped" "" "$(line_starting "$bb" "$s ")"
	expect_eq "$tag: the sector has the new bytes, the rest of the page the old" "done 1024 done 512 done 2560" \
		"$(./rpmem_io check "$f" 4096 1024 1 5120 512 3 5632 2560 1)"
}

# policy TAG MOUNT DISK POLICY EXPECT: a recovery pwrite under POLICY:
# POLICY cases.
policy() {
	local tag="$1/clear_poison=$4" f=$2/policy-$4 bb=/sys/block/$3/badblocks s=
	: >"$f"
	setup "$tag: $f written" io_is "done 8192" write "$f" 0 8192 1
	setup "$tag: sector of page 1" sector_of s "$f" 1
	setup "$tag: clear_poison=$4" write_attr $param "$4"
	setup "$tag: '$s 8' written to $bb" write_attr "$bb" "$s 8"
	expect_eq "$tag: recovery pwrite" "$5" "$(./rpmem_io write "$f" 4096 4096 2)"
	if [ "$5" = "done 4096" ]; then
		expect_eq "$tag: record dropped, data in" "|done 4096" "$(line_starting "$bb" "$s ")|$(./rpmem_io check "$f" 4096 4096 2)"
	else
		expect_eq "$tag: record kept" "$s 8" "$(line_starting "$bb" "$s ")"
		setup "$tag: record cleared through debugfs" write_attr /sys/kernel/debug/rpmem/$3/clear "$s 8"
	fi
	setup "$tag: clear_poison=auto again" write_attr $param auto
}

m_xfs=$(fs_setup "$nfit0" xfs)
check "NFIT $nfit0: xfs (rmapbt) mounted -o dax" test -n "$m_xfs"
m_ext4=$(fs_setup "$nfit1" ext4)
check "NFIT $nfit1: ext4 mounted -o dax" test -n "$m_ext4"
m_e820=$(fs_setup "$e820" ext4)
check "e820 $e820: ext4 mounted -o dax" test -n "$m_e820"
b_xfs=$(blockdev_of "$nfit0") b_ext4=$(blockdev_of "$nfit1") b_e820=$(blockdev_of "$e820")

for how in "${methods[@]}"; do
	poison_case "NFIT xfs" "$m_xfs" "$b_xfs" $how
	poison_case "NFIT ext4" "$m_ext4" "$b_ext4" $how
	if [ $how = mce ]; then
		for ((i = 1; i <= POISON_CASE; i++)); do
			ktap_skip "e820 ext4/mce: case $i of $POISON_CASE" "machine checks reach pmem only through the NFIT notifier"
		done
	else
		poison_case "e820 ext4" "$m_e820" "$b_e820" $how
	fi
done

# Records cleared in software are forgotten on the bus: a new machine check
# (a new revalidation) brings back only its own page.
f=$m_xfs/mce2
: >"$f"
setup "NFIT xfs: $f written" io_is "done 4096" write "$f" 0 4096 1
setup "NFIT xfs: page frame of $f" pfn_of pfn "$f" 0
setup "NFIT xfs: sector of $f" sector_of s "$f" 0
setup "NFIT xfs: machine check at page frame $pfn" mce_inject $((pfn * 4096))
check "NFIT xfs: a second machine check revalidates" wait_record /sys/block/$b_xfs/badblocks "$s 8"
expect_eq "NFIT xfs: only the new record after revalidation" "$s 8" "$(</sys/block/$b_xfs/badblocks)"
setup "NFIT xfs: $f recovered" io_is "done 4096" write "$f" 0 4096 1

# Scrub results past the kernel list's 512 ranges are kept too: with the
# list full, a machine check's page lands in the lookup table.
dbg=/sys/kernel/debug/rpmem/$b_xfs
cap=$(</sys/block/$b_xfs/size)
for ((i = 1; i <= 512; i++)); do echo "sectors $((cap - i * 16)) 1"; done >/tmp/ranges
setup "NFIT xfs: 512 ranges at the end injected" io_is "done 512" lines $dbg/inject </tmp/ranges
f=$m_xfs/mce3
: >"$f"
setup "NFIT xfs: $f written" io_is "done 4096" write "$f" 0 4096 1
setup "NFIT xfs: page frame of $f" pfn_of pfn "$f" 0
setup "NFIT xfs: sector of $f" sector_of s "$f" 0
setup "NFIT xfs: machine check at page frame $pfn" mce_inject $((pfn * 4096))
check "NFIT xfs, list full: machine-checked page '$s 8' kept (debugfs list)" wait_record $dbg/list "$s 8"
expect_eq "NFIT xfs, list full: its pread fails with EIO" "errno=EIO" "$(./rpmem_io read "$f" 0 4096)"
expect_eq "NFIT xfs, list full: recovery pwrite" "done 4096" "$(./rpmem_io write "$f" 0 4096 2)"
setup "NFIT xfs: the 512 ranges cleared" write_attr $dbg/clear "$((cap - 512 * 16)) $((512 * 16))"
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
setup "NFIT xfs: $f written" io_is "done 8192" write "$f" 0 8192 1
setup "NFIT xfs: sector of page 1 of $f" sector_of s "$f" 1
setup "NFIT xfs: page 1 of $f poisoned" write_attr /sys/block/$b_xfs/badblocks "$s 8"
expect_eq "NFIT xfs: readers during a recovery write" "eio >0 new 1 stale 0 other 0" "$(./rpmem_io race "$f" 4096 5 1)"

# Counters and debugfs input, on the e820 disk.
dbg=/sys/kernel/debug/rpmem/$b_e820
counter() { sed -n "s/^$1 //p" $dbg/counters; }
f=$m_e820/counted
: >"$f"
setup "e820: $f written" io_is "done 4096" write "$f" 0 4096 9
setup "e820: sector of $f" sector_of s "$f" 0
before="$(counter poison_hits) $(counter recoveries) $(counter software_clears)"
setup "e820: $f poisoned through debugfs" write_attr $dbg/inject "sectors $s 8"
setup "e820: its read refused" io_is "errno=EIO" read "$f" 0 4096
setup "e820: its recovery write" io_is "done 4096" write "$f" 0 4096 1
read -r h r c <<<"$before"
# Two hits: the read, and the write's failfast attempt before fs/dax.c
# retries it in recovery mode.
expect_eq "e820: counters after one refused read and one recovery" "$((h + 2)) $((r + 1)) $((c + 1))" \
	"$(counter poison_hits) $(counter recoveries) $(counter software_clears)"
list=$(<$dbg/list)
cap=$(</sys/block/$b_e820/size)
for input in "${bad_inject[@]}" "$cap 1" "$((cap - 1)) 2"; do
	expect_eq "debugfs inject '$input' refused with EINVAL" "errno=EINVAL" "$(./rpmem_io sysfs $dbg/inject "$input")"
done
expect_eq "debugfs clear 'x' refused with EINVAL" "errno=EINVAL" "$(./rpmem_io sysfs $dbg/clear x)"
for input in "${bad_bench[@]}"; do
	expect_eq "debugfs lookup_bench '$input' refused with EINVAL" "errno=EINVAL" "$(./rpmem_io sysfs $dbg/lookup_bench "$input")"
done
setup "debugfs lookup_bench: 1000 lookups" write_attr $dbg/lookup_bench 1000
read -r w1 records w2 calls w3 ns <$dbg/lookup_bench
expect_eq "debugfs lookup_bench: 1000 lookups timed" "records 0 calls 1000 total_ns>0" \
	"$w1 $records $w2 $calls $w3$([ "${ns:-0}" -gt 0 ] && echo '>0')"
expect_eq "debugfs list unchanged by refused input" "$list" "$(<$dbg/list)"

for m in "$m_xfs" "$m_ext4" "$m_e820"; do setup "$m unmounted" umount "$m"; done
setup "$nfit0, $nfit1 and $e820 left raw" raw_again "$nfit0" "$nfit1" "$e820"
ktap_finished
