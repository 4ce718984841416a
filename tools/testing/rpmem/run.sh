#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make run: build everything, boot the NVDIMM guest, load rpmem and show it
# at work (namespaces, DAX mounts of xfs and ext4, data round trip).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
. "$here/lib.sh"

out=${RPMEM_OUT:-$(rpmem_cache)/results/run-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
"$here/setup.sh" || die "setup failed"
# Debian's own kernel by default (nothing compiled but the kernel crate and
# the module: minutes on a fresh machine); FLAVOR=test for the debug kernel
# that make test boots.
export FLAVOR=${FLAVOR:-stock}
kdir=$("$here/kernel.sh" "$FLAVOR") || die "guest kernel preparation failed"
"$here/build.sh" modules >"$out/module-build.log" 2>&1 ||
	{ tail -n 30 "$out/module-build.log"; die "module build failed; log: $out/module-build.log"; }
make -s -C "$root/tools/testing/selftests/rpmem" || die "selftest helpers failed to build"
"$here/vm.sh" "$kdir" "$out" "${RPMEM_VM_TIMEOUT:-900}" "$here/guest-demo.sh" \
	"${DRIVER:-rpmem}" "$root/rpmem.ko"
status=$?
echo
echo "summary:"
sed -n 's/^summary: /  /p' "$out/guest.log" 2>/dev/null | grep . ||
	echo "  (no summary lines in the guest's log: the tour did not get that far)"
echo "guest log: $out/guest.log, console: $out/vm/console.log"
exit $status
