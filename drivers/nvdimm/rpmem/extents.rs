// SPDX-License-Identifier: GPL-2.0

//! Sector-range arithmetic of the poison store: the coverage rule of
//! sub-page recovery writes. Pure code: the host crate tests it with
//! `cargo test`.

use core::ops::Range;

/// A sector range `start..end`, `Copy` unlike `Range`.
pub type Extent = (u64, u64);

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
