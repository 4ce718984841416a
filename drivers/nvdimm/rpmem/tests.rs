// SPDX-License-Identifier: GPL-2.0

//! KUnit suites of rpmem: the poison list wrapper against the kernel's
//! real `struct badblocks`, the poison store with its lookup table, the
//! range arithmetic in the kernel build, the kaddr flag convention and the
//! block path's walk over a bio's bvecs.

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
        assert!(p.clear(base + 5 * 16..base + 5 * 16 + 1));
        assert_eq!(p.check(base + 65..base + 100), Some(base + 96..base + 97));
        // A range split by a clear in its middle.
        p.add(2 * base..2 * base + 100)?;
        assert!(p.clear(2 * base + 40..2 * base + 50));
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
        assert!(p.clear(base..3 * base));
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
        assert!(p.clear(0..600 * 16));
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

#[kernel::prelude::kunit_tests(rpmem_kaddr)]
mod kaddr {
    use crate::kernel_ext::kaddr::{AccessMode, Kaddr, KaddrRequest, RECOVERY_FLAG};
    use crate::kernel_ext::sys;
    use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
    use kernel::ffi::{c_int, c_long, c_ulong, c_void};
    use kernel::prelude::*;

    /// What the test device's `direct_access` was last called with.
    static SEEN_MODE: AtomicU32 = AtomicU32::new(u32::MAX);
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    /// The page aligned address the test device hands out.
    const TEST_ADDR: usize = 0x7_0000_0000;

    /// `direct_access` of the test device: records its mode, hands out
    /// `TEST_ADDR`.
    ///
    /// # Safety
    ///
    /// Called by the DAX core with null or valid `kaddr` and `pfn`.
    unsafe extern "C" fn test_direct_access(
        _dax: *mut sys::dax_device,
        pgoff: c_ulong,
        nr_pages: c_long,
        mode: sys::dax_access_mode,
        kaddr: *mut *mut c_void,
        pfn: *mut c_ulong,
    ) -> c_long {
        SEEN_MODE.store(mode, Ordering::Relaxed);
        CALLS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `rpmem_direct_access` passes null or valid pointers.
        unsafe {
            if !kaddr.is_null() {
                *kaddr = (TEST_ADDR + (pgoff << 12)) as *mut c_void;
            }
            if !pfn.is_null() {
                *pfn = 0x70000 + pgoff;
            }
        }
        nr_pages
    }

    /// `zero_page_range` of the test device (required by `alloc_dax`).
    ///
    /// # Safety
    ///
    /// Does nothing; any arguments.
    unsafe extern "C" fn test_zero_page_range(
        _dax: *mut sys::dax_device,
        _pgoff: c_ulong,
        _n: usize,
    ) -> c_int {
        0
    }

    static TEST_OPS: sys::dax_operations = sys::dax_operations {
        direct_access: Some(test_direct_access),
        zero_page_range: Some(test_zero_page_range),
        recovery_write: None,
    };

    /// Calls `rpmem_direct_access` on a real (test-operations) DAX device:
    /// (return value, output kaddr, output pfn).
    fn call(input: Option<usize>, kill: bool) -> Result<(c_long, usize, c_ulong)> {
        // SAFETY: A DAX device with static operations and no private data.
        let dax = kernel::error::from_err_ptr(unsafe {
            sys::alloc_dax(core::ptr::null_mut(), &TEST_OPS)
        })?;
        if kill {
            // SAFETY: `dax` is live.
            unsafe { sys::kill_dax(dax) };
        }
        let mut kaddr = input.unwrap_or(0) as *mut c_void;
        let mut pfn: c_ulong = 0;
        let kp = if input.is_some() {
            &raw mut kaddr
        } else {
            core::ptr::null_mut()
        };
        // SAFETY: The read lock is held around the call, as documented.
        let rc = unsafe {
            let id = sys::dax_read_lock();
            let rc = crate::glue::rpmem_direct_access(dax, 3, 5, kp, &mut pfn);
            sys::dax_read_unlock(id);
            rc
        };
        // SAFETY: `dax` was allocated above; killing twice is harmless.
        unsafe {
            sys::kill_dax(dax);
            sys::put_dax(dax);
        }
        Ok((rc, kaddr as usize, pfn))
    }

    #[test]
    fn null_input_is_failfast() -> Result {
        let (rc, kaddr, pfn) = call(Some(0), false)?;
        assert_eq!(rc, 5);
        assert_eq!(
            SEEN_MODE.load(Ordering::Relaxed),
            sys::dax_access_mode_DAX_ACCESS
        );
        assert_eq!(kaddr, TEST_ADDR + (3 << 12));
        assert_eq!(pfn, 0x70003);
        Ok(())
    }

    #[test]
    fn recovery_flag_is_recovery_and_never_returned() -> Result {
        let (rc, kaddr, _) = call(Some(RECOVERY_FLAG), false)?;
        assert_eq!(rc, 5);
        assert_eq!(
            SEEN_MODE.load(Ordering::Relaxed),
            sys::dax_access_mode_DAX_RECOVERY_WRITE
        );
        assert_eq!(kaddr & RECOVERY_FLAG, 0);
        assert_eq!(kaddr, TEST_ADDR + (3 << 12));
        Ok(())
    }

    #[test]
    fn no_kaddr_asks_for_the_pfn_only() -> Result {
        let (rc, _, pfn) = call(None, false)?;
        assert_eq!(rc, 5);
        assert_eq!(
            SEEN_MODE.load(Ordering::Relaxed),
            sys::dax_access_mode_DAX_ACCESS
        );
        assert_eq!(pfn, 0x70003);
        Ok(())
    }

