#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything rpmem needs to build and test on a Debian 12 machine:
# the Rust toolchain the kernel accepts, clang/LLVM 19, bindgen, the Linux 7.3
# source, QEMU 10 and the guest's user-space tools. Idempotent: a stamp keyed
# by this file's content makes a second run take well under a second.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

BINDGEN_VERSION=0.73.0
stamp_dir=$(rpmem_cache)
stamp="$stamp_dir/setup-$(sha256sum "$0" | cut -c1-16).done"
if [ -e "$stamp" ] && [ "${RPMEM_SETUP_FORCE:-0}" = 0 ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	die "setup needs root (apt-get); run 'sudo make setup' once"
fi

step "setup: apt sources (bookworm-backports for QEMU 10, trixie-backports for linux-source-7.3)"
cat >/etc/apt/sources.list.d/rpmem-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
# trixie-backports is only for linux-source-7.3: never let it win a version
# race for anything else (both backports suites are NotAutomatic already).
cat >/etc/apt/preferences.d/rpmem-trixie <<'PIN'
Package: *
Pin: release n=trixie-backports
Pin-Priority: 1
PIN

export DEBIAN_FRONTEND=noninteractive
apt_q() { apt-get -q -o Dpkg::Use-Pty=0 "$@"; }

step "setup: apt-get update"
apt_q update >/dev/null

step "setup: toolchain (rustc-web, rust-web-src, clang/lld/llvm 19, kernel build deps)"
apt_q install -y --no-install-recommends \
	rustc-web rust-web-src rust-web-clippy \
	libclang1-19 libclang-19-dev clang-19 lld-19 llvm-19 \
	flex bison bc libelf-dev libssl-dev cpio kmod xz-utils make gcc \
	python3 >/dev/null

step "setup: QEMU and debootstrap (the stock kernel's toolchain root) from bookworm-backports"
apt_q install -y --no-install-recommends -t bookworm-backports \
	qemu-system-x86 qemu-utils debootstrap >/dev/null

step "setup: guest tools (ndctl, xfsprogs, e2fsprogs, fio, util-linux, busybox)"
apt_q install -y --no-install-recommends \
	ndctl daxctl xfsprogs e2fsprogs fio util-linux kmod busybox-static \
	procps iproute2 >/dev/null

step "setup: linux-source-7.3 from trixie-backports"
apt_q install -y --no-install-recommends linux-source-7.3/trixie-backports >/dev/null

if ! bindgen --version 2>/dev/null | grep -q "bindgen $BINDGEN_VERSION"; then
	step "setup: bindgen-cli $BINDGEN_VERSION (cargo install, about a minute)"
	cargo install --quiet --locked --version "$BINDGEN_VERSION" bindgen-cli
fi

mkdir -p "$stamp_dir"
rm -f "$stamp_dir"/setup-*.done
touch "$stamp"
step "setup: done"
