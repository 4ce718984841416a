#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs in the guest (see bench.sh): every workload on the same namespaces,
# nd_pmem and rpmem alternately (A B A B ...), one JSON line per measurement
# in $RPMEM_RESULTS/raw.jsonl, a progress line per step.
# usage: guest-bench.sh ROUNDS SECONDS RPMEM_KO
rounds=$1 secs=$2
export RPMEM_KO=$3
here=$(cd "$(dirname "$0")" && pwd)
st=$here/../selftests/rpmem
. "$st/lib.sh"
raw=$RPMEM_RESULTS/raw.jsonl
: >"$raw"
say() { echo "bench: $*"; }

# record WORKLOAD DRIVER ROUND VALUE UNIT
record() {
	printf '{"workload":"%s","driver":"%s","round":%s,"value":%s,"unit":"%s"}\n' "$@" >>"$raw"
	say "$1 [$2, round $3]: $4 $5"
}

# use DRIVER: only DRIVER bound (both are modules; nd_btt stays).
use() {
	for m in "$mnt_x" "$mnt_e"; do mountpoint -q "$m" && umount "$m"; done
	rmmod rpmem 2>/dev/null
	modprobe -r nd_pmem 2>/dev/null
	DRIVER=$1 driver_load || { say "cannot load $1"; exit 1; }
	bdev_raw=/dev/$(blockdev_of "$ns_raw") bdev_x=/dev/$(blockdev_of "$ns_x") bdev_e=/dev/$(blockdev_of "$ns_e")
	mount -o dax "$bdev_x" "$mnt_x" && mount -o dax "$bdev_e" "$mnt_e" || { say "mount failed under $1"; exit 1; }
}

# fio_mibs ARGS...: MiB/s of one fio run (read + write).
fio_mibs() {
	local out bw sum=0
	out=$(fio --output-format=json --time_based --runtime="$secs" --ramp_time=1 \
		--group_reporting --name=bench "$@" 2>/dev/null)
	for bw in $(grep -o '"bw_bytes" : [0-9]*' <<<"$out" | grep -o '[0-9]*$'); do
		sum=$((sum + bw))
	done
	echo $((sum / 1048576))
}

modprobe nd_btt
DRIVER=nd_pmem driver_load
ns_raw=$(namespace_on ACPI.NFIT 0) ns_x=$(namespace_on ACPI.NFIT 1) ns_e=$(namespace_on e820 0)
say "namespaces: $ns_raw raw, $ns_x fsdax+xfs, $ns_e fsdax+ext4"
namespace_mode "$ns_raw" raw
namespace_mode "$ns_x" fsdax -a 2M
namespace_mode "$ns_e" fsdax -a 2M
mnt_x=$(mnt_dir xfs) mnt_e=$(mnt_dir ext4)
mkfs.xfs -f -q -m reflink=1,rmapbt=1 -d su=2m,sw=1 "/dev/$(blockdev_of "$ns_x")"
mkfs.ext4 -F -q -b 4096 -E stride=512,stripe_width=512 "/dev/$(blockdev_of "$ns_e")"

# The physical reference: memcpy bandwidth of guest RAM.
record memcpy_guest_ram - 0 "$("$st/rpmem_bench" memcpy 268435456)" MiB/s

raw_size=512M fs_size=128M fs_bytes=$((128 << 20))
[ "$secs" -le 1 ] && raw_size=64M fs_size=32M fs_bytes=$((32 << 20))
for round in $(seq "$rounds"); do
	for drv in nd_pmem rpmem; do
		use $drv
		say "round $round: $drv"
		for jobs in 1 2; do
			for w in "randread 4k" "randwrite 4k" "read 128k" "write 128k"; do
				set -- $w
				record "raw_${1}_${2}_j$jobs" $drv "$round" \
					"$(fio_mibs --filename="$bdev_raw" --rw=$1 --bs=$2 --numjobs=$jobs --size=$raw_size \
						--ioengine=psync --direct=1)" MiB/s
			done
		done
		for fs in xfs ext4; do
			m=$mnt_x
			[ $fs = ext4 ] && m=$mnt_e
			for w in "randread 4k psync" "randwrite 4k psync" "read 1m psync" "write 1m psync" "randrw 4k mmap"; do
				set -- $w
				record "${fs}_dax_${1}_${2}_$3" $drv "$round" \
					"$(fio_mibs --directory="$m" --filename=bench.$fs --rw=$1 --bs=$2 --size=$fs_size \
						--ioengine=$3)" MiB/s
			done
		done
		# Page faults: first touch of every page of a file through a shared
		# mapping, 4 KiB (PTE) and 2 MiB (PMD) aligned.
		for kind in pte pmd; do
			record "faults_xfs_$kind" $drv "$round" \
				"$("$st/rpmem_bench" faults "$mnt_x/faults" "$fs_bytes" $kind)" pages/s
		done
		# Recovery: page-aligned pwrite over poisoned pages.
		for fs in xfs ext4; do
			m=$mnt_x
			[ $fs = ext4 ] && m=$mnt_e
			record "recovery_$fs" $drv "$round" "$("$st/rpmem_bench" recover "$m/recover" 256)" pages/s
		done
	done
done

# direct_access + poison lookup cost against the number of records (rpmem).
use rpmem
b=$(blockdev_of "$ns_raw") d=/sys/kernel/debug/rpmem/$(blockdev_of "$ns_raw")
half=$(($(</sys/block/$b/size) / 2))
for n in 0 1 64 512 10000; do
	echo "0 $((half * 2))" >$d/clear
	for ((i = 0; i < n; i++)); do echo "sectors $((half + i * 16)) 1"; done | "$st/rpmem_io" lines $d/inject >/dev/null
	for round in $(seq "$rounds"); do
		echo 200000 >$d/lookup_bench
		read -r _ recs _ calls _ ns <$d/lookup_bench
		record "lookup_records_$n" rpmem "$round" "$((ns * 1000 / calls))" ps/call
	done
done
echo "0 $((half * 2))" >$d/clear
say done
