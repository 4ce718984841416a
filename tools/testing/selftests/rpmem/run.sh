#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run rpmem selftests (all of TEST_PROGS, or the ones named) and write each
# one's KTAP output to $RPMEM_RESULTS/<test>.tap, followed by the line
# "# run.sh: exit status N"; a progress line per test, with every reason
# the suite fails (ktap.sh: a plan missing, late or not met, a non-zero
# exit status, a kill, a timeout, a failed setup step).
# The suites are the ones in this folder, or in $RPMEM_SUITES (the harness
# self-test runs broken ones from there). Exit status 0: every suite
# passed; 1: some suite failed, its .tap says why.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/ktap.sh"
cd "${RPMEM_SUITES:-$here}" || exit 2
results=${RPMEM_RESULTS:-/tmp/rpmem-results}
mkdir -p "$results" || exit 2
[ $# -gt 0 ] || set -- $(make -s list)
status=0
for t in "$@"; do
	t=${t%.sh}.sh
	tap=$results/${t%.sh}.tap
	if [ ! -x "$t" ]; then
		echo "selftest $t: no such test" >&2
		printf 'TAP version 13\n1..1\nnot ok 1 %s: no such test\n%s1\n' "$t" "$KTAP_STATUS_MARK" >"$tap"
		status=1
		continue
	fi
	start=$EPOCHSECONDS
	# A suite's time limit: RPMEM_TEST_TIMEOUT (900 s), twice that for the
	# three that run longest (6 to 10 minutes each on 2 cores under TCG),
	# and for poison_stress.sh that plus what its three targets may take
	# (each STRESS_SECONDS, 60, plus 240 s to finish a turn); teardown.sh
	# gets 45 s more for each race cycle past the default 20 (a cycle took
	# 25 to 40 s with four guests on 2 cores).
	limit=${RPMEM_TEST_TIMEOUT:-900}
	case $t in
	teardown.sh) limit=$((limit * 2 + 45 * (${CYCLES:-20} > 20 ? ${CYCLES:-20} - 20 : 0))) ;;
	fuzz.sh | metadata.sh) limit=$((limit * 2)) ;;
	poison_stress.sh) limit=$((limit + 3 * (${STRESS_SECONDS:-60} + 240))) ;;
	esac
	timeout -k 10 "$limit" "./$t" >"$tap" 2>"$results/${t%.sh}.err"
	rc=$?
	ktap_verify "$tap" "$rc" || status=1
	# After a line cut short by a kill, the status goes on a line of its own.
	[ "$KV_PARTIAL" = 1 ] && echo >>"$tap"
	echo "$KTAP_STATUS_MARK$rc" >>"$tap"
	echo "selftest $t: $KV_PASS ok, $KV_FAIL not ok, $KV_SKIP skipped ($((EPOCHSECONDS - start))s)"
	for l in "${KV_NOTOK[@]}"; do echo "    $l"; done
	for l in "${KV_WHY[@]}"; do echo "    FAILED: $l"; done
done
exit $status
