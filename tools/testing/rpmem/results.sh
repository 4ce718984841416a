# SPDX-License-Identifier: GPL-2.0
#
# The results of make test (sourced by test.sh and harness-selftest.sh, so
# that the self-test checks the count test.sh makes): a fresh folder for
# them, and their count into PASS, FAIL and SKIP, with a "FAIL: ..." line
# for every failure and its reason. A suite is judged by the selftests'
# ktap.sh, as run.sh judged it in the guest.

. "$(dirname "${BASH_SOURCE[0]}")/../selftests/rpmem/ktap.sh"
PASS=0 FAIL=0 SKIP=0

# results_dir DIR: prints the absolute path of a folder for the results
# that holds nothing yet: DIR, or when DIR already has files (an earlier
# run's results, which must not be counted again), a new folder inside it.
results_dir() {
	local dir=$1
	mkdir -p "$dir" || return 1
	if [ -n "$(ls -A "$dir")" ]; then
		dir=$(mktemp -d "$dir/test-$(date +%Y%m%d-%H%M%S)-XXXX") || return 1
		echo "results: $1 is not empty; using $dir" >&2
	fi
	(cd "$dir" && pwd)
}

# count_fail WHAT: one failure no "not ok" line reported.
count_fail() {
	FAIL=$((FAIL + 1))
	echo "  FAIL: $*"
}

# count_tap FILE [RC]: the cases of a KTAP file, and one failure more when
# the harness fails it (ktap_verify; RC "file" for a suite run by run.sh,
# whose exit status it recorded).
count_tap() {
	local name=${1#"${COUNT_ROOT:-}"/} l why
	ktap_verify "$1" "${2-}"
	PASS=$((PASS + KV_PASS)) SKIP=$((SKIP + KV_SKIP)) FAIL=$((FAIL + KV_FAIL))
	for l in "${KV_NOTOK[@]}"; do echo "  FAIL: $name: $l"; done
	[ ${#KV_WHY[@]} = 0 ] && return
	why=$(printf '%s; ' "${KV_WHY[@]}")
	count_fail "$name: ${why%; }"
}

# count_kunit FILE: KUnit's KTAP (rpmem's suites one after the other, their
# test cases indented); each suite's cases must match its plan.
count_kunit() {
	local name=${1#"${COUNT_ROOT:-}"/} line plan= n=0
	if [ ! -s "$1" ]; then
		count_fail "$name: no results"
		return
	fi
	while IFS= read -r line; do
		case $line in
		"    1.."*) plan=${line#    1..} n=0 ;;
		"    ok "* | "    not ok "*) n=$((n + 1)) ;;
		"ok "* | "not ok "*)
			[ -n "$plan" ] && [ "$n" != "$plan" ] &&
				count_fail "$name: ${line#*ok 1 }: $n cases, plan says $plan"
			[[ $line == "ok "*"# SKIP"* ]] && SKIP=$((SKIP + 1))
			plan= ;;
		esac
		# Every case, at any depth (parameterized cases have their own).
		if [[ $line =~ ^[[:space:]]+(not )?ok\  ]]; then
			if [ -n "${BASH_REMATCH[1]}" ]; then
				FAIL=$((FAIL + 1))
				echo "  FAIL: $name: ${line#"${line%%[![:space:]]*}"}"
			elif [[ $line == *"# SKIP"* ]]; then
				SKIP=$((SKIP + 1))
			else
				PASS=$((PASS + 1))
			fi
		fi
	done <"$1"
}

# count_guest DIR KUNIT SUITE...: what one guest left in DIR: its final
# status (guest-done, written by guest-init.sh: the exit status of
# guest-test.sh, 0 when it ran every suite and recorded its results), the
# dmesg check of vm.sh, KUnit's results when KUNIT is 1, and each SUITE's.
count_guest() {
	local dir=$1 kunit=$2 st= s f name=${1#"${COUNT_ROOT:-}"}
	shift 2
	name="guest${name:+ ${name#/}}"
	if [ ! -e "$dir/guest-done" ]; then
		count_fail "$name: no guest-done: the guest script did not run to its end (crash or timeout? see vm/console.log)"
	else
		read -r st <"$dir/guest-done"
		[ "$st" = 0 ] || count_fail "$name: the guest script ended with status '$st' (guest-done; see guest.log)"
	fi
	count_tap "$dir/dmesg.tap"
	if [ "$kunit" = 1 ]; then
		count_kunit "$dir/kunit.ktap"
		for f in kunit.tap kunit-rmmod.tap; do
			[ -e "$dir/$f" ] && count_tap "$dir/$f"
		done
	fi
	for s; do
		count_tap "$dir/${s%.sh}.tap" file
	done
}
