// SPDX-License-Identifier: GPL-2.0

//! The bio-based block device `/dev/pmemN` and the bios it is handed.

use super::{
    nd::{Bound, Namespace, Unbind},
    sys,
};
use core::{
    marker::PhantomData,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{
    error::{from_err_ptr, to_result},
    module::{this_module, ModuleMetadata},
    prelude::*,
    sync::Arc,
    types::ForeignOwnable,
};

/// Queue limits and features of a pmem disk.
pub(crate) struct Limits {
    pub(crate) logical_block_size: u32,
    pub(crate) fua: bool,
    pub(crate) dax: bool,
}

/// What a bio-based disk's driver does with the bios submitted to it.
pub(crate) trait Operations: 'static {
    /// The driver data the callbacks get (see [`GenDisk::add`]).
    type Data: ForeignOwnable + Send + Sync;
    /// The module that owns the disk (opening it pins the module).
    type OwnerModule: ModuleMetadata;

    /// `block_device_operations.submit_bio`: the driver completes `bio`.
    fn submit_bio(data: <Self::Data as ForeignOwnable>::Borrowed<'_>, bio: Bio);

    /// Reads sysfs attribute `attr` of the disk into `page`.
    fn show(
        data: <Self::Data as ForeignOwnable>::Borrowed<'_>,
        attr: Attribute,
        page: &mut SysfsPage<'_>,
    ) -> Result;

    /// Writes `input` to sysfs attribute `attr` of the disk; bad input is
    /// refused (`EINVAL`) and changes nothing.
    fn store(
        data: <Self::Data as ForeignOwnable>::Borrowed<'_>,
        attr: Attribute,
        input: &[u8],
    ) -> Result;
}

/// The sysfs attributes of a pmem disk (`enum rpmem_disk_attr`: the C glue
/// declares them, in rust/rpmem_glue.c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Attribute {
    /// `/sys/block/pmemN/badblocks`.
    Badblocks,
    /// `/sys/block/pmemN/dax/write_cache`.
    WriteCache,
}

impl TryFrom<sys::rpmem_disk_attr> for Attribute {
    type Error = Error;

    fn try_from(attr: sys::rpmem_disk_attr) -> Result<Self> {
        match attr {
            sys::rpmem_disk_attr_RPMEM_DISK_ATTR_BADBLOCKS => Ok(Self::Badblocks),
            sys::rpmem_disk_attr_RPMEM_DISK_ATTR_WRITE_CACHE => Ok(Self::WriteCache),
            _ => Err(EINVAL),
        }
    }
}

/// The page that a sysfs `show` fills: at most `PAGE_SIZE - 1` bytes (sysfs
/// warns about and cuts a full page).
///
/// # Invariants
///
/// `buf` is valid for writes of `PAGE_SIZE` bytes for `'a`; `len` bytes
/// are written.
pub(crate) struct SysfsPage<'a> {
    buf: *mut kernel::ffi::c_char,
    len: usize,
    _page: PhantomData<&'a mut [u8]>,
}

/// A line being formatted on the stack for [`SysfsPage::write_line`].
struct Line([u8; 64], usize);

impl core::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.1 + s.len();
        self.0
            .get_mut(self.1..end)
            .ok_or(core::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.1 = end;
        Ok(())
    }
}

impl SysfsPage<'_> {
    /// Appends `bytes`; `EFBIG` (nothing appended) if they do not fit.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result {
        let end = self.len.checked_add(bytes.len()).ok_or(EFBIG)?;
        if end >= kernel::page::PAGE_SIZE {
            return Err(EFBIG);
        }
        // SAFETY: By the type invariant `buf` has room up to `PAGE_SIZE`.
        unsafe {
            core::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.buf.add(self.len).cast(),
                bytes.len(),
            )
        };
        self.len = end;
        Ok(())
    }

    /// Appends the line that `args` formats (at most 64 bytes), whole or
    /// not at all (`EFBIG`).
    pub(crate) fn write_line(&mut self, args: core::fmt::Arguments<'_>) -> Result {
        let mut line = Line([0; 64], 0);
        core::fmt::Write::write_fmt(&mut line, args).map_err(|_| EFBIG)?;
        self.write(&line.0[..line.1])
    }
}

