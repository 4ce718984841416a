// SPDX-License-Identifier: GPL-2.0

//! Sector-range arithmetic of the poison store: its lookup table (sorted,
//! disjoint, non-adjacent extents, used once the kernel's `struct badblocks`
//! is full), the decoding of `struct badblocks` entries, and the coverage
//! rule of sub-page recovery writes. Pure code: the host crate tests it with
//! `cargo test` against a bitmap model.

use core::ops::Range;

/// A sector range `start..end`, `Copy` unlike `Range`.
pub type Extent = (u64, u64);

/// The first extent of `list` (sorted, disjoint) that overlaps `r`, whole.
pub fn first_overlap(list: &[Extent], r: &Range<u64>) -> Option<Range<u64>> {
    if r.is_empty() {
        return None;
    }
    let i = list.partition_point(|e| e.1 <= r.start);
    let e = list.get(i)?;
    (e.0 < r.end).then_some(e.0..e.1)
}

/// An edit of a list: `list[at]` is replaced by the extents in `with`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Splice {
    /// Indices replaced.
    pub at: Range<usize>,
    /// What replaces them, in order.
    pub with: [Option<Extent>; 2],
}

impl Splice {
    /// How many entries the list gains (at most 2 when the edit is applied
    /// after reserving room for them).
    pub fn added(&self) -> usize {
        self.with.iter().flatten().count()
    }
}

/// The edit that adds `r` (non-empty) to `list`, merging it with every
/// extent it overlaps or touches.
pub fn plan_insert(list: &[Extent], r: &Range<u64>) -> Splice {
    let lo = list.partition_point(|e| e.1 < r.start);
    let hi = list.partition_point(|e| e.0 <= r.end);
    let mut merged = (r.start, r.end);
    if lo < hi {
        merged.0 = merged.0.min(list[lo].0);
        merged.1 = merged.1.max(list[hi - 1].1);
    }
    Splice {
        at: lo..hi,
        with: [Some(merged), None],
    }
}

/// The edit that removes `r` from `list`: the extents it overlaps are
/// replaced by what is left of the first and the last of them.
pub fn plan_remove(list: &[Extent], r: &Range<u64>) -> Splice {
    let lo = list.partition_point(|e| e.1 <= r.start);
    let hi = list.partition_point(|e| e.0 < r.end);
    if r.is_empty() || lo >= hi {
        return Splice {
            at: lo..lo,
            with: [None, None],
        };
    }
    let left = (list[lo].0 < r.start).then_some((list[lo].0, r.start));
    let right = (list[hi - 1].1 > r.end).then_some((r.end, list[hi - 1].1));
    Splice {
        at: lo..hi,
        with: [left, right],
    }
}

/// Whether a write of sectors `write` fully covers the part of the bad range
/// `bad` that lies in `span` (the sectors of the pages the write touches):
/// the sub-page recovery rule. `write` is in sectors, rounded inwards (only
/// sectors the write fills completely).
pub fn covers(bad: &Range<u64>, span: &Range<u64>, write: &Range<u64>) -> bool {
    let start = bad.start.max(span.start);
    let end = bad.end.min(span.end);
    start >= end || (write.start <= start && end <= write.end)
}

/// The sectors a write of `len` bytes at byte `offset` fills completely.
pub const fn full_sectors(offset: u64, len: u64) -> Range<u64> {
    let start = offset.div_ceil(crate::range::SECTOR_SIZE);
    let end = (offset + len) / crate::range::SECTOR_SIZE;
    if end < start {
        start..start
    } else {
        start..end
    }
}
