# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the rpmem selftests (sourced). Output is KTAP: "TAP version
# 13", the plan "1..N" (before any case: run.sh fails a suite whose plan is
# missing, late or different from its count of cases), one "ok N desc" /
# "not ok N desc" line per test case, "# ..." for diagnostics.
#
# Environment (set by run.sh in the guest):
#   DRIVER     rpmem (default) or nd_pmem: the driver under test
#   RPMEM_KO   path of rpmem.ko

DRIVER=${DRIVER:-rpmem}

# RPMEM_TRACE=1 (or rpmem_trace=1 on the guest kernel command line): a
# timestamped trace of every command on stderr (the suite's .err file).
if [ -n "${RPMEM_TRACE:-${rpmem_trace:-}}" ]; then
	PS4='+ $EPOCHREALTIME '
	set -x
fi
KTAP_N=0
KTAP_PLAN=
KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIP=0
KTAP_SETUP_FAIL=0
KTAP_SETUP_LOG=${TMPDIR:-/tmp}/rpmem-setup.$$

ktap_header() { echo "TAP version 13"; }
ktap_plan() { KTAP_PLAN=$1; echo "1..$1"; }
ktap_pass() { KTAP_N=$((KTAP_N + 1)); KTAP_PASS=$((KTAP_PASS + 1)); echo "ok $KTAP_N $*"; }
ktap_fail() { KTAP_N=$((KTAP_N + 1)); KTAP_FAIL=$((KTAP_FAIL + 1)); echo "not ok $KTAP_N $*"; }
# ktap_skip DESC REASON: a case that cannot apply here (never ktap_pass).
ktap_skip() { KTAP_N=$((KTAP_N + 1)); KTAP_SKIP=$((KTAP_SKIP + 1)); echo "ok $KTAP_N $1 # SKIP ${2:-}"; }
# ktap_skip_rest DESC REASON: every case of the plan not reported yet, as
# skipped "DESC N" (a suite that cannot apply keeps its plan).
ktap_skip_rest() {
	while [ "$KTAP_N" -lt "${KTAP_PLAN:-0}" ]; do ktap_skip "$1 $((KTAP_N + 1))" "$2"; done
}
ktap_diag() { echo "# $*"; }
# ktap_finished: the totals; fails (exit status 1 of the suite) when a
# case or a setup step failed or the cases do not match the plan.
ktap_finished() {
	echo "# totals: pass:$KTAP_PASS fail:$KTAP_FAIL skip:$KTAP_SKIP setup failures:$KTAP_SETUP_FAIL"
	[ "$KTAP_N" = "$KTAP_PLAN" ] || ktap_diag "$KTAP_N cases, plan says ${KTAP_PLAN:-nothing}"
	[ "$KTAP_FAIL" = 0 ] && [ "$KTAP_SETUP_FAIL" = 0 ] && [ "$KTAP_N" = "$KTAP_PLAN" ]
}

# setup DESC CMD...: a step the cases after it rely on, not a case itself.
# CMD runs in this shell (it may set variables), its output kept aside; when
# it fails, "# setup failed: DESC" and its output become diagnostics, and
# the suite fails (ktap_finished, and run.sh, which reads that line).
# Returns CMD's status.
setup() {
	local desc=$1 rc l n=0
	shift
	"$@" >"$KTAP_SETUP_LOG" 2>&1
	rc=$?
	[ $rc = 0 ] && return 0
	KTAP_SETUP_FAIL=$((KTAP_SETUP_FAIL + 1))
	echo "# setup failed: $desc (exit status $rc)"
	while IFS= read -r l && [ $n -lt 20 ]; do
		echo "#   $l"
		n=$((n + 1))
	done <"$KTAP_SETUP_LOG"
	return $rc
}

# write_attr FILE VALUE: VALUE written to FILE (sysfs, debugfs); fails
# with the shell's message when the write is refused.
write_attr() { echo "$2" >"$1"; }

# to_file FILE CMD...: CMD's output into FILE (a setup step's redirection).
to_file() {
	local f=$1
	shift
	"$@" >"$f"
}

# io_is EXPECTED ARGS...: ./rpmem_io ARGS printed EXPECTED (rpmem_io exits
# 0 when the call ran, whatever its result: the output says how it went).
io_is() {
	local want=$1 out
	shift
	out=$(./rpmem_io "$@")
	[ "$out" = "$want" ] && return 0
	echo "rpmem_io $*: '$out', expected '$want'"
	return 1
}

