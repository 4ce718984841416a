#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Poison under load, with verification: on a raw e820 namespace, and on
# files of xfs (reflink, rmapbt) and ext4 mounted -o dax on NFIT fsdax
# namespaces, for STRESS_SECONDS (60) each (longer, up to 240 s more, until
# the count of poisoned blocks has gone up and down once; run.sh's time
# limit for this suite grows with it), rpmem_stress reads and writes
# random 4 KiB blocks of 16 MiB while it injects poison at random sectors
# (sysfs badblocks, debugfs inject, MADV_HWPOISON on files; nd_pmem: sysfs
# and MADV_HWPOISON), raising the number of poisoned blocks past 700 and
# letting recovery writes and debugfs clears bring it under 300, again and
# again: the store crosses the 512 records of the kernel's list both ways.
# A model of every block (locked while one thread uses it) says what each
# read must give: EIO on a poisoned block, else exactly the last generation
# written. Meanwhile fio writes and verifies (crc32c, verify_fatal) 4 KiB
# blocks on a part of the device or file system that is never poisoned.
# Afterwards: the store's list (rpmem: debugfs list, nd_pmem: sysfs
# badblocks) holds exactly the poisoned sectors of the model, a write over
# each poisoned block repairs it and the list is empty, every block reads
# back its last generation, the files did not move, fsck is clean, and the
# guest stays clean (run.sh's dmesg check). STRESS_SEED (20261130) makes
# the choices of each thread repeatable; the interleaving is not.
# rpmem is loaded with record_simulated=1 so that MADV_HWPOISON feeds its
# store; nd_pmem never records it (the data stays readable, as the model
# expects) and holds at most 512 records (its limit here is 400); a block
# write clears poison as rpmem's does, but its DAX recovery write fails on
# QEMU's NVDIMMs (EFAULT: -w lets a write over poison fail if it changes
# nothing), so its file targets end with poison left.
cd "$(dirname "$0")" && . ./lib.sh

SECS=${STRESS_SECONDS:-60}
SEED=${STRESS_SEED:-20261130}
BLOCKS=4096 # 16 MiB
CASES=6

ktap_header
ktap_plan $((1 + 3 * CASES + 2))

if [ "$DRIVER" = rpmem ]; then
	driver_unload_quiet
	check "load rpmem with record_simulated=1" sh -c "modprobe nd_btt && insmod $RPMEM_KO record_simulated=1"
	opts=(-H 700 -L 300 -r)
else
	check "load nd_pmem" driver_load
	opts=(-H 400 -L 150)
fi
ktap_diag "STRESS_SEED=$SEED STRESS_SECONDS=$SECS"

e820=$(namespace_on e820 0)
nfit0=$(namespace_on ACPI.NFIT 0)
nfit1=$(namespace_on ACPI.NFIT 1)
tmp=$(mktemp -d)

