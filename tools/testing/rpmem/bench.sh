#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: rpmem against the C nd_pmem in the same guest, on the same
# namespaces, alternately (A B B A ... per group of workloads), for every
# workload of tools/testing/selftests/rpmem/bench_run.sh at every poison
# level, then the poison store's scale run; per workload each driver's
# rounds, IOPS and mean latency, and the ratio rpmem / nd_pmem (the median
# of the rounds' paired ratios), as JSON, a Markdown table (printed) and a
# chart (SVG), in the results folder.
#
# usage: bench.sh [--quick]
#   default: Debian's own kernel (FLAVOR=stock, stock.sh), what users run:
#            no debug options, nothing compiled; FLAVOR=bench: this
#            project's non-debug kernel (built on demand, about 26 minutes
#            cold)
#   CLOCK=icount (default): the guest is clocked by the instructions it
#            executes (QEMU -icount shift=0,sleep=off,align=off: 1 ns per
#            instruction), so every time measured in it, and so IOPS and
#            latencies, counts CPU work and not the host's load: 2 rounds
#            (ABBA) of 1 s of guest time per workload with no poison, one
#            at the other poison levels (bench_run.sh --icount). CLOCK=wall: real
#            time under multi-threaded TCG, 5 rounds of 5 s (the host's
#            speed drifts: ratios vary by tens of percent). CLOCK=both:
#            both runs, one report. CLOCK=none: the probe guest alone.
#   --quick: a smoke run on the test kernel, 1 round of 1 s, wall clock
# ROUNDS= and SECONDS_PER_RUN= change the rounds and their length (also with
# --quick); RECORDS= the poison levels (default "0 1 512 10000"), SCALE= the
# record counts of the scale run (default "0 512 1000 10000 100000
# 1000000"), BENCH_GROUPS= the groups of workloads (default "raw xfs ext4 faults
# recovery"); see bench_run.sh.
# Then a probe guest (instruction-clocked; PROBE=0 skips it): bind time and
# memory of 1, 16 and 64 GiB namespaces (PROBE_SIZES=), raw and fsdax,
# with no poison and with 10,000 ranges on the bus (PROBE_POISON=); see
# bench_probe.sh.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
. "$here/lib.sh"

flavor=${FLAVOR:-stock} clock=${CLOCK:-icount} quick=
case "$flavor" in bench | stock) ;; *) die "FLAVOR must be bench or stock" ;; esac
case "$clock" in icount | wall | both | none) ;; *) die "CLOCK must be icount, wall, both or none" ;; esac
# The page fault workload touches a 1 GiB file: 2 GiB NVDIMMs.
nvdimm_size=2G
if [ "${1:-}" = --quick ]; then
	flavor=test clock=wall quick=--quick nvdimm_size=1G