/// A bio-based gendisk whose bios go to `T`.
///
/// # Invariants
///
/// `inner` is shared with the devres action that deletes the disk when its
/// nd device is unbound (registered by [`Self::add`]).
pub(crate) struct GenDisk<T: Operations> {
    inner: Arc<Inner>,
    _ops: PhantomData<T>,
}

/// The reference to a gendisk and its state.
///
/// # Invariants
///
/// `disk` was returned by `blk_alloc_disk` and this value holds its
/// reference; `added` is true exactly while it is added (`device_add_disk`
/// succeeded and `del_gendisk` has not run). While added, its private data
/// is the foreign pointer of a [`Bound`] driver data, and it is deleted at
/// the latest by a devres action of the nd device, before the data goes.
struct Inner {
    disk: *mut sys::gendisk,
    added: AtomicBool,
}

// SAFETY: The gendisk functions used here may be called from any thread.
unsafe impl Send for Inner {}
// SAFETY: `&Inner` only reads the pointer or calls thread-safe block layer
// functions; the state is atomic.
unsafe impl Sync for Inner {}

impl Unbind for Inner {
    fn unbind(&self) {
        if self.added.swap(false, Ordering::AcqRel) {
            // SAFETY: By the type invariant the disk was added; the swap
            // makes this run once.
            unsafe { sys::del_gendisk(self.disk) };
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.unbind();
        // SAFETY: By the type invariant we hold a reference.
        unsafe { sys::put_disk(self.disk) };
    }
}

impl<T: Operations> GenDisk<T> {
    const OPS: sys::rpmem_disk_ops = sys::rpmem_disk_ops {
        fops: sys::block_device_operations {
            submit_bio: Some(Self::submit_bio_callback),
            owner: this_module::<T::OwnerModule>().as_ptr(),
            ..pin_init::zeroed()
        },
        show: Some(Self::show_callback),
        store: Some(Self::store_callback),
    };

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
        let inner = Arc::new(
            Inner {
                disk,
                added: AtomicBool::new(false),
            },
            GFP_KERNEL,
        );
        if inner.is_err() {
            // SAFETY: The reference just taken, not stored anywhere.
            unsafe { sys::put_disk(disk) };
        }
        Ok(Self {
            inner: inner?,
            _ops: PhantomData,
        })
    }

    pub(super) fn as_raw(&self) -> *mut sys::gendisk {
        self.inner.disk
    }

    /// Names the disk after its namespace (`pmemN`, as nd_pmem does).
    pub(crate) fn set_name(&mut self, ns: &Namespace<'_>) {
        // SAFETY: By the type invariant `disk` is valid; `&mut self` and no
        // `add` yet mean no one else looks at its name.
        unsafe { ns.disk_name((*self.inner.disk).disk_name.as_mut_ptr()) };
    }

    /// The name set by [`Self::set_name`] (`pmemN`).
    pub(crate) fn name(&self) -> &CStr {
        // SAFETY: `disk_name` is a NUL-terminated array of the disk, which
        // lives as long as `self` (`alloc_disk` zeroes it; `set_name` fills
        // it with a terminated string).
        unsafe { CStr::from_char_ptr((*self.inner.disk).disk_name.as_ptr()) }
    }

    pub(crate) fn set_capacity(&mut self, sectors: u64) {
        // SAFETY: By the type invariant `disk` is valid.
        unsafe { sys::set_capacity(self.inner.disk, sectors) };
    }

    /// Adds the disk under the nd device of `data` with the driver's sysfs
    /// attributes; from now on its bios go to `T::submit_bio` with `data`.
    /// It is deleted when the device is unbound, before the data goes, or
    /// before that by [`Self::remove`] or the drop of this value.
    pub(crate) fn add(&self, data: &Bound<'_, T::Data>) -> Result {
        if self.inner.added.load(Ordering::Acquire) {
            return Err(EBUSY);
        }
        let dev = data.device();
        // SAFETY: By the type invariant `disk` is valid and not added;
        // `OPS` is static; the private data is valid until the device is
        // unbound, by when the action registered below has deleted the
        // disk (which drains its bios and removes its sysfs files).
        to_result(unsafe {
            sys::rpmem_add_disk(dev.as_raw(), self.inner.disk, &Self::OPS, data.as_foreign())
        })?;
        // INVARIANT: Added.
        self.inner.added.store(true, Ordering::Release);
        // If this fails, the disk is deleted now.
        dev.unbind_with(self.inner.clone())
    }

