#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-test of the test harness, on the host (make test runs it through
# run.sh and counts it like a guest suite; no guest, a few seconds): the
# selftests' run.sh and results.sh's count (the code test.sh counts with)
# on deliberately broken suites in a temporary folder. A suite killed
# halfway (also in the middle of a line), one exiting non-zero after all-ok cases, one whose plan says 5
# and that emits 3, one without a plan, one with its plan last, one whose
# helpers fail, one that times out, a missing one, results without run.sh's
# exit status, guests without guest-done or with status 1, a KUnit suite
# short of its plan: each must count as a failure, with its reason printed
# by run.sh and by the count; an `unsafe` outside rust/kernel/ must fail
# unsafe-check.sh. A correct suite with a SKIP counts as pass +
# skip, a failing case as one failure. Output: KTAP.
here=$(cd "$(dirname "$0")" && pwd)
selftests=$(cd "$here/../selftests/rpmem" && pwd)
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp RPMEM_LIB=$selftests/lib.sh
. "$selftests/lib.sh"
. "$here/results.sh"
suites=$tmp/suites results=$tmp/results
mkdir -p "$suites" "$results"

# suite NAME: a fake suite from stdin (after lib.sh is sourced).
suite() {
	{
		echo '#!/bin/bash'
		echo '. "$RPMEM_LIB"'
		cat
	} >"$suites/$1.sh"
	chmod +x "$suites/$1.sh"
}

suite good <<'EOF'
ktap_header
ktap_plan 3
ktap_pass "first"
ktap_skip "second" "cannot apply here"
check "third" true
ktap_finished
EOF
suite failing <<'EOF'
ktap_header
ktap_plan 2
ktap_pass "first"
check "second" false
ktap_finished
EOF
suite killed <<'EOF'
ktap_header
ktap_plan 4
ktap_pass "first"
ktap_pass "second"
kill -9 $$
ktap_pass "third"
ktap_pass "fourth"
ktap_finished
EOF
suite cut <<'EOF'
ktap_header
ktap_plan 2
ktap_pass "first"
printf 'ok 2 sec'
kill -9 $$
EOF
suite exit1 <<'EOF'
ktap_header
ktap_plan 2
ktap_pass "first"
ktap_pass "second"
ktap_finished
exit 1
EOF
suite shell_error <<'EOF'
set -e
ktap_header
ktap_plan 2
ktap_pass "first"
ktap_pass "second"
no_such_command_in_rpmem_harness_selftest
ktap_finished
EOF
suite short_plan <<'EOF'
ktap_header
ktap_plan 5
ktap_pass "first"
ktap_pass "second"
ktap_pass "third"
ktap_finished
EOF
suite no_plan <<'EOF'
ktap_header
ktap_pass "first"
ktap_pass "second"
ktap_finished
EOF
suite late_plan <<'EOF'
ktap_header
ktap_pass "first"
ktap_pass "second"
ktap_plan 2
ktap_finished
EOF
# Helpers as the suites' ones fail: one with a non-zero exit status, and
# rpmem_io, which exits 0 and reports the failure in its output.
printf '#!/bin/sh\necho "cannot open /dev/pmem9"\nexit 1\n' >"$suites/failing_helper"
printf '#!/bin/sh\necho errno=EIO\n' >"$suites/rpmem_io"
chmod +x "$suites/failing_helper" "$suites/rpmem_io"
suite helper_fails <<'EOF'
ktap_header
ktap_plan 2
setup "namespace prepared by failing_helper" ./failing_helper
setup "file written by rpmem_io" io_is "done 4096" write /tmp/f 0 4096 1
ktap_pass "first"
ktap_pass "second"
ktap_finished
EOF
suite slow <<'EOF'
ktap_header
ktap_plan 2
ktap_pass "first"
sleep 30
ktap_pass "second"
ktap_finished
EOF

RPMEM_SUITES=$suites RPMEM_RESULTS=$results "$selftests/run.sh" good >"$tmp/run-good.out" 2>&1
good_rc=$?
RPMEM_SUITES=$suites RPMEM_RESULTS=$results "$selftests/run.sh" failing killed cut exit1 shell_error \
	short_plan no_plan late_plan helper_fails absent >"$tmp/run.out" 2>&1
