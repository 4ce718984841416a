#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark's workloads (make bench, and its smoke run bench_smoke.sh):
# nd_pmem and rpmem alternately (A B B A ...) on the same namespaces, one
# JSON line per measurement in OUT/raw.jsonl, a progress line per step on
# stderr. Needs root, both drivers (nd_pmem as a module, RPMEM_KO) and the
# guest's namespaces: ACPI.NFIT 0 (raw), ACPI.NFIT 1 (fsdax, xfs) and e820
# 0 (fsdax, ext4).
#
# usage: bench_run.sh [--quick] [--ko RPMEM_KO] [--records "N..."]
#                     [--scale "N..."] ROUNDS RUNTIME OUT
#   RUNTIME: of each fio workload, in fio's units (5 is 5 s; 500ms)
#   --records: the poison levels every workload runs at (default "0 1 512
#            10000"): that many one-sector records in the last eighth
#            of each namespace, away from the data, injected through the
#            disk's sysfs badblocks after each driver load (nd_pmem holds
#            512 at most: its larger levels are not run)
#   --scale: the record counts of the poison store's scale run (rpmem:
#            inject time in ascending and scattered order, memory, lookup
#            cost, the write that repairs one record; 0: the lookup only);
#            default "0 512 1000 10000 100000 1000000"
#   --groups: the groups of workloads (default "raw xfs ext4 faults
#            recovery"; recovery runs at level 0 only)
#   --quick: small files, one fio job, no ramp, fewer lookup calls
#   --icount: the guest is instruction-clocked (bench.sh CLOCK=icount):
#            its times count instructions, so there is no warm-up to wait
#            for and no drift to pair against: no fio ramp, a 256 MiB file
#            for the fault workloads, and one round at poison levels above
#            0 (level 0 runs every round and shows the repeatability)
# Times are measured in the guest: under an instruction-clocked QEMU
# (bench.sh's default) they count guest instructions.
cd "$(dirname "$0")" && . ./lib.sh

quick=0 icount=0 levels="0 1 512 10000" scale="0 512 1000 10000 100000 1000000"
all_groups="raw xfs ext4 faults recovery"
while [ $# -gt 3 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--icount) icount=1 ;;
	--ko) export RPMEM_KO=$2; shift ;;
	# Lists: blank- or comma-separated (vm.sh splits its arguments at blanks).
	--records) levels=${2//,/ }; shift ;;
	--scale) scale=${2//,/ }; shift ;;
	--groups) all_groups=${2//,/ }; shift ;;
	*) echo "bench_run.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
rounds=$1 secs=$2 out=$3
mkdir -p "$out"
raw=$out/raw.jsonl
: >"$raw"
say() { echo "bench: [${SECONDS}s] $*" >&2; }

if [ $quick = 1 ]; then
	raw_size=16M fs_size=8M fault_bytes=$((2 << 20)) recover_pages=16 memcpy_bytes=$((64 << 20))
	jobs_list="1" ramp=0 lookup_calls=20000
else
	# A 1 GiB file for the fault workloads: the NVDIMMs must be 2 GiB.
	raw_size=512M fs_size=128M fault_bytes=$((1 << 30)) recover_pages=256 memcpy_bytes=$((256 << 20))
	jobs_list="1 2" ramp=1 lookup_calls=2000000
	[ $icount = 1 ] && ramp=0 fault_bytes=$((256 << 20))
fi

# record WORKLOAD DRIVER ROUND VALUE UNIT [LAT_NS]: at the current poison
# level ($level records); LAT_NS: fio's mean latency.
level=0
record() {
	printf '{"workload":"%s","records":%s,"driver":"%s","round":%s,"value":%s,"unit":"%s"%s}\n' \
		"$1" "$level" "$2" "$3" "$4" "$5" "${6:+,\"lat_ns\":$6}" >>"$raw"
	say "$1 [$2, $level records, round $3]: $4 $5${6:+, mean latency $6 ns}"
}

# use DRIVER: only DRIVER bound (loaded anew: no records left from an
# earlier level), both file systems mounted with -o dax.
use() {
	for m in "$mnt_x" "$mnt_e"; do mountpoint -q "$m" && umount "$m"; done
	rmmod rpmem 2>/dev/null
	modprobe -r nd_pmem 2>/dev/null
	DRIVER=$1 driver_load || { say "cannot load $1"; exit 1; }
	bdev_raw=/dev/$(blockdev_of "$ns_raw") bdev_x=/dev/$(blockdev_of "$ns_x") bdev_e=/dev/$(blockdev_of "$ns_e")
	mount -o dax "$bdev_x" "$mnt_x" && mount -o dax "$bdev_e" "$mnt_e" || { say "mount failed under $1"; exit 1; }
}

# poison_tail N: N one-sector records in the last eighth of each namespace
# (the 256 MiB e820 one takes 16,384 there), through the disks' sysfs
# badblocks; fails if the driver refuses them (nd_pmem past 512).
poison_tail() {
	local dev pages
	[ "$1" = 0 ] && return 0
	for dev in "$bdev_raw" "$bdev_x" "$bdev_e"; do
		pages=$(($(blockdev --getsz "$dev") / 8))
		./rpmem_bench inject "/sys/block/${dev#/dev/}/badblocks" "$1" $((pages - pages / 8)) \
			$((pages / 8)) asc >/dev/null || return 1
	done
}

