#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The probe benchmark (make bench's probe guest): the time a bind of a
# namespace takes and the memory it costs, for the namespaces of the extra
# NVDIMMs of vm.sh (RPMEM_NVDIMM_EXTRA, e.g. 1, 16 and 64 GiB, sparse),
# raw and fsdax with the struct pages in RAM (map=mem) and on the device
# (map=dev), under nd_pmem and rpmem, with no known poison; then raw with N
# ranges on the bus: machine checks logged with mce-inject while no driver
# is bound, which the NFIT handler adds to the bus's list, so that the bind
# reads them (nd_pmem keeps 512 at most). With poison known, ndctl is not
# run again: it reads regionN/badblocks, whose text (the kernel's
# badblocks_show) overflows its page past about 300 ranges and makes sysfs
# warn. One JSON line per measurement in OUT/raw.jsonl: "probe_SIZE_MODE"
# in ns (guest time) and "probe_memory_SIZE_MODE" in KiB (MemFree before
# the bind less after).
#
# usage: bench_probe.sh [--ko RPMEM_KO] [--poison N] [--base SIZE] OUT
#   --base: the size of vm.sh's two usual NVDIMMs (their namespaces are
#           not measured), 2G by default (bench.sh's probe guest)
cd "$(dirname "$0")" && . ./lib.sh

poison=10000 base=$((2 << 30))
while [ $# -gt 1 ]; do
	case "$1" in
	--ko) export RPMEM_KO=$2; shift ;;
	--poison) poison=$2; shift ;;
	--base) base=$(numfmt --from=iec "$2"); shift ;;
	*) echo "bench_probe.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
out=$1
mkdir -p "$out"
raw=$out/raw.jsonl
: >"$raw"
say() { echo "probe: [${SECONDS}s] $*" >&2; }

# record WORKLOAD DRIVER VALUE UNIT, at $level known ranges.
level=0
record() {
	printf '{"workload":"%s","records":%s,"driver":"%s","round":1,"value":%s,"unit":"%s"}\n' \
		"$1" "$level" "$2" "$3" "$4" >>"$raw"
	say "$1 [$2, $level ranges on the bus]: $3 $4"
}

# The extra NVDIMMs' namespaces: the ACPI.NFIT ones of another size than
# the usual two (regions are not numbered in the order of the NVDIMMs).
nss=()
for i in $(seq 0 15); do
	ns=$(namespace_on ACPI.NFIT "$i")
	[ -n "$ns" ] || break
	[ "$(read_attr "/sys/bus/nd/devices/$ns/size")" = "$base" ] || nss+=("$ns")
done
say "namespaces: ${nss[*]}"
[ ${#nss[@]} -gt 0 ] || { say "no extra NVDIMMs (vm.sh RPMEM_NVDIMM_EXTRA)"; exit 1; }
modprobe nd_btt

# use DRIVER: only DRIVER loaded.
use() {
	rmmod rpmem 2>/dev/null
	modprobe -r nd_pmem 2>/dev/null
	DRIVER=$1 driver_load || { say "cannot load $1"; exit 1; }
}

# device NS MODE: the nd device a bind of NS in MODE binds (the namespace,
# or the pfn device that claims it).
device() {
	local p
	[ "$2" = raw ] && { echo "$1"; return; }
	for p in /sys/bus/nd/devices/pfn*; do
		[ "$(read_attr "$p/namespace")" = "$1" ] && { echo "${p##*/}"; return; }
	done
}

# usec: guest time now, in microseconds (a builtin: no process).
usec() { echo "${EPOCHREALTIME/./}"; }
memfree() { awk '$1 == "MemFree:" { print $2 }' /proc/meminfo; }

# measure DRIVER MODES: every namespace in every mode of MODES, one bind
# each; the modes other than raw are set with ndctl (and every namespace
# is raw again at the end).
measure() {
	local drv=$1 modes=$2 nd ns mode dev gib t0 t1 m0 m1
	nd=$(DRIVER=$drv nd_driver)
	use "$drv"
	for ns in "${nss[@]}"; do
		gib=$(($(read_attr "/sys/bus/nd/devices/$ns/size") >> 30))
		for mode in $modes; do
			case $mode in
			raw) [ "$modes" = raw ] || namespace_mode "$ns" raw ;;
			*) namespace_mode "$ns" fsdax -M "$mode" ;;
			esac || { say "$ns: ndctl create-namespace ($mode) failed under $drv"; exit 1; }
			dev=$(device "$ns" "$mode")
			echo "$dev" >"/sys/bus/nd/drivers/$nd/unbind" || { say "unbind $dev failed"; exit 1; }
			sync
			echo 3 >/proc/sys/vm/drop_caches
			m0=$(memfree) t0=$(usec)
			if ! echo "$dev" >"/sys/bus/nd/drivers/$nd/bind"; then
				say "$drv cannot bind $dev ($mode, ${gib} GiB, $level ranges)"
				record "probe_${gib}G_$mode" "$drv" 0 ns
				continue
			fi
			t1=$(usec) m1=$(memfree)
			record "probe_${gib}G_$mode" "$drv" $(((t1 - t0) * 1000)) ns
			record "probe_memory_${gib}G_$mode" "$drv" $((m0 - m1)) KiB
		done
		[ "$modes" = raw ] || namespace_mode "$ns" raw || exit 1
	done
}

measure nd_pmem "raw mem dev"
measure rpmem "raw mem dev"

# N machine checks at every other page of the last 2N pages of each
# namespace, logged with no driver bound: the bus records them, no driver
# revalidates N times. A pause every 64: the kernel's pool of machine
# check records holds a few hundred until its work has run.
[ "$poison" -gt 0 ] || exit 0
rmmod rpmem 2>/dev/null
modprobe -r nd_pmem 2>/dev/null
modprobe mce-inject || { say "no mce-inject"; exit 1; }
m=/sys/kernel/debug/mce-inject
for ns in "${nss[@]}"; do
	read -r start <"/sys/bus/nd/devices/$ns/resource"
	size=$(read_attr "/sys/bus/nd/devices/$ns/size")
	first=$(((start + size) / 4096 - 2 * poison))
	for ((k = 0; k < poison; k++)); do
		echo sw >$m/flags && echo 0xbc0000000000009f >$m/status &&
			echo $(((first + 2 * k) * 4096)) >$m/addr && echo 0x8c >$m/misc && echo 1 >$m/bank ||
			{ say "machine check $k on $ns failed"; exit 1; }
		[ $((k % 64)) = 63 ] && sleep 0.2
	done
	say "$poison machine checks logged on $ns"
done
# What the bus holds: rpmem reads every range at bind (debugfs list).
use rpmem
for ns in "${nss[@]}"; do
	b=$(blockdev_of "$ns")
	n=$(wc -l <"/sys/kernel/debug/rpmem/$b/list")
	[ "$n" = "$poison" ] || { say "$ns: the bus holds $n ranges, not $poison"; exit 1; }
done
level=$poison
measure nd_pmem raw
measure rpmem raw
say done