# fio_start TARGET OUT FIO-OPTIONS...: fio writing and verifying 4 KiB
# random blocks until stopped, in the background (FIO_PID); returns once it
# has written 1 MiB (wchar in /proc/PID/io), or fails after 120 s.
fio_start() {
	local target=$1 out=$2 i l
	shift 2
	fio --name=verify --filename="$target" "$@" --rw=randwrite --bs=4k --ioengine=psync \
		--verify=crc32c --verify_backlog=256 --verify_fatal=1 --verify_state_save=0 \
		--thread --time_based --runtime=3600 --output="$out" >/dev/null 2>&1 &
	FIO_PID=$!
	for ((i = 0; i < 600; i++)); do
		l=$(line_starting "/proc/$FIO_PID/io" wchar:)
		[ "${l#wchar: }" -gt $((1 << 20)) ] 2>/dev/null && return 0
		kill -0 $FIO_PID 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

# fio_stop OUT: fio stopped; succeeds when it ran without an error (its
# verification included) until the signal.
fio_stop() {
	kill -INT "$FIO_PID" 2>/dev/null
	wait "$FIO_PID"
	grep -q 'err= 0' "$1" && ! grep -qiE 'verify.*(fail|bad)|bad magic|crc32c' "$1"
}

# stress TAG TARGET BLOCKDEV FIO-TARGET FIO-OPTIONS...: the cases of one
# target.
stress() {
	local tag=$1 target=$2 b=$3 fio_target=$4 name=${1//[ \/]/_} rc methods
	local out=$tmp/$name.out err=$tmp/$name.err fio_out=$tmp/$name.fio
	shift 4
	local bb=/sys/block/$b/badblocks dbg=/sys/kernel/debug/rpmem/$b files=()
	if [ "$DRIVER" = rpmem ]; then
		methods=sysfs,debugfs,clear
		files=(-b "$bb" -i "$dbg/inject" -c "$dbg/clear" -l "$dbg/list")
	else
		methods=sysfs
		files=(-b "$bb" -l "$bb")
	fi
	[ -f "$target" ] && methods+=,madvise
	# nd_pmem's DAX recovery write fails: a write over poison may fail there.
	local may_fail=()
	[ "$DRIVER" = nd_pmem ] && [ -f "$target" ] && may_fail=(-w)

	local fio_started=1
	fio_start "$fio_target" "$fio_out" "$@" || fio_started=0
	./rpmem_stress -s "$SEED" -t "$SECS" -T $((SECS + 240)) -j 2 -m "$methods" "${opts[@]}" "${may_fail[@]}" "${files[@]}" \
		"$target" $BLOCKS >"$out" 2>"$err"
	rc=$?
	local fio_ok=0
	fio_stop "$fio_out" && [ $fio_started = 1 ] && fio_ok=1
	sed 's/^/# /' "$out"
	head -n 20 "$err" | sed 's/^/# /'
	if [ $rc = 2 ]; then
		ktap_fail "$tag: the stress run"
		ktap_skip_rest "$tag" "the stress run did not start (above)"
		return
	fi

	# Every method injected something, and no read or write broke the model.
	local used=1 m n
	for m in ${methods//,/ }; do
		[ "$m" = clear ] && m=cleared
		n=$(grep -oE "(injected .*|, )$m [0-9]+" "$out" | grep -oE '[0-9]+$')
		[ "${n:-0}" -gt 0 ] || used=0
	done
	expect_eq "$tag: ${SECS}s of reads, writes, injections ($methods) and recoveries: every read EIO on poison, else the last data written" \
		"0 violations, every method used" \
		"$(grep -oE '^during the run: [0-9]+ violations' "$out" | grep -oE '[0-9]+ violations'), $([ $used = 1 ] && echo "every method used" || echo "a method unused")"
	local most fewest
	read -r most fewest < <(sed -nE 's/^records: turns [0-9]+, most ([0-9]+), fewest after it ([0-9]+)$/\1 \2/p' "$out")
	if [ "$DRIVER" = rpmem ]; then
		expect_eq "$tag: the store went past 512 records and back under" "yes" \
			"$([ "${most:-0}" -gt 512 ] && [ "${fewest:-0}" -gt 0 ] && [ "$fewest" -lt 512 ] && echo yes || echo "most ${most:-?}, fewest after ${fewest:-?}")"
	else
		ktap_skip "$tag: the store went past 512 records and back under" \
			"nd_pmem's list holds at most 512 records and refuses more: its runs stay under 400 (most $most)"
	fi
	expect_eq "$tag: the list holds exactly the injected sectors that were not recovered" \
		"list: equal to the model" "$(grep -m1 -oE '^list: [a-z ]+ the model' "$out")"
	local rec
	rec=$(grep -oE '^recovery: .*' "$out")
	if [ "$DRIVER" = rpmem ] || [ ! -f "$target" ]; then
		expect_eq "$tag: a write over each poisoned block repaired it, the list is empty" \
			"0 still poisoned, 0 records left" "$(grep -oE '[0-9]+ still poisoned, [0-9]+ records left' <<<"$rec")"
	else
		ktap_skip "$tag: a write over each poisoned block repaired it, the list is empty" \
			"nd_pmem's DAX recovery write fails on QEMU's NVDIMMs (${rec#recovery: })"
	fi
	expect_eq "$tag: every block reads back the last data written (EIO where poisoned), the file did not move" \
		"0 violations, exit status 0" "$(grep -oE '^verify: .* [0-9]+ violations' "$out" | grep -oE '[0-9]+ violations$'), exit status $rc"
	if [ $fio_ok = 1 ]; then
		ktap_pass "$tag: fio verified its writes elsewhere on the device (crc32c, verify_fatal): no error"
	else
		ktap_fail "$tag: fio verified its writes elsewhere on the device (crc32c, verify_fatal): no error"
		grep -iE 'err=|error|verify|bad|crc' "$fio_out" | head -n 10 | sed 's/^/# fio: /'
	fi
}

# --- raw ---------------------------------------------------------------------
setup "$e820 raw" namespace_mode "$e820" raw
b=$(blockdev_of "$e820")
stress "raw /dev/$b" "/dev/$b" "$b" "/dev/$b" --offset=64M --size=32M --direct=1

# --- xfs and ext4 on fsdax ---------------------------------------------------
fs_stress() {
	local fs=$1 ns=$2 b m
	setup "$ns fsdax" namespace_mode "$ns" fsdax -a 2M
	b=$(blockdev_of "$ns")
	m=$(mnt_dir "$b")
	case $fs in
	xfs) setup "xfs on /dev/$b -o dax" sh -c "mkfs.xfs -f -q -m reflink=1,rmapbt=1 /dev/$b && mount -o dax /dev/$b $m" ;;
	ext4) setup "ext4 on /dev/$b -o dax" sh -c "mkfs.ext4 -F -q /dev/$b && mount -o dax /dev/$b $m" ;;
	esac
	setup "$m/stress" touch "$m/stress"
	stress "$fs /dev/$b" "$m/stress" "$b" "$m/fio" --size=16M
	umount "$m"
	case $fs in
	xfs)
		if [ "$DRIVER" = rpmem ]; then
			check "$fs /dev/$b: xfs_repair -n clean after the run" xfs_repair -n "/dev/$b"
		else
			ktap_skip "$fs /dev/$b: xfs_repair -n clean after the run" \
				"the poison nd_pmem could not clear lies in the first 512 KiB that xfs_repair reads at once: EIO"
		fi
		;;
	ext4) check "$fs /dev/$b: fsck.ext4 -fn clean after the run" fsck.ext4 -fn "/dev/$b" ;;
	esac
}
fs_stress xfs "$nfit0"
fs_stress ext4 "$nfit1"
# As the suites after this one expect them: raw, and rpmem with its
# default parameters.
setup "$nfit0 and $nfit1 left raw" raw_again "$nfit0" "$nfit1"
reload() { driver_unload && driver_load; }
[ "$DRIVER" = rpmem ] && setup "rpmem loaded again with its default parameters" reload

rm -rf "$tmp"
ktap_finished
