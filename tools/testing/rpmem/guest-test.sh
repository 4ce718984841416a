#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs in the guest (see test.sh): KUnit results of rpmem.ko, then the
# selftests, each writing KTAP into $RPMEM_RESULTS.
# usage: guest-test.sh DRIVER RPMEM_KO KUNIT [selftest...]   (KUNIT: 1 or 0)
export DRIVER=$1 RPMEM_KO=$2
kunit=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
selftests=$here/../selftests/rpmem

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
		rmmod rpmem || echo "not ok 1 rmmod rpmem after KUnit" >"$RPMEM_RESULTS/kunit-rmmod.tap"
	else
		echo "not ok 1 insmod $RPMEM_KO" >"$RPMEM_RESULTS/kunit.tap"
	fi
fi

echo "guest: selftests against $DRIVER"
"$selftests/run.sh" "$@"
