// SPDX-License-Identifier: GPL-2.0

//! The sub-page recovery rule. (The poison store's lookup table, the
//! kernel's maple tree, is tested against a bitmap model by KUnit:
//! rust/kernel/tests.rs.)

use crate::extents::*;

#[test]
fn sub_page_coverage() {
    let page = 0..8;
    // Sector 2 poisoned; a write of bytes 1024..1536 fills exactly it.
    assert!(covers(&(2..3), &page, &full_sectors(1024, 512)));
    // Starting one byte late leaves it partly unwritten.
    assert!(!covers(&(2..3), &page, &full_sectors(1025, 512)));
    // A bad range reaching into the next page only counts inside `page`.
    assert!(covers(&(6..12), &page, &full_sectors(3072, 1024)));
    assert_eq!(full_sectors(100, 200), 1..1);
}