    /// Deletes the disk (`del_gendisk`): it disappears, in-flight bios
    /// drain and no new bio or sysfs access arrives after this returns. The
    /// reference is kept until drop. Once; later calls do nothing. May
    /// sleep.
    pub(crate) fn remove(&self) {
        self.inner.unbind();
    }

    /// `nvdimm_check_and_set_ro`: follows the region's read-only state.
    pub(crate) fn check_and_set_ro(&self) {
        // SAFETY: By the type invariant `disk` is valid.
        unsafe { sys::nvdimm_check_and_set_ro(self.inner.disk) };
    }

    /// `block_device_operations.submit_bio`.
    ///
    /// # Safety
    ///
    /// Called by the block layer with a bio for an added disk of this type.
    unsafe extern "C" fn submit_bio_callback(bio: *mut sys::bio) {
        // SAFETY: By the caller the bio is ours to complete.
        let bio = unsafe { Bio::from_raw(bio) };
        // SAFETY: The disk's private data is the `Bound` data, which
        // outlives its bios (see `add`).
        let data = unsafe { T::Data::borrow((*bio.disk()).private_data) };
        T::submit_bio(data, bio);
    }

    /// The data of a disk of this type, from one of its sysfs files.
    ///
    /// # Safety
    ///
    /// `disk` must be an added disk of this type, in a sysfs callback.
    unsafe fn sysfs_data<'a>(disk: *mut sys::gendisk) -> <T::Data as ForeignOwnable>::Borrowed<'a> {
        // SAFETY: The private data is the `Bound` data (see `add`), which
        // outlives the disk's sysfs files: `del_gendisk` removes them and
        // waits for their callbacks before the data goes.
        unsafe { T::Data::borrow((*disk).private_data) }
    }

    /// `rpmem_disk_ops.show`.
    ///
    /// # Safety
    ///
    /// Called by the glue's sysfs `show` of an added disk of this type with
    /// a page-sized buffer.
    unsafe extern "C" fn show_callback(
        disk: *mut sys::gendisk,
        attr: sys::rpmem_disk_attr,
        buf: *mut kernel::ffi::c_char,
    ) -> isize {
        let attr = match Attribute::try_from(attr) {
            Ok(attr) => attr,
            Err(e) => return e.to_errno() as isize,
        };
        // INVARIANT: By the caller `buf` holds a page.
        let mut page = SysfsPage {
            buf,
            len: 0,
            _page: PhantomData,
        };
        // SAFETY: By the caller.
        match T::show(unsafe { Self::sysfs_data(disk) }, attr, &mut page) {
            Ok(()) => page.len as isize,
            Err(e) => e.to_errno() as isize,
        }
    }

    /// `rpmem_disk_ops.store`.
    ///
    /// # Safety
    ///
    /// Called by the glue's sysfs `store` of an added disk of this type with
    /// `len` bytes at `buf`.
    unsafe extern "C" fn store_callback(
        disk: *mut sys::gendisk,
        attr: sys::rpmem_disk_attr,
        buf: *const kernel::ffi::c_char,
        len: usize,
    ) -> isize {
        let attr = match Attribute::try_from(attr) {
            Ok(attr) => attr,
            Err(e) => return e.to_errno() as isize,
        };
        // SAFETY: By the caller `buf` holds `len` bytes.
        let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), len) };
        // SAFETY: By the caller.
        match T::store(unsafe { Self::sysfs_data(disk) }, attr, input) {
            Ok(()) => len as isize,
            Err(e) => e.to_errno() as isize,
        }
    }
}

