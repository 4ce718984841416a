#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fuzzed input to every writable control file of the driver, on the e820
# namespace (raw): /sys/block/pmemN/badblocks and dax/write_cache; with
# rpmem also the clear_poison module parameter and the debugfs files
# inject, clear and lookup_bench. Per file, FUZZ_COUNT (10,000) seeded
# inputs (FUZZ_SEED, printed; the same seed gives the same inputs): random
# bytes of random length with NULs, printable noise, mutated commands,
# numbers of every size (negative, past 2^64), whitespace, writes of 4 KiB
# and more (rpmem_fuzz.c). Each write is accepted or refused with EINVAL or
# ERANGE (nd_pmem's badblocks also with ENOSPC, when its list is full), and
# a refused write changes nothing: the file itself and the poison list
# (sysfs badblocks; with rpmem debugfs list and counters too) read the same
# before and after it. Then, for each file, a well-formed write by an
# unprivileged user (uid 65534) is refused with EACCES, and one by root
# without CAP_SYS_ADMIN is refused with EPERM by rpmem (nd_pmem accepts
# it), with nothing changed either way. The guest stays clean (dmesg check
# of the run). nd_pmem's badblocks is not fuzzed by default (see its
# skip: it warns and changes its list on refused writes; ND_PMEM_FUZZ=1).
cd "$(dirname "$0")" && . ./lib.sh

COUNT=${FUZZ_COUNT:-10000}
SEED=${FUZZ_SEED:-20261130}
FILES=6

ktap_header
ktap_plan $((1 + 1 + 3 * FILES + 1))

check "load $DRIVER" driver_load
e820=$(namespace_on e820 0)
setup "$e820 raw" namespace_mode "$e820" raw
b=$(blockdev_of "$e820")
bb=/sys/block/$b/badblocks
dbg=/sys/kernel/debug/rpmem/$b
param=/sys/module/rpmem/parameters/clear_poison
ktap_diag "FUZZ_SEED=$SEED FUZZ_COUNT=$COUNT on /dev/$b"

# The poison list as everything that shows it reads it.
if [ "$DRIVER" = rpmem ]; then
	poison_state=("$bb" "$dbg/list" "$dbg/counters")
else
	poison_state=("$bb")
fi
expect_eq "/dev/$b: no poison before" "" "$(cat "${poison_state[@]:0:2}")"

# snapshot FILE...: their contents, one after the other.
snapshot() {
	local f
	for f in "$@"; do
		echo "== $f"
		cat "$f" 2>&1
	done
}

# fuzz NAME FILE VALID OPTS STATE...: the 3 cases of one file; VALID is a
# well-formed write for the privilege checks, OPTS rpmem_fuzz options. The
# file itself is part of the state if it can be read.
fuzz() {
	local name=$1 file=$2 valid=$3 opts=$4 out before uid cap
	shift 4
	cat "$file" >/dev/null 2>&1 && set -- "$file" "$@"
	out=$(./rpmem_fuzz $opts "$SEED" "$COUNT" "$file" "$@" 2>&1)
	local rc=$?
	ktap_diag "$name: $(tail -n 1 <<<"$out")"
	if [ $rc = 0 ]; then
		ktap_pass "$name: $COUNT fuzzed writes accepted or refused with EINVAL/ERANGE, refused ones changed nothing"
	else
		ktap_fail "$name: $COUNT fuzzed writes accepted or refused with EINVAL/ERANGE, refused ones changed nothing"
		head -n 6 <<<"$out" | sed 's/^/# /'
	fi

	before=$(snapshot "$@")
	uid=$(setpriv --reuid=65534 --regid=65534 --clear-groups ./rpmem_io sysfs "$file" "$valid")
	expect_eq "$name: a write by uid 65534 is refused with EACCES and changes nothing" \
		"errno=EACCES, unchanged" "$uid, $([ "$(snapshot "$@")" = "$before" ] && echo unchanged || echo changed)"

	before=$(snapshot "$@")
	cap=$(setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin ./rpmem_io sysfs "$file" "$valid")
	expect_eq "$name: a write by root without CAP_SYS_ADMIN is refused with EPERM and changes nothing" \
		"errno=EPERM, unchanged" "$cap, $([ "$(snapshot "$@")" = "$before" ] && echo unchanged || echo changed)"
}

