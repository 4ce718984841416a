// SPDX-License-Identifier: GPL-2.0

//! KUnit suites of rpmem: the poison list wrapper against the kernel's
//! real `struct badblocks`, the poison store with its lookup table and the
//! range arithmetic in the kernel build (the layer's own suites are in
//! rust/kernel/tests.rs).

#[kernel::prelude::kunit_tests(rpmem_badblocks)]
mod badblocks {
    use crate::kernel_ext::badblocks::{entry_sectors, BadBlocks};
    use kernel::prelude::*;

    fn list() -> Result<Pin<KBox<BadBlocks>>> {
        KBox::pin_init(BadBlocks::new(), GFP_KERNEL)
    }

    #[test]
    fn empty_list_has_no_poison() -> Result {
        let bb = list()?;
        assert!(bb.is_empty());
        assert_eq!(bb.count(), 0);
        assert_eq!(bb.check(0..1 << 20), None);
        Ok(())
    }

    #[test]
    fn check_finds_first_overlap() -> Result {
        let bb = list()?;
        assert!(bb.add(100..108).is_ok());
        assert!(bb.add(200..201).is_ok());
        assert_eq!(bb.count(), 2);
        assert_eq!(bb.check(0..100), None);
        assert_eq!(bb.check(0..101), Some(100..108));
        assert_eq!(bb.check(107..300), Some(100..108));
        assert_eq!(bb.check(108..200), None);
        assert_eq!(bb.check(150..250), Some(200..201));
        assert_eq!(bb.check(5..5), None);
        Ok(())
    }

    #[test]
    fn clear_splits_and_removes() -> Result {
        let bb = list()?;
        assert!(bb.add(0..16).is_ok());
        assert!(bb.clear(4..8));
        assert_eq!(bb.check(4..8), None);
        assert_eq!(bb.check(0..4), Some(0..4));
        assert_eq!(bb.check(8..16), Some(8..16));
        assert!(bb.clear(0..16));
        assert!(bb.is_empty());
        Ok(())
    }

    #[test]
    fn empty_range_is_refused() -> Result {
        let bb = list()?;
        assert_eq!(bb.add(10..10), Err(EINVAL));
        assert!(bb.is_empty());
        Ok(())
    }

    #[test]
    fn full_list_reports_enospc() -> Result {
        let bb = list()?;
        // One page of u64 records: 512 separate ranges fit, the next not.
        for i in 0..512u64 {
            assert!(bb.add(i * 16..i * 16 + 1).is_ok());
        }
        assert_eq!(bb.count(), 512);
        assert_eq!(bb.add(512 * 16..512 * 16 + 1), Err(ENOSPC));
        assert_eq!(bb.count(), 512);
        Ok(())
    }

    #[test]
    fn entries_decode_the_kernel_format() -> Result {
        // BB_MAKE(8, 1, 1) and BB_MAKE(1 << 40, 512, 0).
        assert_eq!(entry_sectors((8 << 9) | (1u64 << 63)), 8..9);
        assert_eq!(
            entry_sectors(((1u64 << 40) << 9) | 511),
            (1 << 40)..(1 << 40) + 512
        );
        let bb = list()?;
        assert!(bb.add(100..108).is_ok());
        assert!(bb.add(1000..1512).is_ok());
        assert_eq!(&bb.entries()?[..], &[(100, 108), (1000, 1512)]);
        Ok(())
    }
}

#[kernel::prelude::kunit_tests(rpmem_poison)]
mod poison {
    use crate::poison::Poison;
    use kernel::prelude::*;

    fn store() -> Result<Pin<KBox<Poison>>> {
        KBox::pin_init(Poison::new(), GFP_KERNEL)
    }

    #[test]
    fn overflow_keeps_every_record() -> Result {
        let p = store()?;
        // 600 separate ranges: 512 in the kernel's list, 88 beyond it.
        for i in 0..600u64 {
            assert_eq!(p.add(i * 16..i * 16 + 1)?, i == 512);
        }
        assert_eq!(p.table_len(), 600);
        for i in 0..600u64 {
            assert_eq!(p.check(i * 16..i * 16 + 8), Some(i * 16..i * 16 + 1));
            assert_eq!(p.check(i * 16 + 1..i * 16 + 16), None);
        }
        let all = p.records()?;
        assert_eq!(all.len(), 600);
        assert_eq!((all[0], all[599]), ((0, 1), (9584, 9585)));
        Ok(())
    }

