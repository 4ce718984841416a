#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Raw block I/O on /dev/pmemN (NFIT and e820): random offsets and sizes,
# including sizes that are not page multiples, O_DIRECT and buffered,
# written and verified by checksum (fio's crc32c verify); fsync and
# sync_file_range paths; queue limits and features as nd_pmem has them.
cd "$(dirname "$0")" && . ./lib.sh

# fio's jobs (name:description), run on each device; then 1 case of
# unaligned I/O, 5 of queue limits, 3 of iostats, dax/write_cache and the
# end of the device.
jobs=("direct:O_DIRECT random 512B..132K writes verify"
	"buffered:buffered random writes verify, fsync every 8"
	"synced:O_DIRECT writes with sync_file_range and fdatasync")
ktap_header
ktap_plan $((1 + 2 * ${#jobs[@]} + 1 + 5 + 3))

check "load $DRIVER" driver_load
nfit=$(namespace_on ACPI.NFIT 0)
e820=$(namespace_on e820 0)
setup "$nfit raw" namespace_mode "$nfit" raw

# fio with verification: every block written is read back and checked.
# One fio run a device (fio's start-up costs more than its I/O in a KASAN
# guest under TCG): three jobs one after the other (stonewall), each writing
# 4 MiB in random 512 B..132 KiB pieces at random 512 B aligned offsets and
# verifying them by crc32c; one test case a job, from its error field and
# fio's exit status.
fio_jobs() {
	printf '[global]\nfilename=%s\nrandseed=%s\nrw=randwrite\nbsrange=512-132k\nblockalign=512\n' "$1" $RANDOM
	printf 'size=4M\nioengine=psync\nverify=crc32c\ndo_verify=1\nverify_fatal=1\nverify_state_save=0\nstonewall\n'
	printf '[direct]\noffset=4M\ndirect=1\n'
	printf '[buffered]\noffset=12M\ndirect=0\nfsync=8\n'
	printf '[synced]\noffset=20M\ndirect=1\nsync_file_range=write:4\nfdatasync=16\n'
}

for ns in "$nfit" "$e820"; do
	dev=/dev/$(blockdev_of "$ns")
	fio_jobs "$dev" >/tmp/fio.job
	fio --output-format=terse /tmp/fio.job >/tmp/fio.out 2>&1
	rc=$?
	for job in "${jobs[@]}"; do
		# Terse lines: version;fio version;job name;group;error;...
		err=$(awk -F';' -v j="${job%%:*}" '$3 == j { print $5 }' /tmp/fio.out)
		if [ "$err" = 0 ] && [ $rc = 0 ]; then
			ktap_pass "$dev: ${job#*:}"
		else
			ktap_fail "$dev: ${job#*:}"
			ktap_diag "fio job ${job%%:*}: error '${err:-no result}', fio exit status $rc"
			tail -n 5 /tmp/fio.out | sed 's/^/# /'
		fi
	done
done

dev=/dev/$(blockdev_of "$e820")
setup "1 MiB + 1025 random bytes" to_file /tmp/blob head -c 1049089 /dev/urandom
setup "blob written at byte 12345 of $dev" \
	dd if=/tmp/blob of="$dev" bs=4096 seek=12345 oflag=seek_bytes conv=notrunc,fsync status=none
got=$(dd if="$dev" bs=4096 skip=12288 count=260 iflag=direct,skip_bytes status=none |
	tail -c +58 | head -c 1049089 | sha256sum)
expect_eq "$dev: 1 MiB + 1025 bytes at byte 12345 read back with O_DIRECT" "$(sha256sum </tmp/blob)" "$got"

# Queue limits and features, as nd_pmem sets them.
b=$(basename "$dev")
expect_eq "$b: logical_block_size 512" 512 "$(</sys/block/$b/queue/logical_block_size)"
expect_eq "$b: physical_block_size 4096" 4096 "$(</sys/block/$b/queue/physical_block_size)"
expect_eq "$b: write cache on (flushes reach the driver)" "write back" "$(</sys/block/$b/queue/write_cache)"
expect_eq "$b: dax supported" 1 "$(</sys/block/$b/queue/dax)"
expect_eq "$b: iostats off by default (bio based, as nd_pmem)" 0 "$(</sys/block/$b/queue/iostats)"
io_accounted() {
	local before after
	echo 1 >/sys/block/$b/queue/iostats
	read -r -a before </sys/block/$b/stat
	io_is "done 8192" read "$dev" 0 8192 direct &&
		io_is "done 4096" write "$dev" 0 4096 5 direct || { echo 0 >/sys/block/$b/queue/iostats; return 1; }
	read -r -a after </sys/block/$b/stat
	echo 0 >/sys/block/$b/queue/iostats
	[ $((after[0] - before[0])) -ge 1 ] && [ $((after[4] - before[4])) -ge 1 ] ||
		{ echo "stat before: ${before[*]}"; echo "stat after:  ${after[*]}"; return 1; }
}
check "$b: with iostats on, reads and writes are accounted" io_accounted
old=$(</sys/block/$b/dax/write_cache)
check "$b: dax/write_cache writable (0, then back to $old)" bash -c "
	echo 0 > /sys/block/$b/dax/write_cache && [ \$(</sys/block/$b/dax/write_cache) = 0 ] &&
	echo $old > /sys/block/$b/dax/write_cache && [ \$(</sys/block/$b/dax/write_cache) = $old ] &&
	! echo maybe > /sys/block/$b/dax/write_cache 2>/dev/null"
# Reading past the end fails instead of wrapping.
cap=$(</sys/block/$b/size)
check "$b: read at the last sector works, one past it returns nothing" sh -c "
	[ \$(dd if=$dev bs=512 skip=$((cap - 1)) count=1 iflag=direct status=none | wc -c) = 512 ] &&
	[ \$(dd if=$dev bs=512 skip=$cap count=1 iflag=direct status=none | wc -c) = 0 ]"
ktap_finished