# check DESC CMD...: one test case from a command's exit status; the
# command's output is shown as diagnostics when it fails.
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ktap_pass "$desc"
	else
		ktap_fail "$desc"
		[ -n "$out" ] && printf '%s\n' "$out" | head -n 20 | sed 's/^/# /'
	fi
}

# not CMD...: succeeds when CMD fails.
not() { ! "$@"; }

# expect_eq DESC EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then
		ktap_pass "$1"
	else
		ktap_fail "$1"
		ktap_diag "expected: '$2'"
		ktap_diag "actual:   '$3'"
	fi
}

# The nd driver name of the driver under test, as in /sys/bus/nd/drivers.
nd_driver() {
	case "$DRIVER" in
	nd_pmem) echo nd_pmem ;;
	*) echo nd_rpmem ;;
	esac
}

# Load the driver under test (and its dependencies); idempotent.
driver_load() {
	[ -d "/sys/bus/nd/drivers/$(nd_driver)" ] && return 0
	case "$DRIVER" in
	nd_pmem) modprobe nd_pmem ;;
	*) modprobe nd_btt && insmod "$RPMEM_KO" ;;
	esac
}

# rmmod of the driver under test, without its error message (for tests that
# expect it to be refused).
driver_unload_quiet() {
	case "$DRIVER" in
	nd_pmem) rmmod nd_pmem 2>/dev/null ;;
	*) rmmod rpmem 2>/dev/null ;;
	esac
}

driver_unload() {
	case "$DRIVER" in
	nd_pmem) modprobe -r nd_pmem ;;
	*) rmmod rpmem ;;
	esac
}

# The namespace with index $2 (default 0, in name order) on the bus whose
# provider is $1 (ACPI.NFIT or e820). Read from sysfs with shell builtins
# only: every exec costs a good fraction of a second in a KASAN guest under
# TCG, and these run often.
namespace_on() {
	local provider=$1 idx=${2:-0} ns p size here=$PWD
	for ns in /sys/bus/nd/devices/namespace*; do
		cd -P "$ns/../.." 2>/dev/null || continue # the bus: ndbusN/regionM/namespaceM.K
		p= size=0
		read -r p <provider
		cd "$here" || return 1
		read -r size <"$ns/size"
		[ "$p" = "$provider" ] && [ "$size" != 0 ] || continue
		[ "$idx" = 0 ] && { echo "${ns##*/}"; return; }
		idx=$((idx - 1))
	done
	cd "$here"
}

# read_attr FILE: its first line (empty if unreadable), without an exec.
read_attr() {
	local v=
	read -r v <"$1" 2>/dev/null
	echo "$v"
}

# The block device name (pmemN[s]) of namespace $1, or of the pfn/btt device
# that claims it; empty if none.
blockdev_of() {
	local ns=$1 d b
	for d in /sys/bus/nd/devices/$ns /sys/bus/nd/devices/pfn* /sys/bus/nd/devices/btt*; do
		[ -d "$d/block" ] || continue
		[ "$d" = "/sys/bus/nd/devices/$ns" ] || [ "$(read_attr "$d/namespace")" = "$ns" ] || continue
		for b in "$d"/block/*; do
			echo "${b##*/}"
			return
		done
	done
}