    #[test]
    fn clear_that_splits_a_full_list() -> Result {
        let p = store()?;
        // 512 ranges of 8 sectors fill the kernel's list exactly.
        for i in 0..512u64 {
            assert!(!p.add(i * 16..i * 16 + 8)?);
        }
        assert_eq!(p.table_len(), 0);
        // Clearing inside one would split it: the table takes over.
        p.clear(5 * 16 + 3..5 * 16 + 4)?;
        assert_eq!(p.check(5 * 16 + 3..5 * 16 + 4), None);
        assert_eq!(p.check(5 * 16..5 * 16 + 3), Some(5 * 16..5 * 16 + 3));
        assert_eq!(
            p.check(5 * 16 + 4..5 * 16 + 16),
            Some(5 * 16 + 4..5 * 16 + 8)
        );
        assert_eq!(p.table_len(), 513);
        let all = p.records()?;
        assert_eq!(all.len(), 513);
        assert_eq!((all[5], all[6]), ((80, 83), (84, 88)));
        // The kernel's list keeps a subset of the records: 511 whole, and
        // one of the two pieces.
        assert_eq!(p.badblocks().count(), 512);
        assert_eq!(p.badblocks().check(5 * 16 + 3..5 * 16 + 4), None);
        // A range that spans two entries, one of them cut at each end.
        p.clear(7 * 16 + 4..8 * 16 + 2)?;
        assert_eq!(p.check(7 * 16 + 4..8 * 16 + 2), None);
        assert_eq!(p.check(7 * 16..7 * 16 + 16), Some(7 * 16..7 * 16 + 4));
        assert_eq!(p.check(8 * 16..8 * 16 + 16), Some(8 * 16 + 2..8 * 16 + 8));
        assert_eq!(p.records()?.len(), 513);
        Ok(())
    }

    #[test]
    fn table_appends_inserts_and_splits() -> Result {
        let p = store()?;
        for i in 0..512u64 {
            p.add(i * 16..i * 16 + 1)?;
        }
        // In order: appends, through two table growths.
        let base = 1 << 20;
        for i in 0..40u64 {
            p.add(base + i * 16..base + i * 16 + 1)?;
        }
        assert_eq!(p.table_len(), 552);
        // Out of order: a new table each.
        p.add(base + 8..base + 9)?;
        p.add(base + 1..base + 8)?;
        assert_eq!(p.check(base..base + 16), Some(base..base + 9));
        assert!(p.clear(base + 5 * 16..base + 5 * 16 + 1).is_ok());
        assert_eq!(p.check(base + 65..base + 100), Some(base + 96..base + 97));
        // A range split by a clear in its middle.
        p.add(2 * base..2 * base + 100)?;
        assert!(p.clear(2 * base + 40..2 * base + 50).is_ok());
        assert_eq!(
            p.check(2 * base + 30..2 * base + 60),
            Some(2 * base..2 * base + 40)
        );
        assert_eq!(
            p.check(2 * base + 40..2 * base + 60),
            Some(2 * base + 50..2 * base + 100)
        );
        assert_eq!(p.table_len(), 553);
        let all = p.records()?;
        assert_eq!(all.len(), 512 + 41);
        assert_eq!(
            (all[512], all[513]),
            ((base, base + 9), (base + 16, base + 17))
        );
        assert_eq!(
            all[512 + 39..],
            [(2 * base, 2 * base + 40), (2 * base + 50, 2 * base + 100)]
        );
        // The kernel's list holds every record again, the table is gone.
        assert!(p.clear(base..3 * base).is_ok());
        assert_eq!(p.table_len(), 0);
        assert_eq!(p.records()?.len(), 512);
        assert_eq!(p.check(base..3 * base), None);
        assert_eq!(p.check(16..32), Some(16..17));
        Ok(())
    }

    #[test]
    fn first_record_wins_across_both_lists() -> Result {
        let p = store()?;
        for i in 0..512u64 {
            p.add(1000 + i * 4..1000 + i * 4 + 1)?;
        }
        // Full: these start the lookup table, before and after the rest.
        p.add(10..12)?;
        p.add(5000..5008)?;
        assert_eq!(p.check(0..2000), Some(10..12));
        assert_eq!(p.check(12..2000), Some(1000..1001));
        assert_eq!(p.check(3048..6000), Some(5000..5008));
        Ok(())
    }

    #[test]
    fn clear_empties_both_lists() -> Result {
        let p = store()?;
        for i in 0..600u64 {
            p.add(i * 16..i * 16 + 1)?;
        }
        assert!(p.clear(0..600 * 16).is_ok());
        assert!(p.is_empty());
        assert_eq!(p.check(0..1 << 20), None);
        assert_eq!(p.records()?.len(), 0);
        Ok(())
    }

    #[test]
    fn coverage_of_sub_page_writes() -> Result {
        let p = store()?;
        p.add(10..11)?;
        p.add(13..14)?;
        // Page 1 is sectors 8..16; the write must fill 10 and 13.
        assert!(p.covered_by(&(8..16), &(10..14)));
        assert!(!p.covered_by(&(8..16), &(10..13)));
        assert!(!p.covered_by(&(8..16), &(11..16)));
        assert!(p.covered_by(&(16..24), &(16..16)));
        Ok(())
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
        // Data page 0 is the 512th page of a namespace whose data starts
        // 2 MiB in; the last data page is the namespace's last.
        assert_eq!(FSDAX.map_page(0), 512);
        assert_eq!(
            FSDAX.map_page(FSDAX.pages_from(0) - 1),
            (FSDAX.size >> PAGE_SHIFT) - 1
        );
        assert_eq!(FSDAX.map_page(7) << PAGE_SHIFT, FSDAX.page_offset(7));
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
