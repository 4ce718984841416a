// SPDX-License-Identifier: GPL-2.0

//! The poison store's lookup table once the kernel's `struct badblocks` is
//! full: sorted, disjoint, non-adjacent extents in an [`RcuVec`], which
//! lookups binary-search without a lock (O(log n)). Edits are planned by
//! `extents` (a [`Splice`]); an append, the common case (scrub results and
//! injections arrive in sector order), writes the next free slots, so n
//! records in order cost O(n) copies in all, not O(n^2).

use crate::{
    extents::{Extent, Splice},
    kernel_ext::rcu::{RcuVec, Writer},
};
use kernel::prelude::*;

/// The lookup table.
pub(crate) type RcuExtents = RcuVec<Extent>;

/// Applies the edit that `plan` makes of the extents. On failure (no
/// memory for a new table) nothing changes.
pub(crate) fn edit(
    table: &mut Writer<'_, Extent>,
    plan: impl FnOnce(&[Extent]) -> Splice,
) -> Result {
    let edit = plan(table.entries());
    let added = edit.added();
    let mut with = [(0, 0); 2];
    for (slot, e) in with.iter_mut().zip(edit.with.into_iter().flatten()) {
        *slot = e;
    }
    table.splice(edit.at, &with[..added])
}
