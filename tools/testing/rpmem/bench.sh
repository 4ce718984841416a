#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: rpmem against the C nd_pmem in the same guest, on the same
# namespaces, alternately (A B B A ... per group of workloads), for every
# workload of tools/testing/selftests/rpmem/bench_run.sh; then per workload
# the median, min and max of each driver and the ratio rpmem / nd_pmem (the
# median of the rounds' paired ratios, with their min..max), as JSON, a
# Markdown table (printed) and a chart (SVG), in the results folder.
#
# usage: bench.sh [--quick]
#   default: Debian's own kernel (FLAVOR=stock, stock.sh), what users run:
#            no debug options, nothing compiled; 5 rounds of 5 s per
#            workload; FLAVOR=bench: this project's non-debug kernel (built
#            on demand, about 26 minutes cold)
#   --quick: a smoke run on the test kernel, 1 round of 1 s
# ROUNDS= and SECONDS_PER_RUN= change the rounds and their length (also with
# --quick); RPMEM_QEMU_OPTS="-icount shift=0,sleep=off,align=off" clocks the
# guest by its instructions (see shared/ENVIRONMENT.md).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
. "$here/lib.sh"

flavor=${FLAVOR:-stock} rounds=${ROUNDS:-5} secs=${SECONDS_PER_RUN:-5} quick=
case "$flavor" in bench | stock) ;; *) die "FLAVOR must be bench or stock" ;; esac
# The page fault workload touches a 1 GiB file: 2 GiB NVDIMMs.
nvdimm_size=2G
if [ "${1:-}" = --quick ]; then
	flavor=test rounds=${ROUNDS:-1} secs=${SECONDS_PER_RUN:-1} quick=--quick nvdimm_size=1G
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

step "bench: $rounds round(s) of ${secs}s per workload and driver ($flavor kernel, TCG)"
RPMEM_SMP=2 RPMEM_VM_NAME=bench RPMEM_NVDIMM_SIZE=$nvdimm_size \
	"$here/vm.sh" "$kdir" "$out" "${RPMEM_VM_TIMEOUT:-5400}" \
	"$root/tools/testing/selftests/rpmem/bench_run.sh" $quick --ko "$modsrc/rpmem.ko" "$rounds" "$secs" "$out" ||
	die "benchmark guest failed; see $out"
[ -s "$out/raw.jsonl" ] || die "no measurements in $out/raw.jsonl"

python3 "$here/bench-report.py" "$out" \
	"rpmem / nd_pmem, $flavor kernel, $(date +%Y-%m-%d), $(nproc) host cores, TCG" ||
	die "report failed"
echo "results: $out (results.md, results.json, chart.svg, raw.jsonl)"
