# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the rpmem build and test scripts (sourced, not run).

# Where expensive outputs live: outside the repository, shared by all clones.
rpmem_cache() {
	echo "${RPMEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rpmem}"
}

step() { printf '==> %s\n' "$*" >&2; }
die() { printf 'rpmem: error: %s\n' "$*" >&2; exit 1; }

# The toolchain the kernel and the module are built with.
export RUSTC=/usr/bin/rustc
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
export PATH="$HOME/.cargo/bin:$PATH"
