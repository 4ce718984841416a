#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make test: host unit tests and the harness self-test, then guest boots
# (at once) running KUnit and the selftests, each with its dmesg check.
# Ends with "N passed, N failed, N skipped" (counted by results.sh).
#
# usage: test.sh [selftest...]        (default: all of TEST_PROGS)
# DRIVER=nd_pmem runs the guest suites against the C driver instead.
# FLAVOR=stock boots Debian's own kernel (stock.sh) instead of the test
# kernel: no KASAN, lockdep or KUnit there (KUnit is counted as skipped),
# and no clippy (the stock toolchain root has none; the test flavor runs it).
# CYCLES=, ND_PMEM_RACE=, ND_PMEM_FUZZ=, FUZZ_COUNT=, FUZZ_SEED=,
# STRESS_SECONDS= and STRESS_SEED= are
# passed to the suites in the guest (see cycles.sh, mf_unbind.sh,
# teardown.sh, fuzz.sh, poison_stress.sh).
# Results go to a new folder: $RPMEM_OUT if it is empty or new, else a new
# folder inside it, so that an earlier run's results are never counted.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
. "$here/lib.sh"
. "$here/results.sh"

DRIVER=${DRIVER:-rpmem}
case "$DRIVER" in rpmem | nd_pmem) ;; *) die "DRIVER must be rpmem or nd_pmem" ;; esac
out=$(results_dir "${RPMEM_OUT:-$(rpmem_cache)/results/test-$(date +%Y%m%d-%H%M%S)-$$}") ||
	die "cannot create a results folder"
COUNT_ROOT=$out
start=$(date +%s)

"$here/setup.sh" || die "setup failed"
export FLAVOR=${FLAVOR:-test}
case "$FLAVOR" in test | stock) ;; *) die "FLAVOR must be test or stock" ;; esac
kdir=$("$here/kernel.sh" "$FLAVOR") || die "guest kernel preparation failed"
# With clippy: its warnings are errors (-D warnings), so a lint fails here.
clippy=CLIPPY=1
[ "$FLAVOR" = stock ] && clippy=
"$here/build.sh" modules $clippy >"$out/module-build.log" 2>&1 ||
	{ tail -n 30 "$out/module-build.log"; die "module build${clippy:+ (with clippy)} failed; log: $out/module-build.log"; }

make -s -C "$root/tools/testing/selftests/rpmem" >"$out/selftests-build.log" 2>&1 ||
	{ cat "$out/selftests-build.log"; die "selftest helpers failed to build; log: $out/selftests-build.log"; }

host_pass=0 host_fail=0
step "host: cargo test (pure logic)"
# Built in the cache, so a fresh clone does not compile the dependencies
# again. The test crate itself is always rebuilt (2 s): its artifacts do not
# say which clone they were built from, and cargo would otherwise run
# another clone's tests as fresh.
host() {
	CARGO_TARGET_DIR=$(rpmem_cache)/host-target \
		cargo "$1" --manifest-path "$root/tools/testing/rpmem/host/Cargo.toml" --quiet "${@:2}"
}
if host clean -p rpmem-host-tests && host test; then :; fi >"$out/cargo-test.log" 2>&1
while read -r p f; do
	host_pass=$((host_pass + p)) host_fail=$((host_fail + f))
done < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$out/cargo-test.log")
if ! grep -q '^test result:' "$out/cargo-test.log"; then
	tail -n 30 "$out/cargo-test.log"
	echo "host: cargo test did not run; log: $out/cargo-test.log"
	host_fail=$((host_fail + 1))
fi
echo "    host: $host_pass passed, $host_fail failed"
PASS=$host_pass FAIL=$host_fail

step "host: no unsafe outside the abstraction layer (rust/kernel/)"
if found=$("$here/unsafe-check.sh" "$root"); then
	PASS=$((PASS + 1))
	echo "    none"
else
	echo "$found" | sed 's/^/    /'
	count_fail "unsafe outside rust/kernel/ (tools/testing/rpmem/unsafe-check.sh)"
fi

# The harness itself, on deliberately broken suites: run by run.sh like a
# guest suite, counted like one.
step "host: harness self-test (run.sh and this count on broken suites)"
RPMEM_SUITES=$here RPMEM_RESULTS=$out RPMEM_TEST_TIMEOUT=300 \
	"$root/tools/testing/selftests/rpmem/run.sh" harness-selftest | sed 's/^/    /'
count_tap "$out/harness-selftest.tap" file

# The selftests to run: the ones named, or all but leaks.sh, spread over
# guest boots that run at once, one vCPU each (the suites are sequential, so
# each guest keeps at most one host core busy): "main" (KUnit first, then
# bind, blockio, the poison stress, zeroing, PMD and reflink suites, the
# bind/unbind cycles, fuzzing, the benchmark smoke run, loading without
# nd_btt and BTT), "dax" (the
# file system, badblocks, poison, metadata and teardown suites), "labels"
# (4096-byte sectors and a 16 GiB namespace, on a third NVDIMM, with a
# label area), and "kmemleak"
# for leaks.sh, which needs a guest booted with kmemleak=on, three times
# slower: it runs when named (make test-leaks; CI runs both).
if [ $# -eq 0 ]; then
	for t in $(make -s -C "$root/tools/testing/selftests/rpmem" list); do
		[ "$t" = leaks.sh ] || set -- "$@" "$t"
	done
fi
main=() dax=() labels=() leaks=()
for t in "$@"; do
	case "${t%.sh}" in
	leaks) leaks=(leaks) ;;
	dax_fs | poison | badblocks | metadata | mf_sim | teardown) dax+=("$t") ;;
	sector4k | large) labels+=("$t") ;;
	*) main+=("$t") ;;
	esac
