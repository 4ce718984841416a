#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the guest kernel: Linux 7.3 from Debian's linux-source-7.3,
# defconfig + kvm_guest.config + rpmem.config (+ rpmem-debug.config for the
# "test" flavor), clang 19, Debian's rustc. The build lives in the cache,
# keyed by everything it depends on; a matching build is reused as is.
#
# usage: kernel.sh test|bench|stock      prints the build directory on stdout
# (stock: Debian's own kernel, prepared by stock.sh, nothing compiled)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

flavor=${1:-test}
case "$flavor" in
test) frags="$here/rpmem.config $here/rpmem-debug.config" ;;
bench) frags="$here/rpmem.config" ;;
stock) exec "$here/stock.sh" ;;
*) die "unknown kernel flavor '$flavor' (test, bench or stock)" ;;
esac

# A fragment that cannot be read would key (and configure) another kernel.
for f in $frags; do
	[ -r "$f" ] || die "kernel: config fragment $f missing"
done
src=$(kernel_source)
srcver=$(dpkg-query -W -f '${Version}' linux-source-7.3)

# The key: source package version, fragments, compilers, bindgen, flavor.
key=$( {
	echo "$srcver $flavor"
	cat $frags
	/usr/bin/rustc --version
	clang-19 --version | head -1
	bindgen --version
} | sha256sum | cut -c1-12)

cache=$(rpmem_cache)
out="$cache/build-$flavor-$key"
if [ -e "$out/.rpmem-built" ]; then
	echo "$out"
	exit 0
fi

# One build per flavor is kept. A build of an older key becomes the start of
# this one: kbuild's per-file config dependencies make the rebuild
# incremental and exact, so changing a fragment costs minutes, not a build.
prev=$(ls -d "$cache"/build-"$flavor"-* 2>/dev/null | head -n 1 || true)
if [ -n "$prev" ] && [ "$prev" != "$out" ] && [ -e "$prev/Makefile" ]; then
	step "kernel: reusing $prev as the start of $out"
	rm -f "$prev/.rpmem-built"
	mv "$prev" "$out"
fi
rm -rf "$cache"/build-"$flavor"-*.old
mkdir -p "$out"
kmake() { make -C "$src" O="$out" LLVM=-19 RUSTC="$RUSTC" "$@"; }

step "kernel: configuring $flavor flavor in $out"
kmake -s defconfig >/dev/null
kmake -s kvm_guest.config >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" $frags >/dev/null
kmake -s olddefconfig >/dev/null
kmake -s rustavailable >/dev/null || die "kernel: 'make rustavailable' failed"

# merge_config only warns when Kconfig drops an option: make that fatal.
missing=0
for f in $frags; do
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=n) opt=${line%%=*}; grep -q "^$opt=" "$out/.config" && {
			echo "kernel: $opt should be off" >&2; missing=1; } ;;
		CONFIG_*) grep -qx "$line" "$out/.config" || {
			echo "kernel: $line did not stick ($(grep "^${line%%=*}=" "$out/.config" || echo unset))" >&2
			missing=1; } ;;
		esac
	done <"$f"
done
[ "$missing" = 0 ] || die "kernel: config fragment not applied (see above)"

jobs=$(nproc)
step "kernel: building bzImage and modules ($flavor, -j$jobs; cold: about 26 minutes on 2 cores; log: $out/build.log)"
log="$out/build.log"
start=$(date +%s)
# A progress line a minute: files compiled so far (about 1,900 in all).
(
	trap 'kill $! 2>/dev/null; exit 0' TERM
	while :; do
		sleep 60 &
		wait $!
		step "kernel: $(grep -cE '^  (CC|AS|RUSTC)( \[M\])? ' "$log") files compiled," \
			"$(( ($(date +%s) - start) / 60 )) min"
	done
) >&2 &
progress=$!
stop_progress() { kill $progress 2>/dev/null || true; }
if ! kmake -j"$jobs" bzImage modules >"$log" 2>&1; then
	stop_progress
	tail -n 40 "$log" >&2
	die "kernel build failed; full log: $log"
fi
stop_progress
step "kernel: installing modules into $out/modroot"
kmake -s INSTALL_MOD_PATH="$out/modroot" modules_install >>"$log" 2>&1
step "kernel: $flavor flavor built in $(( $(date +%s) - start )) s"
touch "$out/.rpmem-built"
echo "$out"