# fio_job NAME RW BS ENGINE NUMJOBS OPTION...: one section of the job file;
# stonewalled (its own reporting group), so that a single fio start
# measures every workload in turn (fio's start-up is slow in a guest).
fio_job() {
	printf '[%s]\nrw=%s\nbs=%s\nioengine=%s\nnumjobs=%s\nstonewall\n' "$1" "$2" "$3" "$4" "$5"
	shift 5
	printf '%s\n' "$@"
}

# fio_record DRIVER ROUND JOBFILE: runs the job file and records every job's
# IOPS (read + write) and mean latency (ns, weighted by the IOPS of each
# direction); 0 for a job that failed or reported nothing.
fio_record() {
	local -A res=()
	local name line iops lat
	fio --output-format=terse --terse-version=3 --output="$3.out" "$3" >/dev/null 2>&1
	# Terse v3 fields: 3 name, 5 error, 8/49 read/write IOPS, 40/81
	# read/write total latency mean (us).
	while read -r name line; do
		res[$name]=$line
	done < <(awk -F';' '{ i = $8 + $49; l = i ? ($8 * $40 + $49 * $81) / i * 1000 : 0
		if ($5 != 0) { i = 0; l = 0 }
		printf "%s %d %.1f\n", $3, i, l }' "$3.out")
	for name in $(sed -n 's/^\[\(.*\)\]$/\1/p' "$3"); do
		[ "$name" = global ] && continue
		read -r iops lat <<<"${res[$name]:-0 0}"
		record "$name" "$1" "$2" "$iops" IOPS "$lat"
	done
}

modprobe nd_btt
DRIVER=nd_pmem driver_load || { say "cannot load nd_pmem"; exit 1; }
ns_raw=$(namespace_on ACPI.NFIT 0) ns_x=$(namespace_on ACPI.NFIT 1) ns_e=$(namespace_on e820 0)
say "namespaces: $ns_raw raw, $ns_x fsdax+xfs, $ns_e fsdax+ext4"
namespace_mode "$ns_raw" raw &&
	namespace_mode "$ns_x" fsdax -a 2M &&
	namespace_mode "$ns_e" fsdax -a 2M || { say "ndctl create-namespace failed"; exit 1; }
mnt_x=$(mnt_dir xfs) mnt_e=$(mnt_dir ext4)
# Precondition (full runs): write both NFIT namespaces once, so that no
# round pays for the host's first touch of the NVDIMM backing files.
if [ $quick = 0 ]; then
	for ns in "$ns_raw" "$ns_x"; do
		dev=/dev/$(blockdev_of "$ns")
		dd if=/dev/zero of="$dev" bs=1M count=$(($(blockdev --getsize64 "$dev") >> 20)) \
			oflag=direct status=none || { say "preconditioning $dev failed"; exit 1; }
	done
	say "preconditioned the NFIT namespaces"
fi
mkfs.xfs -f -q -m reflink=1,rmapbt=1 -d su=2m,sw=1 "/dev/$(blockdev_of "$ns_x")" &&
	mkfs.ext4 -F -q -b 4096 -E stride=512,stripe_width=512 "/dev/$(blockdev_of "$ns_e")" ||
	{ say "mkfs failed"; exit 1; }

# The physical reference: memcpy bandwidth of guest RAM.
record memcpy_guest_ram - 0 "$(./rpmem_bench memcpy $memcpy_bytes)" MiB/s

# run_group GROUP DRIVER ROUND: one group of workloads under DRIVER.
run_group() {
	local group=$1 drv=$2 round=$3 fs m n w kind
	case $group in
	raw | xfs | ext4)
		{
			printf '[global]\nthread\ntime_based\nruntime=%s\nramp_time=%s\ngroup_reporting\n' "$secs" "$ramp"
			if [ "$group" = raw ]; then
				for n in $jobs_list; do
					for w in "randread 4k" "randwrite 4k" "read 128k" "write 128k"; do
						set -- $w
						fio_job "raw_${1}_${2}_j$n" $1 $2 psync $n filename="$bdev_raw" direct=1 size=$raw_size
					done
				done
			else
				m=$mnt_x
				[ "$group" = ext4 ] && m=$mnt_e
				for w in "randread 4k psync" "randwrite 4k psync" "read 1m psync" "write 1m psync" "randrw 4k mmap"; do
					set -- $w
					fio_job "${group}_dax_${1}_${2}_$3" $1 $2 $3 1 filename="$m/bench.$group" size=$fs_size
				done
			fi
		} >/tmp/bench.fio
		fio_record "$drv" "$round" /tmp/bench.fio
		rm -f "$mnt_x/bench.xfs" "$mnt_e/bench.ext4"
		;;
	faults)
		# First touch of every page of a file through a shared mapping,
		# 4 KiB (PTE) and 2 MiB (PMD) aligned.
		for kind in pte pmd; do
			record "faults_xfs_$kind" "$drv" "$round" \
				"$(./rpmem_bench faults "$mnt_x/faults" "$fault_bytes" $kind || echo 0)" pages/s
		done
		;;
	recovery)
		# One page-aligned pwrite over poisoned pages (0: it fails), and
		# the same pwrite over the same pages before they were poisoned.
		for fs in xfs ext4; do
			m=$mnt_x
			[ $fs = ext4 ] && m=$mnt_e
			read -r rec plain < <(./rpmem_bench recover "$m/recover" $recover_pages || echo 0 0)
			record "recovery_$fs" "$drv" "$round" "${rec:-0}" pages/s
			record "plain_write_$fs" "$drv" "$round" "${plain:-0}" pages/s
		done
		;;
	esac
}

