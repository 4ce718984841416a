#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A large namespace: the whole 16 GiB of the guest's NVDIMM with a label
# area (sparse on the host; vm.sh RPMEM_LABEL_NVDIMM=1, the labels guest of
# make test), raw, fsdax with the struct pages on the device (map=dev) and
# in RAM (map=mem). For each, the device is unbound and bound again, and
# the bind's time and the RAM it takes (MemFree before and after, page
# cache dropped) are measured and printed: bounded by 120 s, and by 64 MiB
# without struct pages in RAM, 128 to 512 MiB with them (64 bytes a 4 KiB
# page: 256 MiB for 16 GiB). The last 4 KiB of the device are written and
# read back. The same bounds hold for nd_pmem.
cd "$(dirname "$0")" && . ./lib.sh

ktap_header
ktap_plan 8

check "load $DRIVER" driver_load
drv=$(nd_driver)
region=$(label_region)
size=$(read_attr "/sys/bus/nd/devices/$region/size" 2>/dev/null)
# The 16 GiB less its label area.
[ -n "$region" ] && [ "${size:-0}" -gt $((15 << 30)) ] || no_label_region "16 GiB namespace"
ktap_diag "region $region: $((size >> 20)) MiB"

mem_free_kib() {
	local k v u
	sync && echo 3 >/proc/sys/vm/drop_caches
	while read -r k v u; do [ "$k" = MemFree: ] && echo "$v"; done </proc/meminfo
}

# measure MODE ARGS...: a namespace of the whole region in MODE; its
# device rebound with the time and RAM measured (2 cases).
measure() {
	local mode=$1 d b before after t0 ms mib lo=0 hi=64 what
	shift
	what="16 GiB $mode${*:+ $*}"
	[[ " $* " == *" --map=mem "* ]] && lo=128 hi=512
	if ! setup "$what: namespace of the whole region" label_namespace "$region" "$mode" "$@"; then
		ktap_skip "$what: bind" "namespace not created"
		ktap_skip "$what: I/O at the end" "namespace not created"
		return
	fi
	d=$NS
	[ "$mode" = fsdax ] && d=$(pfn_dev_of "$NS")
	setup "$d unbound" write_attr "/sys/bus/nd/drivers/$drv/unbind" "$d"
	before=$(mem_free_kib)
	t0=$(now_ms)
	write_attr "/sys/bus/nd/drivers/$drv/bind" "$d"
	ms=$(($(now_ms) - t0))
	after=$(mem_free_kib)
	mib=$(((before - after) / 1024))
	b=$(blockdev_of "$NS")
	ktap_diag "$what: bind $ms ms, $mib MiB of RAM, /dev/$b $(($(blockdev --getsize64 "/dev/$b") >> 20)) MiB"
	check "$what: /dev/$b bound in ${ms} ms (0 < t < 120 s), taking $mib MiB of RAM ($lo to $hi)" \
		test -b "/dev/$b" -a "$ms" -gt 0 -a "$ms" -lt 120000 -a "$mib" -ge $lo -a "$mib" -le $hi
	local end=$(($(blockdev --getsize64 "/dev/$b") - 4096))
	expect_eq "$what: the last 4 KiB written and read back" "done 4096|done 4096" \
		"$(./rpmem_io write "/dev/$b" $end 4096 31 direct)|$(./rpmem_io check "/dev/$b" $end 4096 31 direct)"
}

measure raw
measure fsdax --map=dev -a 2M
measure fsdax --map=mem -a 2M
check "$region emptied" ndctl destroy-namespace all -r "$region" -f
ktap_finished
