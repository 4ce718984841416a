#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every `unsafe` of rpmem lives in its abstraction layer (rust/kernel/):
# prints each `unsafe` in a Rust file anywhere else in the tree (the
# driver, the host test crate) as FILE:LINE: TEXT and exits 1 if there is
# one, 0 if there is none. make test counts it as one case.
# usage: unsafe-check.sh [ROOT]   (default: this tree)
root=${1:-$(cd "$(dirname "$0")/../../.." && pwd)}
cd "$root" || exit 2
found=$(find . -name '*.rs' -not -path './rust/kernel/*' -not -path '*/target/*' -print0 |
	sort -z | xargs -0 -r grep -Hnw unsafe)
[ -z "$found" ] && exit 0
echo "$found"
exit 1