# The host's speed drifts by tens of percent over minutes (wall clock), so
# the two drivers run each group of workloads back to back, in ABBA order
# (nd_pmem rpmem, rpmem nd_pmem, ...: one driver switch per group), and the
# report pairs the measurements of a round. Each poison level loads the
# driver anew and injects its records.
order="nd_pmem rpmem"
for level in $levels; do
	level_rounds=$rounds
	[ $icount = 1 ] && [ "$level" != 0 ] && level_rounds=1
	for round in $(seq "$level_rounds"); do
		# Recovery injects records of its own (nd_pmem would refuse them
		# past 512): at level 0 only.
		groups=$all_groups
		[ "$level" = 0 ] || groups=${groups//recovery/}
		for group in $groups; do
			for drv in $order; do
				use $drv
				if ! poison_tail "$level"; then
					say "$drv does not take $level records (see above): level skipped for it"
					continue
				fi
				say "round $round, $level records: $group, $drv"
				run_group $group $drv "$round"
			done
			set -- $order
			order="$2 $1"
		done
	done
done
level=0

# The poison store at scale (rpmem): N one-sector records over the whole raw
# namespace (at most 4 on each odd page, so the even pages stay clean), in
# ascending and in scattered order: the inject time per record (through
# sysfs, one write each), the memory of the store (the maple tree's nodes,
# from /proc/slabinfo, after a grace period), the cost of a failfast
# direct_access lookup at an even page (debugfs lookup_bench: it searches
# and finds nothing), and the time of one 4 KiB write that repairs a record.
use rpmem
b=$(blockdev_of "$ns_raw")
d=/sys/kernel/debug/rpmem/$b
size=$(</sys/block/$b/size)
pages=$((size / 8))
maple_bytes() { awk '$1 == "maple_node" { print $2 * $4 }' /proc/slabinfo; }
# settled_maple_bytes: maple_bytes once the nodes that RCU frees are freed:
# two readings a second apart within 1% (at most 20 s).
settled_maple_bytes() {
	local a b i
	b=$(maple_bytes)
	for i in $(seq 20); do
		sleep 1
		a=$b b=$(maple_bytes)
		[ $(((a - b) * 100)) -le "$b" ] && [ $(((b - a) * 100)) -le "$b" ] && break
	done
	echo "$b"
}
for n in $scale; do
	if [ $((n)) -gt $((pages / 2 * 4)) ]; then
		say "scale: $n records do not fit $pages pages: skipped"
		continue
	fi
	echo "0 $size" >$d/clear
	for order in asc random; do
		[ "$n" = 0 ] && break
		echo "0 $size" >$d/clear
		before=$(settled_maple_bytes)
		per=$(./rpmem_bench inject /sys/block/$b/badblocks "$n" 0 "$pages" $order) ||
			{ say "injecting $n records ($order) failed"; exit 1; }
		record "inject_${order}_records_$n" rpmem 1 "$per" ns/record
	done
	read -r _ recs < <(grep table_extents $d/counters)
	[ "$n" -le 512 ] || [ "$recs" = "$n" ] || { say "the table holds $recs records, not $n"; exit 1; }
	if [ "$n" != 0 ]; then
		record "memory_records_$n" rpmem 1 "$((($(settled_maple_bytes) - before) / n))" bytes/record
	fi
	for round in $(seq "$rounds"); do
		echo $lookup_calls >$d/lookup_bench
		read -r _ recs _ calls _ ns <$d/lookup_bench
		[ "$recs" = "$n" ] || { say "lookup_bench saw $recs records, not $n"; exit 1; }
		record "lookup_records_$n" rpmem "$round" "$((ns * 1000 / calls))" ps/call
	done
	[ "$n" = 0 ] && continue
	# The page of record n/2 (odd), then a clean even page for reference.
	at=$((((n / 2) * (pages / 2 * 4) / n / 4 * 2 + 1) * 8))
	record "repair_write_records_$n" rpmem 1 "$(./rpmem_bench write1 /dev/$b $at)" ns
	record "clean_write_records_$n" rpmem 1 "$(./rpmem_bench write1 /dev/$b $((at - 8)))" ns
done
echo "0 $size" >$d/clear
for m in "$mnt_x" "$mnt_e"; do umount "$m"; done
say done
