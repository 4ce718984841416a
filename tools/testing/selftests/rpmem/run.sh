#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run rpmem selftests (all of TEST_PROGS, or the ones named) and write each
# one's KTAP output to $RPMEM_RESULTS/<test>.tap; a progress line per test.
cd "$(dirname "$0")" || exit 1
results=${RPMEM_RESULTS:-/tmp/rpmem-results}
mkdir -p "$results"
[ $# -gt 0 ] || set -- $(make -s list)
status=0
for t in "$@"; do
	t=${t%.sh}.sh
	if [ ! -x "$t" ]; then
		echo "selftest $t: no such test" >&2
		echo "not ok 1 $t: no such test" >"$results/${t%.sh}.tap"
		status=1
		continue
	fi
	start=$(date +%s)
	timeout -k 10 "${RPMEM_TEST_TIMEOUT:-900}" "./$t" >"$results/${t%.sh}.tap" 2>"$results/${t%.sh}.err"
	rc=$?
	pass=$(grep -c '^ok ' "$results/${t%.sh}.tap")
	fail=$(grep -c '^not ok ' "$results/${t%.sh}.tap")
	[ $rc = 124 ] && echo "not ok 999 $t timed out" >>"$results/${t%.sh}.tap" && fail=$((fail + 1))
	echo "selftest $t: $pass ok, $fail not ok ($(( $(date +%s) - start ))s)"
	grep '^not ok ' "$results/${t%.sh}.tap" | sed 's/^/    /'
	[ "$fail" = 0 ] && [ "$rc" = 0 ] || status=1
done
exit $status
