#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the rpmem guest under QEMU and run one script in it.
#
# The guest: the kernel from kernel.sh, the host's root file system over 9p
# (read-only, so every host tool is there), two file-backed 1 GiB NVDIMMs on
# the ACPI.NFIT bus and a 256 MiB legacy e820 region (memmap=256M!1G).
# Results come back through a writable 9p folder; the kernel console goes to
# a log that is checked for BUG/WARNING/Oops/KASAN/lockdep/KFENCE/hung tasks.
#
# usage: vm.sh KBUILD RESULTS_DIR TIMEOUT_S SCRIPT [ARGS...]
#   KBUILD       kernel build directory (bzImage and modroot inside)
#   RESULTS_DIR  host folder the guest sees as $RPMEM_RESULTS
#   SCRIPT       run in the guest as root after the guest is set up
# Extra QEMU options: RPMEM_QEMU_OPTS; extra kernel arguments: RPMEM_APPEND;
# vCPUs: RPMEM_SMP (2); RAM: RPMEM_MEM (3G); size of each of the two NVDIMMs:
# RPMEM_NVDIMM_SIZE (1G); RPMEM_LABEL_NVDIMM=1: a third one, of 16 GiB
# (sparse), with a label area (namespaces made from labels, such as
# 4096-byte sectors, or large ones); RPMEM_NVDIMM_EXTRA="1G 16G ...": more
# label-less NVDIMMs of those sizes (sparse; the probe benchmark); name
# shown before progress lines: RPMEM_VM_NAME.
# KVM: RPMEM_KVM=1 (off by default: TCG).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
. "$here/lib.sh"