    #[test]
    fn other_input_is_refused_before_the_device() -> Result {
        let before = CALLS.load(Ordering::Relaxed);
        for garbage in [2usize, 3, 0x1000, 0x1001, usize::MAX] {
            let (rc, kaddr, _) = call(Some(garbage), false)?;
            assert_eq!(rc, EINVAL.to_errno() as c_long);
            assert_eq!(kaddr, garbage);
        }
        assert_eq!(CALLS.load(Ordering::Relaxed), before);
        Ok(())
    }

    #[test]
    fn dead_device_is_refused() -> Result {
        let (rc, _, _) = call(Some(0), true)?;
        assert_eq!(rc, ENXIO.to_errno() as c_long);
        Ok(())
    }

    #[test]
    fn tagged_values_round_trip() {
        let k = Kaddr::new(TEST_ADDR, AccessMode::Recovery).expect("aligned");
        assert_eq!(k.addr(), TEST_ADDR);
        assert_eq!(k.mode(), AccessMode::Recovery);
        assert_eq!(k.into_raw(), TEST_ADDR | RECOVERY_FLAG);
        assert!(Kaddr::new(TEST_ADDR + 1, AccessMode::Failfast).is_none());
        assert!(Kaddr::new(0, AccessMode::Failfast).is_none());
        assert!(KaddrRequest::from_raw(TEST_ADDR).is_err());
        assert_eq!(
            KaddrRequest::new(AccessMode::Recovery).into_raw(),
            RECOVERY_FLAG
        );
        assert_eq!(
            KaddrRequest::from_raw(RECOVERY_FLAG).map(KaddrRequest::mode),
            Ok(AccessMode::Recovery)
        );
    }
}

#[kernel::prelude::kunit_tests(rpmem_bvec)]
mod bvec {
    use crate::kernel_ext::{disk::for_each_bvec, sys};
    use core::mem::MaybeUninit;
    use kernel::prelude::*;

    /// Four contiguous struct pages to point bvecs at (never read).
    struct Pages([MaybeUninit<sys::page>; 4]);

    impl Pages {
        fn new() -> Self {
            Self([const { MaybeUninit::uninit() }; 4])
        }

        fn at(&mut self, i: usize) -> *mut sys::page {
            self.0[i].as_mut_ptr()
        }
    }

    fn bvec(page: *mut sys::page, len: u32, offset: u32) -> sys::bio_vec {
        sys::bio_vec {
            bv_page: page,
            bv_len: len,
            bv_offset: offset,
        }
    }

    fn iter(sector: u64, size: u32, idx: u32, offset: u32) -> sys::bvec_iter {
        sys::bvec_iter {
            bi_sector: sector,
            bi_size: size,
            bi_idx: idx,
            bi_offset: offset,
        }
    }

    /// The segments as (page index, offset, length, sector).
    fn segments(
        pages: &mut Pages,
        vecs: &[sys::bio_vec],
        it: sys::bvec_iter,
    ) -> Result<KVec<(usize, u32, u32, u64)>> {
        let base = pages.at(0);
        let mut out = KVec::new();
        // SAFETY: The tests' iterators stay inside `vecs`.
        unsafe {
            for_each_bvec(vecs.as_ptr(), it, |s| {
                let (first, offset, len, sector) = s.parts();
                let page = (first as usize - base as usize) / core::mem::size_of::<sys::page>();
                out.push((page, offset, len, sector), GFP_KERNEL)?;
                Ok(())
            })
        }?;
        Ok(out)
    }

    #[test]
    fn partly_advanced_bvecs_spanning_pages() -> Result {
        let mut p = Pages::new();
        let vecs = [bvec(p.at(0), 6144, 1024), bvec(p.at(2), 4096, 0)];
        // 512 bytes of the first bvec already done.
        let got = segments(&mut p, &vecs, iter(8, 5632 + 4096, 0, 512))?;
        assert_eq!(&got[..], &[(0, 1536, 5632, 8), (2, 0, 4096, 19)]);
        Ok(())
    }

    #[test]
    fn offset_past_the_first_page() -> Result {
        let mut p = Pages::new();
        let vecs = [bvec(p.at(0), 8192, 512)];
        let got = segments(&mut p, &vecs, iter(100, 8192 - 5120, 0, 5120))?;
        assert_eq!(&got[..], &[(1, 1536, 3072, 100)]);
        Ok(())
    }

    #[test]
    fn iterator_shorter_than_its_bvecs() -> Result {
        let mut p = Pages::new();
        let vecs = [
            bvec(p.at(3), 512, 0),
            bvec(p.at(0), 8192, 0),
            bvec(p.at(2), 4096, 0),
        ];
        // Starts at the second bvec and ends 1 KiB into it.
        let got = segments(&mut p, &vecs, iter(7, 1024, 1, 0))?;
        assert_eq!(&got[..], &[(0, 0, 1024, 7)]);
        assert_eq!(segments(&mut p, &vecs, iter(7, 0, 1, 0))?.len(), 0);
        Ok(())
    }

    #[test]
    fn an_error_stops_the_walk() -> Result {
        let mut p = Pages::new();
        let vecs = [bvec(p.at(0), 4096, 0), bvec(p.at(1), 4096, 0)];
        let mut calls = 0;
        // SAFETY: The iterator stays inside `vecs`.
        let r = unsafe {
            for_each_bvec(vecs.as_ptr(), iter(0, 8192, 0, 0), |_| {
                calls += 1;
                Err(EIO)
            })
        };
        assert_eq!(r, Err(EIO));
        assert_eq!(calls, 1);
        Ok(())
    }
}
