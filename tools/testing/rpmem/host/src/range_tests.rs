// SPDX-License-Identifier: GPL-2.0

//! Properties of the sector/page arithmetic against a brute-force model.

use crate::range::*;
use proptest::prelude::*;

fn layout() -> impl Strategy<Value = Layout> {
    (1u64..1 << 20, 1u64..1 << 18, 0u64..64, 0u64..64).prop_map(|(base, pages, data, pad)| {
        let size = (pages + data + pad) << PAGE_SHIFT;
        Layout {
            phys_addr: base << PAGE_SHIFT,
            size,
            data_offset: data << PAGE_SHIFT,
            pfn_pad: pad << PAGE_SHIFT,
        }
    })
}

proptest! {
    #[test]
    fn sector_offset_round_trip(l in layout(), s in 0u64..1 << 24) {
        prop_assert_eq!(l.sector_of(l.offset_of(s)), s);
        prop_assert_eq!(l.offset_of(s) - l.data_offset, s * SECTOR_SIZE);
    }

    #[test]
    fn pages_from_counts_to_the_end(l in layout(), pgoff in 0u64..1 << 20) {
        let model = if pgoff * PAGE_SIZE >= l.capacity() { 0 } else { (l.capacity() - pgoff * PAGE_SIZE) / PAGE_SIZE };
        prop_assert_eq!(l.pages_from(pgoff), model);
    }

    #[test]
    fn pages_from_never_wraps(l in layout(), pgoff in any::<u64>()) {
        // Large offsets used to wrap in `pgoff << PAGE_SHIFT` and look like
        // the first pages of the device.
        let pages = l.pages_from(pgoff);
        prop_assert!(pages <= l.capacity() / PAGE_SIZE);
        if pgoff >= l.capacity() / PAGE_SIZE {
            prop_assert_eq!(pages, 0);
        } else {
            prop_assert_eq!(pages + pgoff, l.capacity() / PAGE_SIZE);
        }
    }

    #[test]
    fn pfn_ranges_stay_inside(l in layout(), pfn in 0u64..1 << 21, n in 0u64..64) {
        let first = (l.phys_addr + l.data_offset) / PAGE_SIZE;
        let inside = n > 0 && pfn >= first && (pfn + n - first) * PAGE_SIZE <= l.capacity();
        match l.pfn_range_to_data(pfn, n) {
            Some(r) => {
                prop_assert!(inside);
                prop_assert_eq!(r.start, (pfn - first) * PAGE_SIZE);
                prop_assert_eq!(r.end - r.start, n * PAGE_SIZE);
            }
            None => prop_assert!(!inside),
        }
    }

    #[test]
    fn clean_and_recovery_pages(start_page in 0u64..1 << 20, bad_off in 0u64..4096) {
        let start = start_page * SECTORS_PER_PAGE;
        let bad = start + bad_off;
        // Model: count page by page.
        let mut clean = 0;
        while (start + (clean + 1) * SECTORS_PER_PAGE) <= bad { clean += 1; }
        prop_assert_eq!(clean_pages(start, bad), clean);
        let stride = recovery_pages(start, bad);
        prop_assert!(stride >= 1);
        prop_assert_eq!(stride, core::cmp::max(1, bad_off.div_ceil(SECTORS_PER_PAGE)));
        // The stride never reaches past the page holding the first bad sector.
        prop_assert!(start + (stride - 1) * SECTORS_PER_PAGE <= bad);
    }

    #[test]
    fn spans_cover_exactly(sector in 0u64..1 << 30, len in 1u64..1 << 20) {
        let span = sector_span(sector, len);
        prop_assert_eq!(span.start, sector);
        prop_assert!((span.end - span.start) * SECTOR_SIZE >= len);
        prop_assert!((span.end - span.start - 1) * SECTOR_SIZE < len);
    }
}

#[test]
fn page_span_is_eight_sectors_a_page() {
    assert_eq!(page_span(0, 1), 0..8);
    assert_eq!(page_span(5, 3), 40..64);
}