/// One segment of a bio: `len` bytes at `offset` in `page` (the pages of a
/// segment are contiguous; `offset` is below a page), for data sector
/// `sector`; or a page of zeroes ([`Segment::zeroes`]).
///
/// # Invariants
///
/// `page..` holds `offset + len` bytes of contiguous struct pages, valid for
/// `'a` (the pages of a bio that is not ended, or the zero page).
pub(crate) struct Segment<'a> {
    page: *mut sys::page,
    offset: u32,
    len: u32,
    sector: u64,
    /// False for the zero page, which nothing may write.
    writable: bool,
    _pages: PhantomData<&'a sys::page>,
}

impl Segment<'static> {
    /// A page of zeroes for sector `sector` (the shared zero page: only to
    /// be written from).
    pub(crate) fn zeroes(sector: u64) -> Self {
        // INVARIANT: The zero page is a static page.
        Self {
            // SAFETY: Returns the static zero page.
            page: unsafe { sys::rpmem_zero_page() },
            offset: 0,
            len: super::PAGE_SIZE_U32,
            sector,
            writable: false,
            _pages: PhantomData,
        }
    }
}

impl Segment<'_> {
    /// Bytes.
    #[inline]
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// The first sector it is for.
    #[inline]
    pub(crate) fn sector(&self) -> u64 {
        self.sector
    }

    /// Whether its pages may be written (a read's destination).
    #[inline]
    pub(super) fn writable(&self) -> bool {
        self.writable
    }

    /// The first page, the offset in it, the length and the sector: what
    /// the KUnit tests of the bvec walk compare.
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn parts(&self) -> (*mut sys::page, u32, u32, u64) {
        (self.page, self.offset, self.len, self.sector)
    }

    /// Calls `f(page, offset in it, bytes before it, bytes in it)` for each
    /// page of the segment in order, while `f` returns `true`.
    #[inline]
    pub(super) fn for_each_page(&self, mut f: impl FnMut(*mut sys::page, u32, usize, u32) -> bool) {
        const PAGE_SIZE: u32 = super::PAGE_SIZE_U32;
        let (mut page, mut off, mut at) = (self.page, self.offset, 0u32);
        while at < self.len {
            let chunk = (self.len - at).min(PAGE_SIZE - off);
            if !f(page, off, at as usize, chunk) {
                return;
            }
            at += chunk;
            off = 0;
            // Past the last page the pointer is not used.
            page = page.wrapping_add(1);
        }
    }
}

/// A bio handed to `submit_bio`, completed exactly once by [`Bio::end`].
///
/// Its flags are read from the bio itself (the block layer's static inlines
/// `bio_op`, `op_is_write`, `bio_has_data` and `blk_queue_io_stat`, which a
/// module's Rust code would otherwise reach through a call).
///
/// # Invariants
///
/// `bio` is a valid bio owned by the driver until it is ended, submitted to
/// an added disk; `opf` is its `bi_opf`.
pub(crate) struct Bio {
    bio: *mut sys::bio,
    opf: u32,
}

impl Bio {
    /// # Safety
    ///
    /// `bio` must be a bio handed to `submit_bio`, not yet ended.
    #[inline]
    pub(super) unsafe fn from_raw(bio: *mut sys::bio) -> Self {
        // INVARIANT: By the safety requirements; `bi_opf` does not change
        // while the driver owns the bio.
        Self {
            bio,
            // SAFETY: By the safety requirements `bio` is valid.
            opf: unsafe { (*bio).bi_opf },
        }
    }

    pub(super) fn as_raw(&self) -> *mut sys::bio {
        self.bio
    }

    /// The disk the bio was submitted to.
    #[inline]
    fn disk(&self) -> *mut sys::gendisk {
        // SAFETY: By the type invariant the bio is valid and was submitted to
        // an added disk, which its block device points to.
        unsafe { (*(*self.bio).bi_bdev).bd_disk }
    }

    /// `bio_op`.
    #[inline]
    fn op(&self) -> u32 {
        self.opf & sys::REQ_OP_MASK
    }

    /// `REQ_PREFLUSH`: flush before the data.
    #[inline]
    pub(crate) fn preflush(&self) -> bool {
        self.opf & sys::REQ_PREFLUSH != 0
    }

