#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark's smoke run (bench_run.sh --quick, one round of 500 ms, with
# no poison and with 512 records): every workload runs to the end and
# measures something under both drivers at both levels; the
# recovery workload gets each driver's known answer (nd_pmem cannot repair
# poison on QEMU's NFIT, which has no clear-error command: its pwrite fails;
# rpmem repairs it; both repair on e820); the scale run (to 1,000 records)
# injects, measures memory and repairs a record with one write, and the
# lookup timer reports for every list size. The numbers themselves (a KASAN kernel) are not judged here:
# make bench does that on the bench kernel. The raw results stay in
# $RPMEM_RESULTS/bench for tools/testing/rpmem/bench-report.py.
cd "$(dirname "$0")" && . ./lib.sh

out=${RPMEM_RESULTS:-/tmp/rpmem-results}/bench
throughput=(raw_randread_4k_j1 raw_randwrite_4k_j1 raw_read_128k_j1 raw_write_128k_j1)
for fs in xfs ext4; do
	for w in randread_4k_psync randwrite_4k_psync read_1m_psync write_1m_psync randrw_4k_mmap; do
		throughput+=("${fs}_dax_$w")
	done
done
throughput+=(faults_xfs_pte faults_xfs_pmd)
levels=(0 512)
lookups=(0 1 64 512 1000)
# Measurements: memcpy; per level the throughput workloads; recovery and
# plain writes (4, level 0 only); per scale size a lookup, and for sizes
# above 0 two inject orders, memory and two writes.
workloads=$((1 + ${#levels[@]} * ${#throughput[@]} + 4 + ${#lookups[@]} + 5 * (${#lookups[@]} - 1)))
ktap_header
ktap_plan $((2 + ${#levels[@]} * ${#throughput[@]} + 3 + ${#lookups[@]} + 3 + 1))
if [ "$DRIVER" != rpmem ]; then
	ktap_skip_rest "benchmark smoke run" "compares rpmem with nd_pmem: needs rpmem"
	ktap_finished
	exit
fi

setup "$out created" mkdir -p "$out"
if ./bench_run.sh --quick --records "${levels[*]}" --scale "${lookups[*]}" 1 500ms "$out" \
	2>"$out/progress.log"; then
	ktap_pass "bench_run.sh --quick runs to the end"
else
	ktap_fail "bench_run.sh --quick runs to the end"
	tail -n 5 "$out/progress.log" | sed 's/^/# /'
fi

# Every measurement, read with shell builtins (each process costs seconds
# in a KASAN guest): v[WORKLOAD@RECORDS/DRIVER], and the workloads seen.
declare -A v=() seen=()
re='"workload":"([^"]*)","records":([0-9]+),"driver":"([^"]*)",.*"value":(-?[0-9.]+)'
while IFS= read -r line; do
	[[ $line =~ $re ]] || continue
	v[${BASH_REMATCH[1]}@${BASH_REMATCH[2]}/${BASH_REMATCH[3]}]=${BASH_REMATCH[4]}
	seen[${BASH_REMATCH[1]}@${BASH_REMATCH[2]}]=1
done <"$out/raw.jsonl"
# pos VALUE: a measured value above zero.
pos() { [ -n "$1" ] && [ -n "${1//[.0]/}" ]; }
# verdict DESC CONDITION...
verdict() {
	local desc=$1
	shift
	if "$@"; then ktap_pass "$desc"; else ktap_fail "$desc"; fi
}

m=${v[memcpy_guest_ram@0/-]:-}
verdict "memcpy reference measured (${m:-none} MiB/s)" pos "$m"
for n in "${levels[@]}"; do
	for w in "${throughput[@]}"; do
		a=${v[$w@$n/nd_pmem]:-} b=${v[$w@$n/rpmem]:-}
		verdict "$w, $n records, measured: nd_pmem ${a:-none}, rpmem ${b:-none}" \
			eval 'pos "$a" && pos "$b"'
	done
done
a=${v[recovery_xfs@0/nd_pmem]:-} b=${v[recovery_xfs@0/rpmem]:-}
verdict "recovery on NFIT (xfs): nd_pmem fails (${a:-none}), rpmem repairs (${b:-none} pages/s)" \
	eval '[ "$a" = 0 ] && pos "$b"'
a=${v[recovery_ext4@0/nd_pmem]:-} b=${v[recovery_ext4@0/rpmem]:-}
verdict "recovery on e820 (ext4): nd_pmem ${a:-none}, rpmem ${b:-none} pages/s" eval 'pos "$a" && pos "$b"'
p=()
for fs in xfs ext4; do
	for drv in nd_pmem rpmem; do
		p+=("${v[plain_write_$fs@0/$drv]:-}")
	done
done
verdict "plain overwrites measured (xfs, ext4; nd_pmem, rpmem: ${p[*]} pages/s)" \
	eval 'pos "${p[0]}" && pos "${p[1]}" && pos "${p[2]}" && pos "${p[3]}"'
for n in "${lookups[@]}"; do
	l=${v[lookup_records_$n@0/rpmem]:-}
	verdict "lookup with $n records: ${l:-none} ps/call" pos "$l"
done
n=${lookups[-1]}
a=${v[inject_asc_records_$n@0/rpmem]:-} b=${v[inject_random_records_$n@0/rpmem]:-}
verdict "$n records injected in either order: ${a:-none} and ${b:-none} ns/record" eval 'pos "$a" && pos "$b"'
a=${v[memory_records_$n@0/rpmem]:-}
verdict "memory of $n records measured: ${a:-none} bytes/record" pos "$a"
a=${v[repair_write_records_$n@0/rpmem]:-} b=${v[clean_write_records_$n@0/rpmem]:-}
verdict "a 4 KiB write repairs one of $n records (${a:-none} ns; clean page ${b:-none} ns)" \
	eval 'pos "$a" && pos "$b"'
expect_eq "no workload beyond the expected ones" $workloads ${#seen[@]}
ktap_finished