# skip3 NAME WHY: the 3 cases of a file the driver does not have.
skip3() {
	ktap_skip "$1: fuzzed writes" "$2"
	ktap_skip "$1: a write by uid 65534" "$2"
	ktap_skip "$1: a write by root without CAP_SYS_ADMIN" "$2"
}

if [ "$DRIVER" = rpmem ]; then
	fuzz "sysfs badblocks" "$bb" "8 1" "" "${poison_state[@]}"
else
	# The block layer's attribute, no capability check (mode 0644); first,
	# while its list is empty.
	expect_eq "sysfs badblocks: a write by uid 65534 is refused with EACCES" "errno=EACCES" \
		"$(setpriv --reuid=65534 --regid=65534 --clear-groups ./rpmem_io sysfs "$bb" "8 1")"
	expect_eq "sysfs badblocks: nd_pmem accepts a write by root without CAP_SYS_ADMIN (rpmem: EPERM)" "done 3" \
		"$(setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin ./rpmem_io sysfs "$bb" "8 1")"
	if [ "${ND_PMEM_FUZZ:-0}" = 1 ]; then
		out=$(./rpmem_fuzz -a ENOSPC "$SEED" "$COUNT" "$bb" "$bb" 2>&1)
		rc=$?
		ktap_diag "sysfs badblocks: $(tail -n 1 <<<"$out")"
		check "sysfs badblocks: $COUNT fuzzed writes accepted or refused with EINVAL/ERANGE/ENOSPC, refused ones changed nothing" \
			test $rc = 0
	else
		ktap_skip "sysfs badblocks: fuzzed writes" "nd_pmem's list (the block layer's badblocks_show) fills a whole page once its text passes 4 KiB, and sysfs warns (WARNING in sysfs_kf_seq_show, fs/sysfs/file.c:74); and a write it refuses with ENOSPC has recorded part of its range (2,000 writes of FUZZ_SEED=20261130, 2026-11-30); ND_PMEM_FUZZ=1 runs it"
	fi
fi

wc=/sys/block/$b/dax/write_cache
wc0=$(<"$wc")
if [ "$DRIVER" = rpmem ]; then
	fuzz "dax/write_cache" "$wc" "$((1 - wc0))" ""
else
	out=$(./rpmem_fuzz "$SEED" "$COUNT" "$wc" "$wc" 2>&1)
	rc=$?
	ktap_diag "dax/write_cache: $(tail -n 1 <<<"$out")"
	check "dax/write_cache: $COUNT fuzzed writes accepted or refused with EINVAL/ERANGE, refused ones changed nothing" \
		test $rc = 0
	expect_eq "dax/write_cache: a write by uid 65534 is refused with EACCES" "errno=EACCES" \
		"$(setpriv --reuid=65534 --regid=65534 --clear-groups ./rpmem_io sysfs "$wc" 1)"
	expect_eq "dax/write_cache: nd_pmem accepts a write by root without CAP_SYS_ADMIN (rpmem: EPERM)" "done 1" \
		"$(setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin ./rpmem_io sysfs "$wc" 1)"
fi
echo "$wc0" >"$wc"

if [ "$DRIVER" = rpmem ]; then
	policy=$(<"$param")
	fuzz "parameter clear_poison" "$param" "software" ""
	echo "$policy" >"$param"
	fuzz "debugfs inject" "$dbg/inject" "8 1" "" "${poison_state[@]}"
	fuzz "debugfs clear" "$dbg/clear" "8 1" "" "${poison_state[@]}"
	# Valid counts are only slow: at most 100 lookups a write.
	fuzz "debugfs lookup_bench" "$dbg/lookup_bench" "10" "-m 100" "${poison_state[@]}"
else
	skip3 "parameter clear_poison" "nd_pmem has no such parameter"
	skip3 "debugfs inject" "nd_pmem has no debugfs files"
	skip3 "debugfs clear" "nd_pmem has no debugfs files"
	skip3 "debugfs lookup_bench" "nd_pmem has no debugfs files"
fi

# What the accepted writes recorded goes with a fresh namespace.
check "$e820 back to a fresh raw namespace" namespace_mode "$e820" raw
ktap_finished
