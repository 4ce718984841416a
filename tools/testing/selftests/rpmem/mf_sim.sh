#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Simulated memory failures on DAX, as fstests xfs/550, 551 and 552 use
# them: on xfs (reflink, rmapbt) mounted -o dax on an fsdax namespace, a
# process maps a file and injects MADV_HWPOISON on one page, then a new
# process maps it again and injects two pages over the first one. Each time
# the injecting process gets SIGBUS (BUS_MCEERR_AR, from xfs through
# dax_holder_notify_failure), a second process that only maps the data is
# left alone, nothing is recorded as poison and the data stays readable;
# for a plain file, a file reflinked whole (cp --reflink=always) and one
# reflinked on every other page (552). Afterwards xfs_repair -n finds the
# file system consistent. A simulated failure (MADV_HWPOISON, corrupt-pfn:
# MF_SW_SIMULATED) leaves the media as it was: that is nd_pmem's behaviour,
# and rpmem's by default (module parameter record_simulated=0).
cd "$(dirname "$0")" && . ./lib.sh

ktap_header
ktap_plan 29

tmp=$(mktemp -d)
page=4096 npages=16
size=$((page * npages))

# Load the driver with its default parameters.
[ "$DRIVER" = rpmem ] && driver_unload_quiet
check "load $DRIVER with its default parameters" driver_load
# The kernel crate's module parameters are load-time only and not in sysfs:
# the default (not recorded) shows in what the cases below find recorded.
if [ "$DRIVER" = rpmem ]; then
	check "rpmem: record_simulated is a module parameter" sh -c \
		"modinfo -p $RPMEM_KO | grep -q '^record_simulated:'"
else
	ktap_skip "rpmem: record_simulated is a module parameter" "a parameter of rpmem; nd_pmem never records simulated failures"
fi

ns=$(namespace_on ACPI.NFIT 0)
setup "$ns: fsdax" namespace_mode "$ns" fsdax -a 2M
b=$(blockdev_of "$ns")
m=$(mnt_dir "$b")
check "xfs (reflink, rmapbt) on /dev/$b mounted -o dax" sh -c \
	"mkfs.xfs -f -q -m reflink=1,rmapbt=1 /dev/$b && mount -o dax /dev/$b $m"

recovered() { dmesg | grep -c 'recovery action for dax page: Recovered'; }

# files VARIANT DIR: the file read (R) and the file poisoned (P).
files() {
	local d=$2
	mkdir -p "$d" && touch "$d/testfile" || return 1
	./rpmem_io write "$d/testfile" 0 $size 1 >/dev/null || return 1
	case $1 in
	plain) return 0 ;;
	reflink) cp --reflink=always "$d/testfile" "$d/poisonfile" ;;
	partial)
		touch "$d/poisonfile" &&
			./rpmem_io write "$d/poisonfile" 0 $size 2 >/dev/null || return 1
		for ((i = 0; i < npages; i += 2)); do
			xfs_io -c "reflink $d/testfile $((i * page)) $((i * page)) $page" "$d/poisonfile" >/dev/null || return 1
		done
		;;
	esac
}

# extents FILE: "TOTAL SHARED": extents of FILE, and how many of them are
# flagged shared (FIEMAP_EXTENT_SHARED, 0x2000).
extents() {
	local l n=0 s=0
	while read -r l; do
		[[ $l =~ ^[0-9]+: ]] || continue
		n=$((n + 1))
		(( ${l##* } & 0x2000 )) && s=$((s + 1))
	done < <(xfs_io -c "fiemap -v" "$1")
	echo "$n $s"
}

# wait_ready FILE PID: until FILE has the line "ready" (30 s at most, and
# not after PID has exited).
wait_ready() {
	local i
	for ((i = 0; i < 150; i++)); do
		[ -e "$1" ] && has_line "$1" ready && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

# check_data VARIANT DIR: what preads of both files give.
check_data() {
	local d=$2 out
	out=$(./rpmem_io check "$d/testfile" 0 $size 1)
	case $1 in
	plain) ;;
	reflink) out+=" $(./rpmem_io check "$d/poisonfile" 0 $size 1)" ;;
	partial)
		for ((i = 0; i < npages; i++)); do
			out+=" $(./rpmem_io check "$d/poisonfile" $((i * page)) $page $((i % 2 ? 2 : 1)))"
		done
		;;
	esac
	echo "$out"
}

# inject TAG R P NPAGES: a holder maps pages 0..NPAGES-1 of R, then a new
# process maps P and injects MADV_HWPOISON over its pages 0..NPAGES-1.
inject() {
	local tag=$1 r=$2 p=$3 n=$4 hpid out
	./rpmem_fault hold "$r" 0 "$n" 5 >"$tmp/holder.out" &
	hpid=$!
	wait_ready "$tmp/holder.out" $hpid
	expect_eq "$tag: MADV_HWPOISON of $n page(s) from 0: SIGBUS BUS_MCEERR_AR to the caller, at page 0" \
		"sigbus code=BUS_MCEERR_AR lsb=12 stage=madvise page=0" "$(./rpmem_fault hwpoison "$p" 0 "$n")"
	wait $hpid
	out=$(tail -n 1 "$tmp/holder.out")
	expect_eq "$tag: a process that maps the data too is not signalled (no early kill)" "no signal" "$out"
}

for v in plain reflink partial; do
	d=$m/$v
	r=$d/testfile p=$d/poisonfile
	[ $v = plain ] && p=$r
	if files $v "$d" && umount "$m" && mount -o dax "/dev/$b" "$m"; then
		case $v in
		plain) ktap_pass "$v: a 64 KiB file, mapped and poisoned by the same name (xfs/550)" ;;
		reflink)
			read -r n s < <(extents "$p")
			expect_eq "$v: cp --reflink=always: every extent of the copy shared ($s of $n) (xfs/551)" "$n" "$s" ;;
		partial)
			read -r n s < <(extents "$p")
			expect_eq "$v: every other page reflinked: 8 of 16 extents shared (xfs/552)" "16 8" "$n $s" ;;
		esac
	else
		ktap_fail "$v: files created, file system mounted again"
	fi
	before=$(recovered)
	inject "$v, 1 page" "$r" "$p" 1
	inject "$v, 2 pages over it" "$r" "$p" 2
	expect_eq "$v: dmesg: 'recovery action for dax page: Recovered' once a page (3)" 3 $(($(recovered) - before))
	want="done $size"
	[ $v = reflink ] && want="done $size done $size"
	[ $v = partial ] && want="done $size$(for ((i = 0; i < npages; i++)); do echo -n " done $page"; done)"
	expect_eq "$v: the data reads back unchanged (the media was not touched)" "$want" "$(check_data $v "$d")"
	expect_eq "$v: nothing recorded in /sys/block/$b/badblocks" "" "$(</sys/block/$b/badblocks)"
done

if [ "$DRIVER" = rpmem ]; then
	expect_eq "rpmem: nothing recorded in debugfs list" "" "$(<"/sys/kernel/debug/rpmem/$b/list")"
else
	ktap_skip "rpmem: nothing recorded in debugfs list" "nd_pmem has no debugfs files"
fi
check "umount; xfs_repair -n finds the file system consistent" sh -c \
	"umount $m && xfs_repair -n /dev/$b >$tmp/repair.log 2>&1 || { tail -5 $tmp/repair.log; false; }"

setup "$ns back to raw" namespace_mode "$ns" raw
rm -rf "$tmp"
ktap_finished
