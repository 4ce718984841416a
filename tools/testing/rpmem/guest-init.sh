#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of the rpmem guest (see vm.sh): mount what a test needs on top of the
# host's read-only root, run $rpmem_script, then power off. The script's
# progress goes to the second serial port, which vm.sh shows on the host.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp TERM=dumb LANG=C.UTF-8

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
ln -s /proc/self/fd /dev/fd # what udev would add: for bash's <(...)
ln -s fd/0 /dev/stdin
ln -s fd/1 /dev/stdout
ln -s fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
for d in /tmp /run /var/tmp /var/log /mnt; do
	mount -t tmpfs -o mode=0755 tmpfs "$d"
done
chmod 1777 /tmp /var/tmp
mount -t debugfs debugfs /sys/kernel/debug
mount -t configfs configfs /sys/kernel/config 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mkdir -p /run/lock

# The source tree and the results folder come as 9p shares of their own,
# mounted at their host paths: the tmpfs mounts above may hide them (a clone
# in /tmp).
mkdir -p "$rpmem_src" "$rpmem_results"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro rpmem_src "$rpmem_src"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 rpmem_results "$rpmem_results"
exec 3>/dev/ttyS1
export RPMEM_RESULTS=$rpmem_results

# The guest kernel's modules live next to its build (kernel.sh installs them
# there; a share of their own, as above, for a cache in /tmp): modprobe, for
# the tests and for the kernel's own requests, looks there through a wrapper
# (and modinfo).
# The host's modprobe.d (such as ndctl's install command for libnvdimm,
# which runs /sbin/modprobe without the folder) is not the guest's: an
# empty one of its own.
modroot=$(cat "$rpmem_results/vm/modroot")
mkdir -p "$modroot"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro rpmem_mods "$modroot"
mkdir -p /tmp/bin /tmp/modprobe.d
cat >/tmp/bin/modprobe <<EOS
#!/bin/sh
exec /sbin/modprobe -C /tmp/modprobe.d -d "$modroot" "\$@"
EOS
cat >/tmp/bin/modinfo <<EOS
#!/bin/sh
exec /sbin/modinfo -b "$modroot" "\$@"
EOS
chmod +x /tmp/bin/modprobe /tmp/bin/modinfo
echo /tmp/bin/modprobe >/proc/sys/kernel/modprobe
export PATH=/tmp/bin:$PATH
# The NVDIMM buses (built in, or modules in the stock kernel, where udev
# would load them).
modprobe -a nfit nd_e820

dmesg -n 5 2>/dev/null # warnings and worse on the console, for vm.sh's check
echo "guest: kernel $(uname -r) up after $(cut -d' ' -f1 /proc/uptime)s" >&3
read -r -a args <"$rpmem_results/vm/args"
bash "$rpmem_script" "${args[@]}" 2>&1 | tee "$rpmem_results/guest.log" >&3
echo "${PIPESTATUS[0]}" >"$rpmem_results/guest-done"
dmesg >"$rpmem_results/dmesg.log"
sync
umount "$rpmem_results"
echo o >/proc/sysrq-trigger
# PID 1 must outlive the power-off, and with builtins only: the power-off
# shuts the 9p root down, so an exec (sleep) may fail with EIO, and init
# exiting panics the kernel ("Attempted to kill init"), which the console
# check counts as a failure.
SECONDS=0
while [ $SECONDS -lt 30 ]; do :; done
