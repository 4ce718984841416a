// SPDX-License-Identifier: GPL-2.0

//! KUnit suites of the abstraction layer: the kaddr convention's exported
//! entry point on a real DAX device, the walk over a bio's bvecs, and the
//! maple tree range set against a bitmap model.

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
            let rc = crate::kernel_ext::dax::rpmem_direct_access(dax, 3, 5, kp, &mut pfn);
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

#[kernel::prelude::kunit_tests(rpmem_range_set)]
mod range_set {
    use crate::kernel_ext::maple::RangeSet;
    use kernel::alloc::AllocError;
    use core::ops::Range;
    use kernel::prelude::*;

    /// Sectors of the model.
    const SECTORS: u64 = 512;

    /// A small deterministic generator (xorshift64).
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    fn ranges(set: &RangeSet, within: Range<u64>) -> Result<KVec<Range<u64>>> {
        let mut out = KVec::new();
        let mut err: Result<(), AllocError> = Ok(());
        set.each_overlapping(&within, |r| {
            err = out.push(r, GFP_ATOMIC);
            err.is_ok()
        });
        err?;
        Ok(out)
    }

    #[test]
    fn insert_merges_touching_and_remove_splits() -> Result {
        let set = KBox::pin_init(RangeSet::new(), GFP_KERNEL)?;
        {
            let mut w = set.writer();
            w.insert(0..4)?;
            w.insert(8..12)?;
            w.insert(20..24)?;
            w.insert(4..8)?;
            assert_eq!(w.len(), 2);
            w.insert(9..10)?;
            assert_eq!(w.len(), 2);
            w.remove(2..3)?;
            assert_eq!(w.len(), 3);
            assert_eq!(w.insert(5..5), Err(EINVAL));
            assert_eq!(w.insert(1..u64::MAX), Err(EINVAL));
        }
        assert_eq!(&ranges(&set, 0..100)?[..], &[0..2, 3..12, 20..24]);
        assert_eq!(set.first_overlap(&(12..20)), None);
        assert_eq!(set.first_overlap(&(11..30)), Some(3..12));
        assert_eq!(set.first_overlap(&(5..5)), None);
        set.writer().remove(0..u64::MAX)?;
        assert!(set.is_empty());
        assert_eq!(ranges(&set, 0..u64::MAX)?.len(), 0);
        Ok(())
    }

    #[test]
    fn matches_a_bitmap_model() -> Result {
        let set = KBox::pin_init(RangeSet::new(), GFP_KERNEL)?;
        let mut model = [false; SECTORS as usize];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for step in 0..3000 {
            let start = rng.below(SECTORS);
            let r = start..(start + 1 + rng.below(24)).min(SECTORS);
            let add = rng.below(3) != 0;
            {
                let mut w = set.writer();
                if add {
                    w.insert(r.clone())?;
                } else {
                    w.remove(r.clone())?;
                }
                if step % 500 == 499 {
                    w.clear();
                    model = [false; SECTORS as usize];
                    continue;
                }
            }
            model[r.start as usize..r.end as usize].fill(add);
            // Sorted, non-empty, neither overlapping nor touching, exactly
            // the model's sectors; `len` counts them.
            let all = ranges(&set, 0..SECTORS)?;
            assert_eq!(all.len(), set.len());
            let mut bits = [false; SECTORS as usize];
            for (i, e) in all.iter().enumerate() {
                assert!(e.start < e.end);
                if i > 0 {
                    assert!(all[i - 1].end < e.start);
                }
                bits[e.start as usize..e.end as usize].fill(true);
            }
            assert!(bits == model);
            // The first bad sector of a window is where the model has it.
            let q = rng.below(SECTORS);
            let w = q..(q + 1 + rng.below(40)).min(SECTORS);
            let first = model[w.start as usize..w.end as usize]
                .iter()
                .position(|&b| b);
            let got = set.first_overlap(&w);
            assert_eq!(got.map(|g| g.start.max(w.start)), first.map(|i| w.start + i as u64));
        }
        Ok(())
    }

    #[test]
    fn many_ranges_in_random_order() -> Result {
        // Deep enough for internal nodes with every slot in use.
        const N: u64 = 5_000;
        let set = KBox::pin_init(RangeSet::new(), GFP_KERNEL)?;
        // Every odd 8-sector block, in a scattered order (a stride prime
        // to N).
        for i in 0..N {
            let b = (i * 7919) % N;
            set.writer().insert(b * 16 + 8..b * 16 + 16)?;
        }
        assert_eq!(set.len(), N as usize);
        assert_eq!(set.first_overlap(&(0..8)), None);
        assert_eq!(set.first_overlap(&(16 * 1234..16 * 1235)), Some(16 * 1234 + 8..16 * 1235));
        // Filling the gaps merges everything into one range.
        for b in 0..N {
            set.writer().insert(b * 16..b * 16 + 8)?;
        }
        let all = ranges(&set, 0..u64::MAX)?;
        assert_eq!((all.len(), all.first()), (1, Some(&(0..N * 16))));
        for b in 0..N {
            set.writer().remove(b * 16 + 3..b * 16 + 5)?;
        }
        assert_eq!(set.len(), N as usize + 1);
        // One store that drops most of the tree, then the rest at once;
        // the dead nodes are freed after a grace period.
        set.writer().remove(16..N * 16 - 16)?;
        let all = ranges(&set, 0..u64::MAX)?;
        let end = N * 16;
        assert_eq!(&all[..], &[0..3, 5..16, end - 16..end - 13, end - 11..end]);
        set.writer().clear();
        assert!(set.is_empty());
        for b in 0..N {
            set.writer().insert(b * 16..b * 16 + 2)?;
        }
        // Dropped full: the tree is destroyed after a grace period.
        Ok(())
    }
}