broken_rc=$?
RPMEM_SUITES=$suites RPMEM_RESULTS=$results RPMEM_TEST_TIMEOUT=1 "$selftests/run.sh" slow \
	>>"$tmp/run.out" 2>&1

ktap_header
ktap_plan 25

# shows FILE...: FILE's lines as diagnostics.
shows() { sed 's/^/#   /' "$@"; }

ktap_diag "run.sh output:"
shows "$tmp/run-good.out" "$tmp/run.out"
expect_eq "run.sh: exit status 0 when every suite passed" 0 "$good_rc"
expect_eq "run.sh: exit status 1 when a suite failed" 1 "$broken_rc"

# counted DESC SUITE PASS FAIL SKIP [REASON]: the count of SUITE's results
# (count_tap, as test.sh counts a suite) adds PASS, FAIL and SKIP, and
# REASON is printed by the count and by run.sh (no REASON: the count
# prints nothing but the "not ok" lines).
counted() {
	local desc=$1 name=$2 want="$3 passed, $4 failed, $5 skipped" why=${6:-} ok=1
	PASS=0 FAIL=0 SKIP=0
	count_tap "$results/$name.tap" file >"$tmp/count.out"
	[ "$PASS passed, $FAIL failed, $SKIP skipped" = "$want" ] || ok=
	if [ -n "$why" ]; then
		grep -qF -- "$why" "$tmp/count.out" && grep -qF -- "$why" "$tmp/run.out" || ok=
	else
		! grep -v ': not ok ' "$tmp/count.out" | grep -q . || ok=
	fi
	if [ -n "$ok" ]; then
		ktap_pass "$desc"
	else
		ktap_fail "$desc"
		ktap_diag "expected: $want${why:+, reason '$why' printed by run.sh and the count}"
		ktap_diag "counted:  $PASS passed, $FAIL failed, $SKIP skipped, printing:"
		shows "$tmp/count.out"
	fi
}

counted "correct suite with a SKIP: pass + skip, no failure" good 2 0 1
counted "a failing case: one failure, no other reason" failing 1 1 0
counted "suite killed halfway (kill -9 after 2 of 4 cases)" killed 2 1 0 "killed by SIGKILL"
counted "suite killed halfway: its missing cases reported" killed 2 1 0 "2 cases, plan says 4"
counted "suite killed while writing a line: its exit status still read" cut 2 1 0 "killed by SIGKILL"
counted "exit status 1 after all-ok cases" exit1 2 1 0 "exit status 1 with every case ok"
counted "a shell error after all-ok cases (set -e, command not found)" shell_error 2 1 0 "exit status 127"
counted "plan says 5, emits 3" short_plan 3 1 0 "3 cases, plan says 5"
counted "no plan" no_plan 2 1 0 "no plan (1..N)"
counted "plan after the cases" late_plan 2 1 0 "plan '1..2' on line 4"
counted "helper exits non-zero in a setup step" helper_fails 2 1 0 \
	"setup failed: namespace prepared by failing_helper (exit status 1)"
counted "rpmem_io reports errno=EIO (exit status 0) in a setup step" helper_fails 2 1 0 \
	"setup failed: file written by rpmem_io (exit status 1)"
counted "suite timed out" slow 1 1 0 "timed out"
counted "suite named but missing" absent 0 1 0 "absent.sh: no such test"

# Results of a suite that run.sh did not finish (the guest died under it):
# no exit status recorded.
head -n 4 "$results/good.tap" >"$results/unfinished.tap"
PASS=0 FAIL=0 SKIP=0
count_tap "$results/unfinished.tap" file >"$tmp/count.out"
if [ "$PASS $FAIL $SKIP" = "1 1 1" ] && grep -qF "no exit status" "$tmp/count.out"; then
	ktap_pass "results without run.sh's exit status: a failure"
else
	ktap_fail "results without run.sh's exit status: a failure"
	ktap_diag "counted: $PASS passed, $FAIL failed, $SKIP skipped, printing:"
	shows "$tmp/count.out"
