#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The `make run` tour, in the guest: load the driver, list the namespaces,
# make two of them fsdax, put xfs and ext4 on them with -o dax, write a file
# on each and read it back; then (rpmem) poison a page of a file and show
# the short read, EIO, SIGBUS and the repairing write.
# usage: guest-demo.sh DRIVER RPMEM_KO
export DRIVER=$1 RPMEM_KO=$2
. "$(dirname "$0")/../selftests/rpmem/lib.sh"
set -e
summary() { echo "summary: $*"; }

echo "== loading $DRIVER"
driver_load
summary "driver: $DRIVER ($(nd_driver) on the nd bus)"

echo "== ndctl list -N (before)"
ndctl list -N -v

nfit0=$(namespace_on ACPI.NFIT 0)
nfit1=$(namespace_on ACPI.NFIT 1)
e820=$(namespace_on e820 0)
echo "== fsdax on $nfit0 (map=mem) and $nfit1 (map=dev)"
namespace_mode "$nfit0" fsdax -a 2M --map=mem
namespace_mode "$nfit1" fsdax -a 2M --map=dev
ndctl list -N
summary "namespaces: $nfit0 -> /dev/$(blockdev_of $nfit0), $nfit1 -> /dev/$(blockdev_of $nfit1), $e820 (e820) -> /dev/$(blockdev_of $e820)"

# poison_tour MOUNT DISK: the recovery story on one file.
poison_tour() {
	local m=$1 b=$2 f=$1/poisoned st=$(dirname "$0")/../selftests/rpmem s
	echo "== poison on $f (page 2 of 4), through /sys/block/$b/badblocks"
	head -c 16384 /dev/zero >"$f"
	"$st/rpmem_io" write "$f" 0 16384 1 >/dev/null
	s=$(($("$st/rpmem_io" phys "$f" 8192) / 512))
	echo "$s 8" >/sys/block/$b/badblocks
	echo "badblocks: $(cat /sys/block/$b/badblocks)"
	local short eio fault fix after
	short=$("$st/rpmem_io" read "$f" 0 16384)
	eio=$("$st/rpmem_io" read "$f" 8192 4096)
	fault=$("$st/rpmem_fault" read "$f" 8192)
	fix=$("$st/rpmem_io" write "$f" 8192 4096 2)
	after="'$(cat /sys/block/$b/badblocks)' $("$st/rpmem_io" check "$f" 8192 4096 2)"
	echo "pread 16 KiB from 0:       $short   (the good bytes before the poison)"
	echo "pread 4 KiB of the page:   $eio"
	echo "load through a mapping:    $fault"
	echo "pwrite 4 KiB over it:      $fix   (clear_poison=$(cat /sys/module/rpmem/parameters/clear_poison))"
	echo "then badblocks and the page: $after"
	grep . /sys/kernel/debug/rpmem/$b/counters | tr '\n' ' '
	echo
	[ "$short|$eio|$fault|$fix|$after" = "done 8192|errno=EIO|sigbus code=BUS_MCEERR_AR lsb=12 in_page=1|done 4096|'' done 4096" ] ||
		{ echo "poison tour: unexpected results"; exit 1; }
	summary "poison on $b: short read, EIO, SIGBUS BUS_MCEERR_AR, repaired by pwrite, record gone"
}

head -c 16M /dev/urandom >/tmp/payload
want=$(sha256sum </tmp/payload | cut -c1-16)
for pair in "xfs:$nfit0" "ext4:$nfit1"; do
	fs=${pair%%:*} ns=${pair#*:}
	dev=/dev/$(blockdev_of "$ns")
	m=$(mnt_dir "$fs")
	echo "== $fs on $dev with -o dax"
	case $fs in
	xfs) mkfs.xfs -f -q -m reflink=1,rmapbt=1 "$dev" ;;
	ext4) mkfs.ext4 -F -q "$dev" ;;
	esac
	mount -o dax "$dev" "$m"
	opts=$(awk -v m="$m" '$2 == m { print $4 }' /proc/mounts)
	echo "$dev on $m type $fs ($opts)"
	case ",$opts," in *,dax=always,*) ;; *) echo "$fs: not mounted with dax=always"; exit 1 ;; esac
	cp /tmp/payload "$m/payload"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	got=$(sha256sum <"$m/payload" | cut -c1-16)
	[ "$got" = "$want" ] || { echo "$fs: read back $got, wrote $want"; exit 1; }
	summary "$fs on $dev mounted dax=always: 16 MiB written, read back, sha256 $got matches"
	[ "$fs" = xfs ] && [ "$DRIVER" = rpmem ] && poison_tour "$m" "$(blockdev_of "$ns")"
	umount "$m"
done
echo "== done"
