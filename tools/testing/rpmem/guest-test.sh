#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs in the guest (see test.sh): KUnit results of rpmem.ko, then the
# selftests, each writing KTAP into $RPMEM_RESULTS.
# usage: guest-test.sh DRIVER RPMEM_KO KUNIT [selftest...]   (KUNIT: 1 or 0)
# Exit status (guest-init.sh writes it to guest-done, test.sh reads it): 0
# when every suite ran and its results are recorded, whatever they say;
# else run.sh's status.
export DRIVER=$1 RPMEM_KO=$2
kunit=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
selftests=$here/../selftests/rpmem

# failed DESC: KTAP of one failed step.
failed() { printf 'TAP version 13\n1..1\nnot ok 1 %s\n' "$1"; }

if [ "$DRIVER" = rpmem ] && [ "$kunit" = 1 ]; then
	echo "guest: loading rpmem.ko (runs its KUnit suites)"
	modprobe nd_btt
	if insmod "$RPMEM_KO"; then
		# Suites whose name starts with rpmem; their KTAP, test cases indented.
		for r in /sys/kernel/debug/kunit/rpmem*/results; do
			[ -e "$r" ] && cat "$r"
		done >"$RPMEM_RESULTS/kunit.ktap"
		echo "guest: KUnit: $(grep -cE '^\s+ok ' "$RPMEM_RESULTS/kunit.ktap") ok," \
			"$(grep -cE '^\s+not ok ' "$RPMEM_RESULTS/kunit.ktap") not ok"
		rmmod rpmem || failed "rmmod rpmem after KUnit" >"$RPMEM_RESULTS/kunit-rmmod.tap"
	else
		failed "insmod $RPMEM_KO" >"$RPMEM_RESULTS/kunit.tap"
	fi
fi

echo "guest: selftests against $DRIVER"
"$selftests/run.sh" "$@"
status=$?
# 1: some suite failed, and its results say so.
[ $status = 1 ] && status=0
exit $status