# "MODE MAP" of namespace $1 from `ndctl list` (its JSON read with bash).
ndctl_mode() {
	local j mode= map=
	j=$(ndctl list -n "$1")
	[[ $j =~ \"mode\":\"([a-z]+)\" ]] && mode=${BASH_REMATCH[1]}
	[[ $j =~ \"map\":\"([a-z]+)\" ]] && map=${BASH_REMATCH[1]}
	echo "$mode $map"
}

# has_line FILE LINE: whether FILE has the line LINE (builtins only).
has_line() {
	local l
	while read -r l; do
		[ "$l" = "$2" ] && return 0
	done <"$1"
	return 1
}

# line_starting FILE PREFIX: the first line of FILE that starts with PREFIX.
line_starting() {
	local l
	while read -r l; do
		[[ $l == "$2"* ]] && { echo "$l"; return; }
	done <"$1"
}

# pfn_dev_of NS: the pfn device that claims namespace NS.
pfn_dev_of() {
	local d
	for d in /sys/bus/nd/devices/pfn*; do
		[ "$(read_attr "$d/namespace")" = "$1" ] && { echo "${d##*/}"; return; }
	done
}

# The first device bound to nd driver $1 whose name starts with $2.
bound_to() {
	local d
	for d in /sys/bus/nd/drivers/$1/$2*; do
		[ -e "$d" ] && { echo "${d##*/}"; return; }
	done
}

# Reconfigure namespace $1 to mode $2 (raw, fsdax) with extra ndctl args.
namespace_mode() {
	local ns=$1 mode=$2
	shift 2
	ndctl create-namespace -f -e "$ns" -m "$mode" "$@" >/dev/null
}

# mce_inject PHYS: an uncorrected memory error at PHYS, logged as the
# machine check handler does (mce-inject "sw"), which the NFIT notifier
# turns into bus poison and NVDIMM_REVALIDATE_POISON.
mce_inject() {
	local d=/sys/kernel/debug/mce-inject
	modprobe mce-inject || return 1
	echo sw >$d/flags && echo 0xbc0000000000009f >$d/status &&
		echo "$(printf '%#x' "$1")" >$d/addr && echo 0x8c >$d/misc && echo 1 >$d/bank
}

# label_region: the region of the NVDIMM with a label area (vm.sh
# RPMEM_LABEL_NVDIMM=1): the one whose DIMM's labels ndctl can read. Until
# its labels are initialised (label_namespace does it) the kernel treats
# it as label-less, with one namespace over all of it.
label_region() {
	local r
	for r in /sys/bus/nd/devices/region*; do
		[ -e "$r/mapping0" ] || continue
		ndctl read-labels -j "$(cut -d, -f1 <"$r/mapping0")" >/dev/null 2>&1 && { echo "${r##*/}"; return; }
	done
}

# no_label_region WHAT: the suite's cases when there is no such region:
# skipped, or failed in a guest that vm.sh gave one (rpmem_label_nvdimm=1
# on the kernel command line).
no_label_region() {
	if [ "${rpmem_label_nvdimm:-0}" = 1 ]; then
		ktap_fail "$1: the NVDIMM with a label area found"
		ktap_skip_rest "$1" "no region found"
	else
		ktap_skip_rest "$1" "no NVDIMM with a label area (vm.sh RPMEM_LABEL_NVDIMM=1)"
	fi
	ktap_finished
	exit
}

# label_namespace REGION MODE ARGS...: REGION emptied, its labels
# initialised if ndctl needs them, and one namespace of MODE (ARGS to
# ndctl create-namespace), whose name goes to NS.
label_namespace() {
	local region=$1 mode=$2 nmem out
	shift 2
	ndctl destroy-namespace all -r "$region" -f >/dev/null 2>&1
	if ! out=$(ndctl create-namespace -r "$region" -m "$mode" "$@" 2>&1); then
		nmem=$(cut -d, -f1 <"/sys/bus/nd/devices/$region/mapping0")
		ndctl disable-region "$region" && ndctl init-labels -f "$nmem" &&
			ndctl enable-region "$region" || return 1
		out=$(ndctl create-namespace -r "$region" -m "$mode" "$@") || return 1
	fi
	[[ $out =~ \"dev\":\"(namespace[0-9.]+)\" ]] || { echo "$out"; return 1; }
	NS=${BASH_REMATCH[1]}
}

# now_ms: the wall clock in milliseconds.
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# raw_again NS...: every NS made raw again (what each suite leaves behind).
raw_again() {
	local ns
	for ns in "$@"; do namespace_mode "$ns" raw || return 1; done
}

# Scratch mount points under /tmp.
mnt_dir() { mkdir -p "/tmp/mnt/$1" && echo "/tmp/mnt/$1"; }

# memory_failure() on page frame $1, simulated (MF_SW_SIMULATED), for the
# suites that race it against unbind: the memory sysfs hard_offline_page
# calls memory_failure() straight away, and that takes a reference on the
# device's page map before it reads a struct page. hwpoison_inject's
# corrupt-pfn (7.3) reads the struct page (page_folio(), for its filters,
# even when they are off) after pfn_valid() and before memory_failure():
# racing an unbind that removes the page map, it faults on the memmap that
# was just unmapped (an oops in hwpoison_inject(), with rpmem in the
# teardown race, 2026-11-30). It is fine on a device that stays.
hard_offline=/sys/devices/system/memory/hard_offline_page
memory_failure_sim() { echo $(($1 << 12)) >$hard_offline; }