fi
out=${RPMEM_OUT:-$(rpmem_cache)/results/bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

"$here/setup.sh" || die "setup failed"
kdir=$("$here/kernel.sh" "$flavor") || die "guest kernel ($flavor) build failed"

# The module for that kernel, built in a fresh copy of the tree in the
# results folder, so that the test build in the tree stays as it is and
# runs at once do not share one (a copy left from another tree could keep
# objects newer than these sources, which make would not rebuild).
modsrc=$out/module
step "bench: building rpmem.ko against the $flavor kernel in $modsrc"
mkdir -p "$modsrc"
(cd "$root" && git ls-files -co --exclude-standard -- Kbuild Makefile rust drivers include tools/testing/rpmem/*.sh |
	tar cf - -T -) | tar xf - -C "$modsrc"
# Debian's kernel: built in its toolchain root (build.sh, FLAVOR=stock).
if [ "$flavor" = stock ]; then
	modbuild=(env FLAVOR=stock make -C "$modsrc")
else
	modbuild=(make -C "$modsrc" KDIR="$kdir")
fi
if ! "${modbuild[@]}" >"$out/module-build.log" 2>&1; then
	tail -n 30 "$out/module-build.log"
	die "module build failed; log: $out/module-build.log"
fi
make -s -C "$root/tools/testing/selftests/rpmem" >"$out/helpers-build.log" 2>&1 ||
	{ cat "$out/helpers-build.log"; die "benchmark helpers failed to build"; }

# run CLOCK: one guest measuring everything, into $out/CLOCK.
run() {
	local rounds secs opts=() args=()
	case "$1" in
	icount)
		rounds=${ROUNDS:-2} secs=${SECONDS_PER_RUN:-1} args=(--icount)
		opts=(-icount shift=0,sleep=off,align=off)
		;;
	*) rounds=${ROUNDS:-5} secs=${SECONDS_PER_RUN:-5} ;;
	esac
	[ -n "$quick" ] && rounds=${ROUNDS:-1} secs=${SECONDS_PER_RUN:-1}
	# The guest gets its arguments split at blanks: lists go with commas.
	[ -n "${RECORDS:-}" ] && args+=(--records "${RECORDS// /,}")
	[ -n "${SCALE:-}" ] && args+=(--scale "${SCALE// /,}")
	[ -n "${BENCH_GROUPS:-}" ] && args+=(--groups "${BENCH_GROUPS// /,}")
	mkdir -p "$out/$1"
	step "bench: $1 clock: $rounds round(s) of ${secs}s per workload and driver ($flavor kernel, TCG)"
	RPMEM_SMP=2 RPMEM_VM_NAME=bench-$1 RPMEM_NVDIMM_SIZE=$nvdimm_size \
		RPMEM_QEMU_OPTS="${RPMEM_QEMU_OPTS:-} ${opts[*]}" \
		"$here/vm.sh" "$kdir" "$out/$1" "${RPMEM_VM_TIMEOUT:-7200}" \
		"$root/tools/testing/selftests/rpmem/bench_run.sh" $quick --ko "$modsrc/rpmem.ko" \
		"${args[@]}" "$rounds" "$secs" "$out/$1" ||
		die "benchmark guest failed; see $out/$1"
	[ -s "$out/$1/raw.jsonl" ] || die "no measurements in $out/$1/raw.jsonl"
}

clocks=$clock
[ "$clock" = both ] && clocks="icount wall"
[ "$clock" = none ] && clocks=
reports=()
for c in $clocks; do
	run "$c"
	reports+=("$c=$out/$c")
done

# The probe guest: NVDIMMs of PROBE_SIZES beside the usual two.
if [ -z "$quick" ] && [ "${PROBE:-1}" != 0 ]; then
	sizes=${PROBE_SIZES:-1G 16G 64G}
	step "bench: probe: bind time and memory of $sizes namespaces, both drivers (icount)"
	mkdir -p "$out/probe"
	RPMEM_SMP=2 RPMEM_VM_NAME=bench-probe RPMEM_NVDIMM_SIZE=2G RPMEM_NVDIMM_EXTRA="$sizes" \
		RPMEM_QEMU_OPTS="${RPMEM_QEMU_OPTS:-} -icount shift=0,sleep=off,align=off" \
		"$here/vm.sh" "$kdir" "$out/probe" "${RPMEM_VM_TIMEOUT:-7200}" \
		"$root/tools/testing/selftests/rpmem/bench_probe.sh" --ko "$modsrc/rpmem.ko" \
		--poison "${PROBE_POISON:-10000}" --base 2G "$out/probe" ||
		die "probe guest failed; see $out/probe"
	reports+=("probe=$out/probe")
fi

python3 "$here/bench-report.py" "$out" \
	"rpmem / nd_pmem, $flavor kernel, $(date +%Y-%m-%d), $(nproc) host cores, TCG" "${reports[@]}" ||
	die "report failed"
echo "results: $out (results.md, results.json, chart.svg; raw.jsonl per clock)"
