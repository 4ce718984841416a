# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the rpmem build and test scripts (sourced, not run).

# Where expensive outputs live: outside the repository, shared by all clones.
rpmem_cache() {
	echo "${RPMEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rpmem}"
}

# The Linux source: Debian's linux-source-7.3 tarball, extracted once into
# the cache. Prints its path.
kernel_source() {
	local tarball=/usr/src/linux-source-7.3.tar.xz srcver src
	[ -r "$tarball" ] || die "$tarball missing: run 'make setup'"
	srcver=$(dpkg-query -W -f '${Version}' linux-source-7.3)
	src="$(rpmem_cache)/linux-$srcver"
	if [ ! -e "$src/.rpmem-extracted" ]; then
		step "kernel: extracting $tarball"
		rm -rf "$src" "$src.tmp"
		mkdir -p "$src.tmp"
		tar -C "$src.tmp" --strip-components=1 -xf "$tarball"
		touch "$src.tmp/.rpmem-extracted"
		mv "$src.tmp" "$src"
	fi
	echo "$src"
}

step() { printf '==> %s\n' "$*" >&2; }
die() { printf 'rpmem: error: %s\n' "$*" >&2; exit 1; }

# The toolchain the kernel and the module are built with.
export RUSTC=/usr/bin/rustc
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
export PATH="$HOME/.cargo/bin:$PATH"
