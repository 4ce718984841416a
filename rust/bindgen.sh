#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Generate the nvdimm/dax/badblocks bindings of rpmem (called by Kbuild).
#
# Uses the exact clang flags the kernel used for its own bindings (from
# $objtree/rust/bindings/.bindings_generated.rs.cmd), so every layout that
# depends on .config comes out as the kernel sees it. Only rpmem's names are
# emitted; everything else resolves to the kernel crate's bindings, so
# values pass between the two without casts (see rpmem_helper.h).
#
# usage: bindgen.sh OBJTREE SRCTREE HEADER OUT
set -eu
abs() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }
objtree=$(cd "$1" && pwd) srctree=$(cd "$2" && pwd) header=$(abs "$3") out=$(abs "$4")
cmdfile=$objtree/rust/bindings/.bindings_generated.rs.cmd
[ -r "$cmdfile" ] || { echo "rpmem: $cmdfile missing: is $objtree a built CONFIG_RUST tree?" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
key=$(cat "$cmdfile" "$objtree/include/generated/autoconf.h" "$here"/rpmem_*.h \
	"$here/../include/linux/rpmem.h" "$0" | sha256sum | cut -c1-32)
if [ -e "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
	exit 0
fi

# The clang half of the kernel's bindgen command.
# Drop its dep-file flag, its KBUILD_* names and the sed that follows it.
cflags=$(sed -n 's/^savedcmd_[^ ]* := .* -- //p' "$cmdfile" |
	sed -e 's/ ; .*//' -e 's/-Wp,-MMD,[^ ]*//' -e "s/-D_*KBUILD_[A-Z]*=[^ ]*//g")
bindgen=$(sed -n 's/^savedcmd_[^ ]* := \([^ ]*\) .*/\1/p' "$cmdfile")

names='(rpmem|RPMEM_CONST|nd|nvdimm|dax|badblocks|badrange|alloc_dax|put_dax|kill_dax|run_dax|set_dax|is_nd|to_nd|to_ndd|to_nvdimm|is_nvdimm|pmem|devm_namespace|devm_init_badblocks|arch_invalidate_pmem|__nd_driver)_?.*'

cd "$objtree"
# shellcheck disable=SC2086
$bindgen "$header" \
	--use-core --with-derive-default --ctypes-prefix ffi --no-layout-tests \
	--no-debug '.*' --enable-function-attribute-detection --rust-target 1.85 \
	--no-doc-comments --no-recursive-allowlist --wrap-unsafe-ops \
	--opaque-type 'nvdimm_pmu|btt' \
	--allowlist-function "$names" --allowlist-type "$names" --allowlist-var "$names" \
	--allowlist-type 'DAX_.*|ND_.*|NVDIMM_.*|btt' \
	--allowlist-var 'DAX_.*|ND_.*|NVDIMM_.*' \
	--blocklist-type 'dev_pagemap|dev_pagemap_ops|vmem_altmap' \
	-o "$out.tmp" -- $cflags -DMODULE -I"$srctree/drivers/nvdimm" -I"$here" -I"$here/../include"
sed -i 's/pub const RPMEM_CONST_/pub const /g' "$out.tmp"
mv "$out.tmp" "$out"
echo "$key" >"$out.key"