    /// `REQ_FUA`: the data is durable when the bio completes.
    #[inline]
    pub(crate) fn fua(&self) -> bool {
        self.opf & sys::REQ_FUA != 0
    }

    /// `op_is_write(bio_op(bio))`: the data goes to the device.
    #[inline]
    pub(crate) fn is_write(&self) -> bool {
        self.op() & 1 != 0
    }

    /// `bio_has_data`: bytes to transfer, and an operation that carries
    /// data.
    #[inline]
    pub(crate) fn has_data(&self) -> bool {
        self.size() != 0
            && !matches!(
                self.op(),
                sys::req_op_REQ_OP_DISCARD
                    | sys::req_op_REQ_OP_SECURE_ERASE
                    | sys::req_op_REQ_OP_WRITE_ZEROES
            )
    }

    /// Starts I/O accounting if the queue wants it (`blk_queue_io_stat`);
    /// pass the result to [`Bio::end_io_acct`].
    #[inline]
    pub(crate) fn start_io_acct(&self) -> Option<usize> {
        // SAFETY: The disk of a valid bio is valid, and so is its queue.
        let features = unsafe { (*(*self.disk()).queue).limits.features };
        (features & sys::BLK_FEAT_IO_STAT != 0).then(|| {
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

    /// The first sector.
    #[inline]
    pub(crate) fn sector(&self) -> u64 {
        // SAFETY: By the type invariant `bio` is valid.
        unsafe { (*self.bio).bi_iter.bi_sector }
    }

    /// Bytes of data left to transfer: what [`Bio::for_each_segment`] walks.
    #[inline]
    pub(crate) fn size(&self) -> u32 {
        // SAFETY: By the type invariant `bio` is valid.
        unsafe { (*self.bio).bi_iter.bi_size }
    }

    /// Calls `f` for every segment in order (`bio_for_each_bvec`: one call
    /// per bvec, which may span pages), stopping at the first error. Only
    /// for bios with data ([`Bio::has_data`]). Without an error the
    /// segments are contiguous from [`Bio::sector`] on and their lengths
    /// add up to [`Bio::size`] (the copies of [`super::mem::PmemMap`] rely
    /// on it).
    #[inline]
    pub(crate) fn for_each_segment(&self, f: impl FnMut(Segment<'_>) -> Result) -> Result {
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
/// `bio_advance_iter_single`), stopping at the first error. The segments'
/// lengths add up to `iter.bi_size`, each non-empty.
///
/// # Safety
///
/// `vecs` must hold the bvecs that `iter` walks over: from `bi_idx` on, for
/// `bi_size` bytes, and their pages must stay valid for `'a`.
#[inline]
pub(crate) unsafe fn for_each_bvec<'a>(
    vecs: *const sys::bio_vec,
    mut iter: sys::bvec_iter,
    mut f: impl FnMut(Segment<'a>) -> Result,
) -> Result {
    const PAGE_SIZE: u32 = super::PAGE_SIZE_U32;
    while iter.bi_size > 0 {
        // SAFETY: By the caller there is a bvec at `bi_idx` while the
        // iterator has bytes left.
        let bv = unsafe { *vecs.add(iter.bi_idx as usize) };
        let offset = bv.bv_offset + iter.bi_offset;
        let len = (bv.bv_len - iter.bi_offset).min(iter.bi_size);
        // INVARIANT: The pages of a bvec are contiguous struct pages
        // (`nth_page`), valid while the bio is not ended (by the caller).
        f(Segment {
            page: bv.bv_page.wrapping_add((offset / PAGE_SIZE) as usize),
            offset: offset % PAGE_SIZE,
            len,
            sector: iter.bi_sector,
            writable: true,
            _pages: PhantomData,
        })?;
        // Advanced by the rest of the bvec, or by the last bytes.
        iter.bi_sector += u64::from(len >> kernel::block::SECTOR_SHIFT);
        iter.bi_size -= len;
        iter.bi_idx += 1;
        iter.bi_offset = 0;
    }
    Ok(())
}
