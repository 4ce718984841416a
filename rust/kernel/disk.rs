// SPDX-License-Identifier: GPL-2.0

//! The bio-based block device `/dev/pmemN` and the bios it is handed.

use super::{nd::Namespace, nd::NdDevice, sys};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{
    error::{from_err_ptr, to_result},
    prelude::*,
};

/// Queue limits and features of a pmem disk.
pub(crate) struct Limits {
    pub(crate) logical_block_size: u32,
    pub(crate) fua: bool,
    pub(crate) dax: bool,
}

/// A gendisk driven by rpmem's `submit_bio`.
///
/// # Invariants
///
/// `disk` was returned by `blk_alloc_disk` and this value holds its
/// reference; `added` is true exactly while it is added (`device_add_disk`
/// succeeded and `del_gendisk` has not run).
pub(crate) struct GenDisk {
    disk: *mut sys::gendisk,
    added: AtomicBool,
}

// SAFETY: The gendisk functions used here may be called from any thread.
unsafe impl Send for GenDisk {}
// SAFETY: `&GenDisk` only reads the pointer or calls thread-safe block layer
// functions.
unsafe impl Sync for GenDisk {}

impl GenDisk {
    /// Allocates a disk (not yet visible) with `limits` on NUMA node `nid`.
    pub(crate) fn new(limits: &Limits, nid: i32) -> Result<Self> {
        let mut features = sys::BLK_FEAT_WRITE_CACHE | sys::BLK_FEAT_SYNCHRONOUS;
        if limits.fua {
            features |= sys::BLK_FEAT_FUA;
        }
        if limits.dax {
            features |= sys::BLK_FEAT_DAX;
        }
        let mut lim = sys::queue_limits {
            logical_block_size: limits.logical_block_size,
            physical_block_size: super::PAGE_SIZE_U32,
            max_hw_sectors: u32::MAX,
            features,
            ..Default::default()
        };
        // SAFETY: `lim` is a valid, initialised local.
        let disk = from_err_ptr(unsafe { sys::rpmem_alloc_disk(&mut lim, nid) })?;
        // INVARIANT: A fresh disk, not added.
        Ok(Self {
            disk,
            added: AtomicBool::new(false),
        })
    }

    pub(crate) fn as_raw(&self) -> *mut sys::gendisk {
        self.disk
    }

    /// Names the disk after its namespace (`pmemN`, as nd_pmem does).
    pub(crate) fn set_name(&mut self, ns: &Namespace) {
        // SAFETY: By the type invariant `disk` is valid; `&mut self` means no
        // one else looks at it yet.
        ns.disk_name(unsafe { (*self.disk).disk_name.as_mut_ptr() });
    }

    /// The name set by [`Self::set_name`] (`pmemN`).
    pub(crate) fn name(&self) -> &CStr {
        // SAFETY: `disk_name` is a NUL-terminated array of the disk, which
        // lives as long as `self` (`alloc_disk` zeroes it; `set_name` fills
        // it with a terminated string).
        unsafe { CStr::from_char_ptr((*self.disk).disk_name.as_ptr()) }
    }

    pub(crate) fn set_capacity(&mut self, sectors: u64) {
        // SAFETY: By the type invariant `disk` is valid.
        unsafe { sys::set_capacity(self.disk, sectors) };
    }

    /// Adds the disk under `parent` with rpmem's `submit_bio` and sysfs
    /// attributes; from now on bios arrive with `private` as the disk's data.
    ///
    /// # Safety
    ///
    /// `private` must stay valid for `rpmem_submit_bio` and the sysfs
    /// attributes until [`Self::remove`] returns (or this value is
    /// dropped).
    pub(crate) unsafe fn add(
        &self,
        parent: &NdDevice,
        private: *mut kernel::ffi::c_void,
    ) -> Result {
        // SAFETY: By the type invariant `disk` is valid and not added.
        to_result(unsafe { sys::rpmem_add_disk(parent.as_raw(), self.disk, private) })?;
        // INVARIANT: Added.
        self.added.store(true, Ordering::Release);
        Ok(())
    }

    /// Deletes the disk (`del_gendisk`): it disappears, in-flight bios
    /// drain and no new bio or sysfs access arrives after this returns. The
    /// reference is kept until drop. Once; later calls do nothing. May
    /// sleep.
    pub(crate) fn remove(&self) {
        if self.added.swap(false, Ordering::AcqRel) {
            // SAFETY: By the type invariant the disk was added; the swap
            // makes this run once.
            unsafe { sys::del_gendisk(self.disk) };
        }
    }

    /// `nvdimm_check_and_set_ro`: follows the region's read-only state.
    pub(crate) fn check_and_set_ro(&self) {
        // SAFETY: By the type invariant `disk` is valid.
        unsafe { sys::nvdimm_check_and_set_ro(self.disk) };
    }
}

impl Drop for GenDisk {
    fn drop(&mut self) {
        self.remove();
        // SAFETY: By the type invariant we hold a reference.
        unsafe { sys::put_disk(self.disk) };
    }
}

