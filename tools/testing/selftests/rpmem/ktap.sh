# SPDX-License-Identifier: GPL-2.0
#
# The harness's check of one suite's KTAP output (sourced by run.sh in the
# guest and by tools/testing/rpmem/results.sh on the host, so that both
# judge a suite the same way). Shell builtins only: it runs in the guest.
#
# A suite passes when its output starts with "TAP version 13" and its plan
# "1..N", then has exactly N cases numbered 1 to N, none "not ok", no
# "# setup failed: ..." line (lib.sh's setup), and the suite exited with
# status 0. run.sh appends "# run.sh: exit status N" to each suite's output,
# which the host reads back.

KTAP_STATUS_MARK="# run.sh: exit status "

# ktap_verify FILE [RC]: read the KTAP file FILE. Sets KV_PASS, KV_FAIL and
# KV_SKIP (its top-level "ok", "not ok" and "ok ... # SKIP" lines), KV_NOTOK
# (the "not ok" lines), KV_WHY (every reason the suite fails beyond its
# "not ok" lines) and KV_PARTIAL (1 if the last line has no newline: the
# suite died while writing it). RC: the suite's exit status; "file" to read
# it from run.sh's line in FILE (no such line: the suite did not finish);
# empty: not checked. Returns 0 when the suite passed.
ktap_verify() {
	local f=$1 rc=${2-} line last= i=0 n=0 plan= plans=0 status= numbering= header=
	KV_PASS=0 KV_FAIL=0 KV_SKIP=0 KV_NOTOK=() KV_WHY=() KV_PARTIAL=0
	if [ ! -s "$f" ]; then
		KV_WHY=("no results: ${f##*/} is missing or empty")
		return 1
	fi
	while IFS= read -r line || { [ -n "$line" ] && KV_PARTIAL=1; }; do
		i=$((i + 1)) last=$line
		if [[ $line =~ ^(not )?ok\ ([0-9]+) ]]; then
			n=$((n + 1))
			[ -z "$numbering" ] && [ "${BASH_REMATCH[2]}" != $n ] &&
				numbering="case $n is numbered ${BASH_REMATCH[2]}"
			if [ -n "${BASH_REMATCH[1]}" ]; then
				KV_FAIL=$((KV_FAIL + 1)) KV_NOTOK+=("$line")
			elif [[ $line == *"# SKIP"* ]]; then
				KV_SKIP=$((KV_SKIP + 1))
			else
				KV_PASS=$((KV_PASS + 1))
			fi
			continue
		fi
		case $line in
		"TAP version 13" | "KTAP version 1")
			[ $i = 1 ] && header=1 || KV_WHY+=("'$line' on line $i, not line 1") ;;
		1..*)
			plans=$((plans + 1))
			if [ $i = 2 ] && [[ $line =~ ^1\.\.([0-9]+)$ ]]; then
				plan=${BASH_REMATCH[1]}
			else
				KV_WHY+=("plan '$line' on line $i: it must come right after 'TAP version 13', before any case")
			fi ;;
		"$KTAP_STATUS_MARK"*) status=${line#"$KTAP_STATUS_MARK"} ;;
		"# setup failed: "*) KV_WHY+=("${line#"# "}") ;;
		"Bail out!"*) KV_WHY+=("$line") ;;
		esac
	done <"$f"
	[ -n "$header" ] || KV_WHY+=("no 'TAP version 13' on line 1")
	[ $plans = 0 ] && KV_WHY+=("no plan (1..N)")
	[ -n "$plan" ] && [ $n != "$plan" ] && KV_WHY+=("$n cases, plan says $plan")
	[ -n "$numbering" ] && KV_WHY+=("$numbering")
	[ "$KV_PARTIAL" = 1 ] && KV_WHY+=("last line cut short: '$last'")
	[ "$rc" = file ] && rc=${status:-missing}
	ktap_status_why "$rc"
	[ $KV_FAIL = 0 ] && [ ${#KV_WHY[@]} = 0 ]
}

# ktap_status_why RC: add to KV_WHY what the exit status RC of a suite says.
# Status 1 is lib.sh's ktap_finished reporting a failure already counted; it
# fails the suite only when nothing else does.
ktap_status_why() {
	case $1 in
	"" | 0) ;;
	missing) KV_WHY+=("no exit status: run.sh did not finish this suite (the guest crashed or timed out?)") ;;
	124) KV_WHY+=("timed out") ;;
	1) [ $KV_FAIL = 0 ] && [ ${#KV_WHY[@]} = 0 ] && KV_WHY+=("exit status 1 with every case ok") ;;
	*)
		if [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 128 ] && [ "$1" -lt 160 ]; then
			KV_WHY+=("killed by SIG$(kill -l $(($1 - 128))) (exit status $1)")
		else
			KV_WHY+=("exit status $1")
		fi ;;
	esac
}
