#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make test: host unit tests, then one guest boot running KUnit and the
# selftests, then the guest's dmesg check. Ends with "N passed, N failed".
#
# usage: test.sh [selftest...]        (default: all of TEST_PROGS)
# DRIVER=nd_pmem runs the guest suites against the C driver instead.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
. "$here/lib.sh"

DRIVER=${DRIVER:-rpmem}
case "$DRIVER" in rpmem | nd_pmem) ;; *) die "DRIVER must be rpmem or nd_pmem" ;; esac
out=${RPMEM_OUT:-$(rpmem_cache)/results/test-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
start=$(date +%s)

"$here/setup.sh" || die "setup failed"
kdir=$("$here/kernel.sh" test) || die "guest kernel build failed"
"$here/build.sh" modules >"$out/module-build.log" 2>&1 ||
	{ tail -n 30 "$out/module-build.log"; die "module build failed; log: $out/module-build.log"; }

make -s -C "$root/tools/testing/selftests/rpmem" >"$out/selftests-build.log" 2>&1 ||
	{ cat "$out/selftests-build.log"; die "selftest helpers failed to build; log: $out/selftests-build.log"; }

host_pass=0 host_fail=0
step "host: cargo test (pure logic)"
if cargo test --manifest-path "$root/tools/testing/rpmem/host/Cargo.toml" --quiet \
	>"$out/cargo-test.log" 2>&1; then :; fi
while read -r p f; do
	host_pass=$((host_pass + p)) host_fail=$((host_fail + f))
done < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$out/cargo-test.log")
if ! grep -q '^test result:' "$out/cargo-test.log"; then
	tail -n 30 "$out/cargo-test.log"
	echo "host: cargo test did not run; log: $out/cargo-test.log"
	host_fail=$((host_fail + 1))
fi
echo "    host: $host_pass passed, $host_fail failed"

# The selftests to run: the ones named, or all. leaks.sh needs a guest booted
# with kmemleak=on, which runs about twice as slow: it gets a boot of its own.
[ $# -gt 0 ] || set -- $(make -s -C "$root/tools/testing/selftests/rpmem" list)
main=() leaks=()
for t in "$@"; do
	case "${t%.sh}" in leaks) leaks=(leaks) ;; *) main+=("$t") ;; esac
done

# Both boots at once when both are wanted, one vCPU each: the suites are
# sequential, so each guest keeps one host core busy.
vm_status=0
smp=2
[ ${#main[@]} -gt 0 ] && [ ${#leaks[@]} -gt 0 ] && smp=1
if [ ${#leaks[@]} -gt 0 ]; then
	step "guest: leaks.sh in a kmemleak=on boot"
	RPMEM_APPEND=kmemleak=on RPMEM_SMP=$smp RPMEM_VM_NAME=kmemleak \
		"$here/vm.sh" "$kdir" "$out/kmemleak" "${RPMEM_VM_TIMEOUT:-2400}" \
		"$here/guest-test.sh" "$DRIVER" "$root/rpmem.ko" 0 leaks &
	leaks_pid=$!
fi
if [ ${#main[@]} -gt 0 ]; then
	step "guest: KUnit + ${main[*]} against $DRIVER (KASAN kernel under TCG)"
	RPMEM_SMP=$smp RPMEM_VM_NAME=main "$here/vm.sh" "$kdir" "$out" "${RPMEM_VM_TIMEOUT:-2400}" \
		"$here/guest-test.sh" "$DRIVER" "$root/rpmem.ko" 1 "${main[@]}" || vm_status=1
fi
if [ -n "${leaks_pid:-}" ]; then
	wait "$leaks_pid" || vm_status=1
fi

# Count: top-level ok/not ok of every .tap, test cases of KUnit's KTAP.
pass=$host_pass fail=$host_fail skip=0
for f in $(find "$out" -name '*.tap'); do
	p=$(grep -E '^ok ' "$f" | grep -vc '# SKIP')
	s=$(grep -cE '^ok .*# SKIP' "$f")
	n=$(grep -cE '^not ok ' "$f")
	pass=$((pass + p)) skip=$((skip + s)) fail=$((fail + n))
done
if [ -e "$out/kunit.ktap" ]; then
	pass=$((pass + $(grep -cE '^\s+ok ' "$out/kunit.ktap")))
	fail=$((fail + $(grep -cE '^\s+not ok ' "$out/kunit.ktap")))
fi
# Every suite asked for must have left its results.
expected=()
[ ${#main[@]} -gt 0 ] && expected+=("$out/dmesg.tap" "${main[@]/#/$out/}")
[ "$DRIVER" = rpmem ] && [ ${#main[@]} -gt 0 ] && expected+=("$out/kunit.ktap")
[ ${#leaks[@]} -gt 0 ] && expected+=("$out/kmemleak/dmesg.tap" "$out/kmemleak/leaks")
for f in "${expected[@]}"; do
	case "$f" in *.tap | *.ktap) ;; *) f=${f%.sh}.tap ;; esac
	if [ ! -s "$f" ]; then
		echo "  FAIL: no results in $f"
		fail=$((fail + 1))
	fi
done
if [ $vm_status != 0 ] && [ "$fail" = 0 ]; then
	fail=1 # the guest failed in a way no test reported (timeout, crash)
fi

echo
find "$out" -name '*.tap' -o -name kunit.ktap | xargs grep -hE '^\s*not ok ' 2>/dev/null | sed 's/^\s*/  FAIL: /'
echo "results: $out ($(( $(date +%s) - start ))s)"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
