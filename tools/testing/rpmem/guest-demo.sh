#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The `make run` tour, in the guest: load the driver, list the namespaces,
# make two of them fsdax, put xfs and ext4 on them with -o dax, write a file
# on each and read it back.
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
	umount "$m"
done
echo "== done"
