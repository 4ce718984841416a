// SPDX-License-Identifier: GPL-2.0

//! KUnit suites of rpmem: the poison list wrapper against the kernel's
//! real `struct badblocks`, and the range arithmetic in the kernel build.

#[kernel::prelude::kunit_tests(rpmem_badblocks)]
mod badblocks {
    use crate::badblocks::BadBlocks;
    use kernel::prelude::*;

    fn list() -> Pin<KBox<BadBlocks>> {
        KBox::pin_init(BadBlocks::new(), GFP_KERNEL).expect("badblocks_init")
    }

    #[test]
    fn empty_list_has_no_poison() {
        let bb = list();
        assert!(bb.is_empty());
        assert_eq!(bb.count(), 0);
        assert_eq!(bb.check(0..1 << 20), None);
    }

    #[test]
    fn check_finds_first_overlap() {
        let bb = list();
        assert!(bb.add(100..108).is_ok());
        assert!(bb.add(200..201).is_ok());
        assert_eq!(bb.count(), 2);
        assert_eq!(bb.check(0..100), None);
        assert_eq!(bb.check(0..101), Some(100..108));
        assert_eq!(bb.check(107..300), Some(100..108));
        assert_eq!(bb.check(108..200), None);
        assert_eq!(bb.check(150..250), Some(200..201));
        assert_eq!(bb.check(5..5), None);
    }

    #[test]
    fn clear_splits_and_removes() {
        let bb = list();
        assert!(bb.add(0..16).is_ok());
        assert!(bb.clear(4..8));
        assert_eq!(bb.check(4..8), None);
        assert_eq!(bb.check(0..4), Some(0..4));
        assert_eq!(bb.check(8..16), Some(8..16));
        assert!(bb.clear(0..16));
        assert!(bb.is_empty());
    }

    #[test]
    fn empty_range_is_refused() {
        let bb = list();
        assert_eq!(bb.add(10..10), Err(EINVAL));
        assert!(bb.is_empty());
    }

    #[test]
    fn full_list_reports_enospc() {
        let bb = list();
        // One page of u64 records: 512 separate ranges fit, the next not.
        for i in 0..512u64 {
            assert!(bb.add(i * 16..i * 16 + 1).is_ok());
        }
        assert_eq!(bb.count(), 512);
        assert_eq!(bb.add(512 * 16..512 * 16 + 1), Err(ENOSPC));
        assert_eq!(bb.count(), 512);
    }
}

#[kernel::prelude::kunit_tests(rpmem_range)]
mod range {
    use crate::range::*;

    const FSDAX: Layout = Layout {
        phys_addr: 0x1_4000_0000,
        size: 1 << 30,
        data_offset: 2 << 20,
        pfn_pad: 0,
    };

    #[test]
    fn layout_offsets_round_trip() {
        assert_eq!(FSDAX.capacity(), (1 << 30) - (2 << 20));
        assert_eq!(FSDAX.offset_of(8), 4096 + (2 << 20));
        assert_eq!(FSDAX.sector_of(FSDAX.offset_of(12345)), 12345);
        assert_eq!(FSDAX.pages_from(0), FSDAX.capacity() >> PAGE_SHIFT);
        assert_eq!(FSDAX.pages_from(u64::MAX >> PAGE_SHIFT), 0);
    }

    #[test]
    fn pfn_range_maps_into_data_area() {
        let first = (FSDAX.phys_addr + FSDAX.data_offset) >> PAGE_SHIFT;
        assert_eq!(FSDAX.pfn_range_to_data(first, 1), Some(0..4096));
        assert_eq!(FSDAX.pfn_range_to_data(first + 2, 2), Some(8192..16384));
        assert_eq!(FSDAX.pfn_range_to_data(first - 1, 1), None);
        let last = first + (FSDAX.capacity() >> PAGE_SHIFT);
        assert_eq!(FSDAX.pfn_range_to_data(last, 1), None);
    }

    #[test]
    fn recovery_stride() {
        assert_eq!(clean_pages(0, 0), 0);
        assert_eq!(clean_pages(0, 17), 2);
        assert_eq!(recovery_pages(0, 0), 1);
        assert_eq!(recovery_pages(0, 8), 1);
        assert_eq!(recovery_pages(0, 9), 2);
        assert_eq!(sector_span(10, 1), 10..11);
        assert_eq!(sector_span(10, 4096), 10..18);
        assert_eq!(page_span(3, 2), 24..40);
    }
}