[ $# -ge 4 ] || die "usage: vm.sh KBUILD RESULTS_DIR TIMEOUT_S SCRIPT [ARGS...]"
kbuild=$1 results=$2 timeout_s=$3
shift 3
script=$(realpath "$1")
shift
bzimage="$kbuild/arch/x86/boot/bzImage"
[ -r "$bzimage" ] || die "no kernel at $bzimage"
# A kernel whose 9p is modular (the stock one) brings an initramfs that
# loads it and mounts the root (stock.sh).
initrd=()
[ -r "$kbuild/initrd.img" ] && initrd=(-initrd "$kbuild/initrd.img")

mkdir -p "$results"
results=$(realpath "$results")
scratch="$results/vm"
rm -rf "$scratch"
mkdir -p "$scratch"
# What an earlier boot in this folder left and the checks below read.
rm -f "$results/guest-done" "$results/guest.log" "$results/dmesg.log" "$results/dmesg.tap"

# Fresh, sparse NVDIMM backing files for every boot.
nvdimm_size=${RPMEM_NVDIMM_SIZE:-1G}
nvdimm_opts=()
for i in 0 1; do
	truncate -s "$nvdimm_size" "$scratch/nvdimm$i.img"
	nvdimm_opts+=(-object "memory-backend-file,id=nv$i,share=on,mem-path=$scratch/nvdimm$i.img,size=$nvdimm_size,align=2M"
		-device "nvdimm,id=nvdimm$i,memdev=nv$i")
done

maxmem=12G label_nvdimm= slots=4
i=3
for size in ${RPMEM_NVDIMM_EXTRA:-}; do
	truncate -s "$size" "$scratch/nvdimm$i.img"
	nvdimm_opts+=(-object "memory-backend-file,id=nv$i,share=on,mem-path=$scratch/nvdimm$i.img,size=$size,align=2M"
		-device "nvdimm,id=nvdimm$i,memdev=nv$i")
	# Address space for it (GiB, rounded up), and a memory slot.
	maxmem=$((${maxmem%G} + ($(numfmt --from=iec "$size") + (1 << 30) - 1) / (1 << 30)))G
	slots=$((slots + 1)) i=$((i + 1))
done
if [ "${RPMEM_LABEL_NVDIMM:-0}" = 1 ]; then
	truncate -s 16G "$scratch/nvdimm2.img"
	nvdimm_opts+=(-object "memory-backend-file,id=nv2,share=on,mem-path=$scratch/nvdimm2.img,size=16G,align=2M"
		-device "nvdimm,id=nvdimm2,memdev=nv2,label-size=128K")
	maxmem=$((${maxmem%G} + 20))G
	label_nvdimm=" rpmem_label_nvdimm=1"
fi

accel=tcg
if [ "${RPMEM_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then
	accel=kvm
fi

args="$*"
printf '%s\n' "$args" >"$scratch/args"
echo "$kbuild/modroot" >"$scratch/modroot"
cmdline="console=ttyS0 root=rpmemroot rootfstype=9p"
cmdline+=" rootflags=trans=virtio,version=9p2000.L,msize=512000,cache=loose ro"
cmdline+=" init=$here/guest-init.sh memmap=256M!1G"
cmdline+=" panic=-1 softlockup_panic=0 hung_task_panic=0 log_buf_len=16M ${RPMEM_APPEND:-}"
cmdline+=" rpmem_script=$script rpmem_results=$results rpmem_src=$src$label_nvdimm"

console="$scratch/console.log"
progress="$scratch/progress.log"
: >"$progress"
step "vm: booting $(basename "$bzimage") ($accel, timeout ${timeout_s}s); console log: $console"

qemu=(qemu-system-x86_64 -nodefaults -accel "$accel" -machine pc,nvdimm=on
	-cpu max,vendor=GenuineIntel,la57=off -smp "${RPMEM_SMP:-2}" -m "${RPMEM_MEM:-3G}",slots=$slots,maxmem=$maxmem
	"${nvdimm_opts[@]}"
	-kernel "$bzimage" "${initrd[@]}" -append "$cmdline"
	-virtfs local,path=/,mount_tag=rpmemroot,security_model=none,readonly=on,multidevs=remap
	-virtfs "local,path=$src,mount_tag=rpmem_src,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=$results,mount_tag=rpmem_results,security_model=none,multidevs=remap"
	-virtfs "local,path=$kbuild/modroot,mount_tag=rpmem_mods,security_model=none,readonly=on,multidevs=remap"
	-display none -no-reboot -monitor "unix:$scratch/monitor.sock,server,nowait"
	-serial "file:$console" -serial "file:$progress"
	${RPMEM_QEMU_OPTS:-})

start=$(date +%s)
set +e
timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null &
qpid=$!
# Show the guest's progress lines (its second serial port) as they come
# (sed -u: line by line; mawk would hold them until the end), keeping a copy
# of what was shown; whatever the follower missed (QEMU truncates the file
# when it opens it, which may come after the follower's first read, and the
# follower stops with QEMU) is shown once QEMU is gone.
prefix="    ${RPMEM_VM_NAME:+[$RPMEM_VM_NAME] }"
show() { sed -u "s/\r\$//; s/^/$prefix/"; }
shown="$scratch/progress.shown"
tail -n +1 -f --pid=$qpid "$progress" 2>/dev/null | show | tee "$shown" &
tpid=$!
wait $qpid
rc=$?
wait $tpid 2>/dev/null
tail -n +"$(($(wc -l <"$shown") + 1))" "$progress" | show
set -e
elapsed=$(( $(date +%s) - start ))

status=0
if [ $rc = 124 ] || [ $rc = 137 ]; then
	echo "vm: guest did not finish within ${timeout_s}s; last console lines ($console):" >&2
	tail -n 30 "$console" | sed 's/^/    /' >&2
	status=1
elif [ $rc != 0 ]; then
	echo "vm: qemu exited with status $rc after ${elapsed}s; console: $console" >&2
	status=1
fi

# Kernel reports that fail every run, wherever they come from: the console
# (which has them even when the guest died) and the guest's whole dmesg
# (16 MiB log buffer), which also has what the console level hid.
splat='(BUG|WARNING|UBSAN|INFO):|Oops|Kernel panic|general protection fault|kernel BUG at|unreferenced object|blocked for more than|possible (circular|recursive) locking|inconsistent lock state'
for log in "$console" "$results/dmesg.log"; do
	grep -aEn "$splat" "$log" >"$scratch/splats" 2>/dev/null && break
done
if [ -s "$scratch/splats" ]; then
	echo "vm: kernel reported a problem ($log):" >&2
	first=$(head -1 "$scratch/splats" | cut -d: -f1)
	sed -n "$((first > 5 ? first - 5 : 1)),$((first + 40))p" "$log" | sed 's/^/    /' >&2
	printf 'TAP version 13\n1..1\nnot ok 1 dmesg clean: %s\n' \
		"$(head -1 "$scratch/splats" | cut -d: -f2- | cut -c1-120)" >"$results/dmesg.tap"
	status=1
else
	printf 'TAP version 13\n1..1\nok 1 dmesg clean (no BUG/WARNING/Oops/KASAN/lockdep/KFENCE/hung task)\n' \
		>"$results/dmesg.tap"
fi
if [ ! -e "$results/guest-done" ]; then
	echo "vm: the guest script did not run to its end; console: $console" >&2
	status=1
fi
step "vm: guest finished in ${elapsed}s"
exit $status
