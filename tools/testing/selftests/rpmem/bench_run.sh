#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark's workloads (make bench, and its smoke run bench_smoke.sh):
# nd_pmem and rpmem alternately (A B A B ...) on the same namespaces, one
# JSON line per measurement in OUT/raw.jsonl, a progress line per step on
# stderr. Needs root, both drivers (nd_pmem as a module, RPMEM_KO) and the
# guest's namespaces: ACPI.NFIT 0 (raw), ACPI.NFIT 1 (fsdax, xfs) and e820
# 0 (fsdax, ext4).
#
# usage: bench_run.sh [--quick] [--ko RPMEM_KO] ROUNDS RUNTIME OUT
#   RUNTIME: of each fio workload, in fio's units (5 is 5 s; 500ms)
#   --quick: small files, one fio job, no ramp, 1,000 records at most for
#            the lookups (10,000 otherwise), fewer lookup calls
cd "$(dirname "$0")" && . ./lib.sh

quick=0
while [ $# -gt 3 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--ko) export RPMEM_KO=$2; shift ;;
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
	jobs_list="1" ramp=0 lookup_calls=20000 lookups="0 1 64 512 1000"
else
	# A 1 GiB file for the fault workloads: the NVDIMMs must be 2 GiB.
	raw_size=512M fs_size=128M fault_bytes=$((1 << 30)) recover_pages=256 memcpy_bytes=$((256 << 20))
	jobs_list="1 2" ramp=1 lookup_calls=2000000 lookups="0 1 64 512 10000"
fi

# record WORKLOAD DRIVER ROUND VALUE UNIT
record() {
	printf '{"workload":"%s","driver":"%s","round":%s,"value":%s,"unit":"%s"}\n' "$@" >>"$raw"
	say "$1 [$2, round $3]: $4 $5"
}

# use DRIVER: only DRIVER bound, both file systems mounted with -o dax.
current=
use() {
	[ "$current" = "$1" ] && return
	current=$1
	for m in "$mnt_x" "$mnt_e"; do mountpoint -q "$m" && umount "$m"; done
	rmmod rpmem 2>/dev/null
	modprobe -r nd_pmem 2>/dev/null
	DRIVER=$1 driver_load || { say "cannot load $1"; exit 1; }
	bdev_raw=/dev/$(blockdev_of "$ns_raw") bdev_x=/dev/$(blockdev_of "$ns_x") bdev_e=/dev/$(blockdev_of "$ns_e")
	mount -o dax "$bdev_x" "$mnt_x" && mount -o dax "$bdev_e" "$mnt_e" || { say "mount failed under $1"; exit 1; }
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
# MiB/s (read + write; 0 for a job that reported nothing).
fio_record() {
	local -A mibs=()
	local name bw_r bw_w rest
	fio --output-format=terse --terse-version=3 --output="$3.out" "$3" >/dev/null 2>&1
	while IFS=';' read -r _ _ name _ _ _ bw_r rest; do
		IFS=';' read -r -a rest <<<"$rest"
		bw_w=${rest[40]} # field 48 of the terse v3 line
		printf -v "mibs[$name]" '%d.%02d' $(((bw_r + bw_w) / 1024)) $(((bw_r + bw_w) % 1024 * 100 / 1024))
	done <"$3.out"
	for name in $(sed -n 's/^\[\(.*\)\]$/\1/p' "$3"); do
		[ "$name" = global ] || record "$name" "$1" "$2" "${mibs[$name]:-0}" MiB/s
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
		# One page-aligned pwrite over poisoned pages (0: it fails).
		for fs in xfs ext4; do
			m=$mnt_x
			[ $fs = ext4 ] && m=$mnt_e
			record "recovery_$fs" "$drv" "$round" \
				"$(./rpmem_bench recover "$m/recover" $recover_pages || echo 0)" pages/s
		done
		;;
	esac
}

# The host's speed drifts by tens of percent over minutes, so the two
# drivers run each group of workloads back to back, in ABBA order (nd_pmem
# rpmem, rpmem nd_pmem, ...: one driver switch per group), and the report
# pairs the measurements of a round.
order="nd_pmem rpmem"
for round in $(seq "$rounds"); do
	for group in raw xfs ext4 faults recovery; do
		for drv in $order; do
			use $drv
			say "round $round: $group, $drv"
			run_group $group $drv "$round"
		done
		set -- $order
		order="$2 $1"
	done
done

# direct_access + poison lookup cost against the number of records (rpmem,
# debugfs lookup_bench): the lookups go to even pages all over the raw
# namespace, the records to odd pages spread evenly between them, so that
# every lookup searches the whole list and finds nothing.
use rpmem
b=$(blockdev_of "$ns_raw")
d=/sys/kernel/debug/rpmem/$b
size=$(</sys/block/$b/size)
pairs=$((size / 16))
for n in $lookups; do
	echo "0 $size" >$d/clear
	for ((i = 0; i < n; i++)); do echo "sectors $(((i * pairs / n * 2 + 1) * 8)) 1"; done |
		./rpmem_io lines $d/inject >/dev/null || { say "injecting $n records failed"; exit 1; }
	for round in $(seq "$rounds"); do
		echo $lookup_calls >$d/lookup_bench
		read -r _ recs _ calls _ ns <$d/lookup_bench
		[ "$recs" = $n ] || { say "lookup_bench saw $recs records, not $n"; exit 1; }
		record "lookup_records_$n" rpmem "$round" "$((ns * 1000 / calls))" ps/call
	done
done
echo "0 $size" >$d/clear
for m in "$mnt_x" "$mnt_e"; do umount "$m"; done
say done