fi

# guest NAME STATUS: a guest's results folder with good.sh's results and a
# clean dmesg; STATUS: the content of guest-done ("none": no guest-done).
guest() {
	local d=$tmp/$1
	mkdir -p "$d"
	cp "$results/good.tap" "$d/"
	printf 'TAP version 13\n1..1\nok 1 dmesg clean\n' >"$d/dmesg.tap"
	[ "$2" = none ] || echo "$2" >"$d/guest-done"
}

# guest_counted DESC DIR KUNIT PASS FAIL SKIP [REASON]: count_guest on DIR.
guest_counted() {
	local desc=$1 dir=$tmp/$2 want="$4 passed, $5 failed, $6 skipped" why=${7:-}
	PASS=0 FAIL=0 SKIP=0
	count_guest "$dir" "$3" good >"$tmp/count.out"
	if [ "$PASS passed, $FAIL failed, $SKIP skipped" = "$want" ] &&
		{ [ -z "$why" ] && [ ! -s "$tmp/count.out" ] || grep -qF -- "$why" "$tmp/count.out"; }; then
		ktap_pass "$desc"
	else
		ktap_fail "$desc"
		ktap_diag "expected: $want${why:+, reason '$why' printed}"
		ktap_diag "counted:  $PASS passed, $FAIL failed, $SKIP skipped, printing:"
		shows "$tmp/count.out"
	fi
}

guest ok 0
guest_counted "guest with status 0: its suites and dmesg check counted" ok 0 3 0 1
guest none none
guest_counted "guest without guest-done: a failure" none 0 3 1 1 "no guest-done"
guest status1 1
guest_counted "guest-done with status 1: a failure" status1 0 3 1 1 "guest script ended with status '1'"

# KUnit's KTAP as debugfs gives it: a suite whose plan says 3 with 2 cases,
# one of them skipped, then a complete suite.
guest kunit 0
cat >"$tmp/kunit/kunit.ktap" <<'EOF'
KTAP version 1
1..1
    KTAP version 1
    # Subtest: rpmem_short
    1..3
    ok 1 first
    ok 2 second # SKIP not here
ok 1 rpmem_short
KTAP version 1
1..1
    KTAP version 1
    # Subtest: rpmem_full
    1..1
    ok 1 only
ok 1 rpmem_full
EOF
guest_counted "KUnit suite with fewer cases than its plan: a failure" kunit 1 5 1 2 \
	"rpmem_short: 2 cases, plan says 3"

# A fresh results folder: an earlier run's results are never counted again.
mkdir -p "$tmp/out"
fresh=$(results_dir "$tmp/out/new" 2>/dev/null)
expect_eq "results_dir: a new folder is used as is" "$tmp/out/new" "$fresh"
touch "$tmp/out/new/bind.tap" "$tmp/out/new/guest-done"
fresh=$(results_dir "$tmp/out/new" 2>/dev/null)
check "results_dir: a folder with results gets an empty folder of its own" \
	test -d "$fresh" -a "$fresh" != "$tmp/out/new" -a -z "$(ls -A "$fresh" 2>&1)"

# unsafe-check.sh on a tree with `unsafe` only in the layer, then in a driver file.
mkdir -p "$tmp/tree/rust/kernel" "$tmp/tree/drivers/x"
echo 'unsafe fn f() {}' >"$tmp/tree/rust/kernel/a.rs"
echo 'fn g() {}' >"$tmp/tree/drivers/x/b.rs"
check "unsafe-check.sh: unsafe only in rust/kernel/ passes" "$here/unsafe-check.sh" "$tmp/tree"
echo 'fn h() { unsafe { g() } }' >>"$tmp/tree/drivers/x/b.rs"
found=$("$here/unsafe-check.sh" "$tmp/tree")
expect_eq "unsafe-check.sh: unsafe in a driver file fails and is named" \
	"./drivers/x/b.rs:2:fn h() { unsafe { g() } } (exit 1)" "$found (exit $?)"
ktap_finished