done
# KUnit needs a boot of its own kind (rpmem only): the main one, even if no
# main suite was asked for; the labels one if only its suites were.
# Debian's kernel has no KUnit.
labels_kunit=0 main_kunit=$([ "$DRIVER" = rpmem ] && echo 1 || echo 0)
if [ "$FLAVOR" = stock ] && [ "$main_kunit" = 1 ]; then
	main_kunit=0
	SKIP=$((SKIP + 1))
	echo "    KUnit: skipped (CONFIG_KUNIT is not set in Debian's kernel)"
fi
if [ "$main_kunit" = 1 ] && [ ${#main[@]} -eq 0 ]; then
	if [ ${#dax[@]} -gt 0 ]; then
		main=("${dax[@]}") dax=()
	elif [ ${#labels[@]} -gt 0 ]; then
		labels_kunit=1
	fi
fi
boots=0
for g in main dax labels leaks; do
	eval "[ \${#$g[@]} -gt 0 ]" && boots=$((boots + 1))
done
smp=$((boots > 1 ? 1 : 2))

# The suites' knobs given to make test reach the guest as kernel command
# line words NAME=VALUE, which the kernel hands to init's environment.
knobs=
for k in CYCLES ND_PMEM_RACE ND_PMEM_FUZZ FUZZ_COUNT FUZZ_SEED STRESS_SECONDS STRESS_SEED; do
	v=${!k:-}
	[ -z "$v" ] && continue
	[[ "$v" =~ ^[A-Za-z0-9_.-]+$ ]] || die "$k=$v: only letters, digits, '_', '.' and '-'"
	knobs+=" $k=$v"
done

# A guest's time limit: RPMEM_VM_TIMEOUT, or 40 minutes plus what longer
# races and soaks add to their suites' limits (run.sh).
cycles=${CYCLES:-20} stress=${STRESS_SECONDS:-60}
[[ $cycles =~ ^[0-9]+$ && $stress =~ ^[0-9]+$ ]] || die "CYCLES= and STRESS_SECONDS= take whole numbers"
vm_timeout=${RPMEM_VM_TIMEOUT:-$((2400 + 45 * (cycles > 20 ? cycles - 20 : 0) + 3 * (stress > 60 ? stress - 60 : 0)))}

# boot NAME RESULTS KUNIT APPEND SUITES...: one guest, in the background.
# The kmemleak guest gets 2G of RAM instead of 3G: less to track and scan
# (it must stay above the memmap=256M!1G region).
vm_pids=()
boot() {
	local name=$1 results=$2 kunit=$3 append=$4 what=
	shift 4
	[ "$kunit" = 1 ] && what="KUnit + "
	append+=$knobs
	step "guest $name: $what$* against $DRIVER${append:+ (${append# })}"
	RPMEM_APPEND="${RPMEM_APPEND:-} $append" RPMEM_SMP=$smp RPMEM_VM_NAME=$name \
		RPMEM_LABEL_NVDIMM=$([ "$name" = labels ] && echo 1 || echo 0) \
		RPMEM_MEM=$([ "$name" = kmemleak ] && echo 2G || echo 3G) \
		"$here/vm.sh" "$kdir" "$results" "$vm_timeout" \
		"$here/guest-test.sh" "$DRIVER" "$root/rpmem.ko" "$kunit" "$@" &
	vm_pids+=($!)
}
[ ${#leaks[@]} -gt 0 ] && boot kmemleak "$out/kmemleak" 0 kmemleak=on leaks
[ ${#dax[@]} -gt 0 ] && boot dax "$out/dax" 0 "" "${dax[@]}"
[ ${#labels[@]} -gt 0 ] && boot labels "$out/labels" $labels_kunit "" "${labels[@]}"
[ ${#main[@]} -gt 0 ] && boot main "$out" $main_kunit "" "${main[@]}"
vm_status=0
for pid in "${vm_pids[@]}"; do
	wait "$pid" || vm_status=1
done

# Count (results.sh): every guest's final status, dmesg check, KUnit and
# suites, each failure printed with its reason.
echo
[ ${#main[@]} -gt 0 ] && count_guest "$out" $main_kunit "${main[@]}"
[ ${#dax[@]} -gt 0 ] && count_guest "$out/dax" 0 "${dax[@]}"
[ ${#labels[@]} -gt 0 ] && count_guest "$out/labels" $labels_kunit "${labels[@]}"
[ ${#leaks[@]} -gt 0 ] && count_guest "$out/kmemleak" 0 "${leaks[@]}"
# The benchmark smoke run's report: numbers from a KASAN kernel, so a check
# of the reporting path, not a result (make bench gives those).
if [ -s "$out/bench/raw.jsonl" ]; then
	python3 "$here/bench-report.py" "$out/bench" "smoke run on the test kernel (KASAN), not a result" \
		>"$out/bench/report.log" 2>&1 ||
		count_fail "bench-report.py on $out/bench; log: $out/bench/report.log"
fi
if [ $vm_status != 0 ] && [ "$FAIL" = 0 ]; then
	count_fail "a guest failed in a way no test reported (see the vm: lines above)"
fi

echo "results: $out ($(( $(date +%s) - start ))s)"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