/// One segment of a bio: `len` bytes at `offset` in `page` (the pages of a
/// segment are contiguous; `offset` is below a page), for data sector
/// `sector`.
pub(crate) struct Segment {
    pub(crate) page: *mut sys::page,
    pub(crate) offset: u32,
    pub(crate) len: u32,
    pub(crate) sector: u64,
}

/// A bio handed to `submit_bio`, completed exactly once by [`Bio::end`].
///
/// # Invariants
///
/// `bio` is a valid bio owned by the driver until it is ended, submitted to
/// an added disk; `info` describes it.
pub(crate) struct Bio {
    bio: *mut sys::bio,
    info: sys::rpmem_bio_info,
}

impl Bio {
    /// # Safety
    ///
    /// `bio` must be a bio handed to `submit_bio`, not yet ended.
    #[inline]
    pub(crate) unsafe fn from_raw(bio: *mut sys::bio) -> Self {
        let mut info = sys::rpmem_bio_info::default();
        // SAFETY: By the safety requirements `bio` is a submitted bio, whose
        // block device belongs to an added disk; `info` is a valid local.
        unsafe { sys::rpmem_bio_info(bio, &mut info) };
        // INVARIANT: By the safety requirements, and `info` was just read.
        Self { bio, info }
    }

    pub(crate) fn as_raw(&self) -> *mut sys::bio {
        self.bio
    }

    /// The disk's private data (set by [`GenDisk::add`]).
    pub(crate) fn disk_private(&self) -> *mut kernel::ffi::c_void {
        self.info.private_data
    }

    /// `REQ_PREFLUSH`: flush before the data.
    pub(crate) fn preflush(&self) -> bool {
        self.info.preflush
    }

    /// `REQ_FUA`: the data is durable when the bio completes.
    pub(crate) fn fua(&self) -> bool {
        self.info.fua
    }

    pub(crate) fn is_write(&self) -> bool {
        self.info.write
    }

    pub(crate) fn has_data(&self) -> bool {
        self.info.has_data
    }

    /// Starts I/O accounting if the queue wants it; pass the result to
    /// [`Bio::end_io_acct`].
    pub(crate) fn start_io_acct(&self) -> Option<usize> {
        self.info.io_stat.then(|| {
            // SAFETY: By the type invariant `bio` is valid.
            unsafe { sys::bio_start_io_acct(self.bio) }
        })
    }

    pub(crate) fn end_io_acct(&self, start: Option<usize>) {
        if let Some(start) = start {
            // SAFETY: By the type invariant `bio` is valid and its block
            // device is the one accounting started on.
            unsafe { sys::bio_end_io_acct_remapped(self.bio, start, (*self.bio).bi_bdev) };
        }
    }

    /// Calls `f` for every segment in order (`bio_for_each_bvec`: one call
    /// per bvec, which may span pages), stopping at the first error. Only
    /// for bios with data ([`Bio::has_data`]).
    #[inline]
    pub(crate) fn for_each_segment(&self, f: impl FnMut(Segment) -> Result) -> Result {
        // SAFETY: By the type invariant `bio` is valid; the bvec array of a
        // bio with data holds what its iterator walks over.
        unsafe { for_each_bvec((*self.bio).bi_io_vec, (*self.bio).bi_iter, f) }
    }

    /// Completes the bio with `status`.
    pub(crate) fn end(self, status: Result) {
        if let Err(e) = status {
            // SAFETY: By the type invariant `bio` is valid and not ended.
            unsafe { sys::rpmem_bio_set_status(self.bio, e.to_errno()) };
        }
        // SAFETY: By the type invariant `bio` is valid and not ended; `self`
        // is consumed, so it is ended once.
        unsafe { sys::bio_endio(self.bio) };
    }
}

/// Calls `f` for every segment of the bvecs `vecs` from `iter` on, one per
/// bvec (the kernel's `__bio_for_each_bvec` with
/// `bio_advance_iter_single`), stopping at the first error.
///
/// # Safety
///
/// `vecs` must hold the bvecs that `iter` walks over: from `bi_idx` on, for
/// `bi_size` bytes.
#[inline]
pub(crate) unsafe fn for_each_bvec(
    vecs: *const sys::bio_vec,
    mut iter: sys::bvec_iter,
    mut f: impl FnMut(Segment) -> Result,
) -> Result {
    const PAGE_SIZE: u32 = super::PAGE_SIZE_U32;
    while iter.bi_size > 0 {
        // SAFETY: By the caller there is a bvec at `bi_idx` while the
        // iterator has bytes left.
        let bv = unsafe { *vecs.add(iter.bi_idx as usize) };
        let offset = bv.bv_offset + iter.bi_offset;
        let len = (bv.bv_len - iter.bi_offset).min(iter.bi_size);
        f(Segment {
            // The pages of a bvec are contiguous struct pages (`nth_page`).
            page: bv.bv_page.wrapping_add((offset / PAGE_SIZE) as usize),
            offset: offset % PAGE_SIZE,
            len,
            sector: iter.bi_sector,
        })?;
        // Advanced by the rest of the bvec, or by the last bytes.
        iter.bi_sector += u64::from(len >> kernel::block::SECTOR_SHIFT);
        iter.bi_size -= len;
        iter.bi_idx += 1;
        iter.bi_offset = 0;
    }
    Ok(())
}
