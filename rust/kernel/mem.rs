// SPDX-License-Identifier: GPL-2.0

//! Copies to and from persistent memory, poison state of its pages, and the
//! sysfs node that announces poison list changes.

use super::{
    dax::Access,
    disk::{Bio, Segment},
    kaddr::{AccessMode, Kaddr},
    sys,
};
use core::ptr::NonNull;
use kernel::{iov::IovIterSource, page::PAGE_SHIFT, prelude::*};

/// The page size, as the mapping's offsets count.
const PAGE_SIZE: u64 = super::PAGE_SIZE_U32 as u64;

/// Whether the architecture has cache-bypassing copies (`memcpy_flushcache`),
/// without which writes cannot be made durable.
pub(crate) fn has_uaccess_flushcache() -> bool {
    // SAFETY: Reads a configuration constant.
    unsafe { sys::rpmem_has_uaccess_flushcache() }
}

/// The kernel mapping of a namespace's pmem, made by
/// [`NdDevice::memremap`](super::nd::NdDevice::memremap) or
/// [`PageMap::map`](super::pagemap::PageMap::map): every access to the
/// media goes through it, checked against its bounds.
///
/// # Invariants
///
/// `virt..virt + len` maps the physical `phys..phys + len` write-back from
/// creation until the device that mapped it is unbound, where devres unmaps
/// it after every devres action registered later has run. It is created
/// only for the device's driver data, which is released after that (see
/// `NdDevice::reserve_data`) and which no callback reaches any more once the
/// mapping is gone (the DAX device is killed, the disk deleted and the page
/// map's memory failures drained before).
///
/// When `virt` and `phys` are page aligned, `pages` is `len` in whole pages
/// (page `i` is at `virt + i * PAGE_SIZE`, frame `phys / PAGE_SIZE + i`);
/// otherwise it is 0 and no page is handed out.
pub(crate) struct PmemMap {
    virt: NonNull<u8>,
    phys: u64,
    len: u64,
    pages: u64,
    /// In the direct map: the pages have struct pages, HWPoison flags and
    /// direct-map permissions.
    linear: bool,
}

// SAFETY: A mapping shared by all CPUs; the copies are safe from any thread.
unsafe impl Send for PmemMap {}
// SAFETY: Every method takes `&self`; concurrent copies to and from pmem are
// what the block layer and DAX do with nd_pmem too.
unsafe impl Sync for PmemMap {}

impl PmemMap {
    /// # Safety
    ///
    /// `virt` must map `phys..phys + len` as the type invariant says.
    pub(super) unsafe fn new(virt: *mut u8, phys: u64, len: u64) -> Result<Self> {
        let virt = NonNull::new(virt).ok_or(ENOMEM)?;
        // SAFETY: Only compares the address against the vmalloc range.
        let linear = !unsafe { sys::rpmem_is_vmalloc_addr(virt.as_ptr().cast()) };
        let aligned = (virt.as_ptr() as u64 | phys) % PAGE_SIZE == 0;
        // INVARIANT: By the safety requirements; `pages` as the invariant
        // says.
        Ok(Self {
            virt,
            phys,
            len,
            pages: if aligned { len >> PAGE_SHIFT } else { 0 },
            linear,
        })
    }

    /// Whether the mapping is in the direct map (struct pages).
    #[inline]
    pub(crate) fn is_linear(&self) -> bool {
        self.linear
    }

    /// The address of `offset..offset + len`, or `ERANGE` if any of it is
    /// outside the mapping.
    #[inline]
    fn at(&self, offset: u64, len: u64) -> Result<*mut u8> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => {
                // `offset < len <= isize::MAX` (a mapping), so no wrap.
                Ok(self.virt.as_ptr().wrapping_add(offset as usize))
            }
            _ => Err(ERANGE),
        }
    }

    /// What `direct_access` answers for `pages` pages from page `first` of
    /// the mapping in `mode`: `ERANGE` if any of them is outside the
    /// mapping (all of them, for a mapping that is not page aligned),
    /// `EINVAL` for no page. In pages, so that the bounds are three
    /// compares and nothing is multiplied on the DAX fast path.
    #[inline]
    pub(crate) fn access(&self, first: u64, pages: u64, mode: AccessMode) -> Result<Access> {
        if pages == 0 {
            return Err(EINVAL);
        }
        if first >= self.pages || pages > self.pages - first {
            return Err(ERANGE);
        }
        // `first < pages <= len / PAGE_SIZE` and `len <= isize::MAX` (a
        // mapping): no wrap.
        let addr = self
            .virt
            .as_ptr()
            .wrapping_add((first << PAGE_SHIFT) as usize);
        // INVARIANT: `first..first + pages` are pages of the mapping
        // (checked), at `addr` and from frame `phys / PAGE_SIZE + first` (the
        // mapping is page aligned, since `self.pages` is not 0).
        Ok(Access {
            pages,
            kaddr: Kaddr::new(addr as usize, mode).ok_or(EINVAL)?,
            pfn: (self.phys >> PAGE_SHIFT) + first,
        })
    }

    /// The offset of the kernel address `addr` in the mapping (what a
    /// `recovery_write` is handed), if it is inside.
    pub(crate) fn offset_of(&self, addr: usize) -> Option<u64> {
        let off = addr.checked_sub(self.virt.as_ptr() as usize)? as u64;
        (off < self.len).then_some(off)
    }

    /// The page frame of byte `offset`.
    #[inline]
    fn pfn(&self, offset: u64) -> u64 {
        (self.phys + offset) >> PAGE_SHIFT
    }

    /// Copies the segment's bytes from `offset` of the mapping into its
    /// pages (a block read), a page at a time with a machine-check-safe
    /// copy; `EIO` if a machine check (poison) stopped it, `ERANGE` past the
    /// end, `EINVAL` for a segment that may not be written (the zero page).
    #[inline]
    pub(crate) fn read(&self, offset: u64, seg: &Segment<'_>) -> Result {
        if !seg.writable() {
            return Err(EINVAL);
        }
        let src = self.at(offset, seg.len().into())?;
        let mut done = true;
        seg.for_each_page(|page, off, at, chunk| {
            // SAFETY: `page` has `chunk` bytes from `off` (the segment's
            // pages, borrowed from its bio); `at + chunk <= seg.len`, and
            // `src..+seg.len` is mapped (checked above).
            done = unsafe { sys::rpmem_pmem_to_page(page, off, src.add(at).cast(), chunk) } == 0;
            done
        });
        if done {
            Ok(())
        } else {
            Err(EIO)
        }
    }

    /// Copies the segment's bytes to `offset` of the mapping bypassing the
    /// CPU cache (`memcpy_flushcache`, after `flush_dcache_page`): a block
    /// write. `ERANGE` past the end, with nothing written.
    #[inline]
    pub(crate) fn write(&self, offset: u64, seg: &Segment<'_>) -> Result {
        let dst = self.at(offset, seg.len().into())?;
        seg.for_each_page(|page, off, at, chunk| {
            // SAFETY: As in `read`, in the other direction.
            unsafe { sys::rpmem_page_to_pmem(dst.add(at).cast(), page, off, chunk) };
            true
        });
        Ok(())
    }

    /// Copies all the data of the read `bio` from `offset` of the mapping
    /// into its pages, as [`Self::read`] does for each segment, with one
    /// bounds check for the whole bio (`ERANGE`, nothing copied): the path
    /// of a bio when no poison is recorded. `EIO` if a machine check
    /// stopped a copy.
    #[inline]
    pub(crate) fn read_bio(&self, offset: u64, bio: &Bio) -> Result {
        let src = self.at(offset, bio.size().into())?;
        let mut done = 0usize;
        bio.for_each_segment(|seg| {
            let mut copied = true;
            seg.for_each_page(|page, off, _, chunk| {
                // SAFETY: `page` has `chunk` bytes from `off` (the bio's
                // pages, borrowed from it); the segments' lengths add up to
                // `bio.size()` (`Bio::for_each_segment`), so `done + chunk`
                // stays within `src..+bio.size()`, which is mapped (checked
                // above).
                copied =
                    unsafe { sys::rpmem_pmem_to_page(page, off, src.add(done).cast(), chunk) } == 0;
                done += chunk as usize;
                copied
            });
            if copied {
                Ok(())
            } else {
                Err(EIO)
            }
        })
    }

    /// Copies all the data of the write `bio` to `offset` of the mapping,
    /// as [`Self::write`] does for each segment, with one bounds check for
    /// the whole bio (`ERANGE`, nothing written).
    #[inline]
    pub(crate) fn write_bio(&self, offset: u64, bio: &Bio) -> Result {
        let dst = self.at(offset, bio.size().into())?;
        let mut done = 0usize;
        bio.for_each_segment(|seg| {
            seg.for_each_page(|page, off, _, chunk| {
                // SAFETY: As in `read_bio`, in the other direction.
                unsafe { sys::rpmem_page_to_pmem(dst.add(done).cast(), page, off, chunk) };
                done += chunk as usize;
                true
            });
            Ok(())
        })
    }

    /// Copies `bytes` from `src` to `offset` of the mapping bypassing the
    /// cache; the bytes copied (fewer if `src` ran short or faulted, 0 past
    /// the end).
    pub(crate) fn write_from_iter(
        &self,
        offset: u64,
        bytes: usize,
        src: &mut IovIterSource<'_>,
    ) -> usize {
        let Ok(dst) = self.at(offset, bytes as u64) else {
            return 0;
        };
        // SAFETY: `dst..+bytes` is mapped (checked above); `src` is a valid
        // iterator, borrowed mutably.
        unsafe { sys::_copy_from_iter_flushcache(dst.cast(), bytes, src.as_raw()) }
    }

    /// Invalidates the CPU cache over `offset..offset + len` after the
    /// media under it changed (a poison clear).
    pub(crate) fn invalidate(&self, offset: u64, len: u64) -> Result {
        let addr = self.at(offset, len)?;
        // SAFETY: `addr..+len` is mapped (checked above).
        unsafe { sys::arch_invalidate_pmem(addr.cast(), len as usize) };
        Ok(())
    }

    /// Clears the HWPoison flag of the pages of `offset..offset + len` and
    /// makes them accessible again in the direct map (`clear_mce_nospec`,
    /// nd_pmem's `pmem_mkpage_present`); nothing for a mapping outside the
    /// direct map. Only for pages whose media poison was just cleared:
    /// making a page with poison accessible again lets a CPU consume it.
    pub(crate) fn clear_page_poison(&self, offset: u64, len: u64) -> Result {
        self.at(offset, len)?;
        if !self.linear || len == 0 {
            return Ok(());
        }
        for pfn in self.pfn(offset)..=self.pfn(offset + len - 1) {
            // SAFETY: The frame is one of this mapping's, which the device
            // holds; the glue checks that it has a struct page.
            unsafe { sys::rpmem_pfn_clear_poison(pfn as usize) };
        }
        Ok(())
    }
}

/// A `memalloc_noio` scope: every allocation of this task, until the value
/// is dropped, behaves as `GFP_NOIO`, so that reclaim cannot issue I/O (to
/// this very device, from its own I/O path) and wait on itself. The poison
/// store's writers hold one: they run inside `submit_bio`, recovery writes
/// and `memory_failure`.
pub(crate) struct NoIoScope {
    flags: u32,
    /// Restored by the task that entered it: neither `Send` nor `Sync`.
    _task: core::marker::PhantomData<*mut ()>,
}

impl NoIoScope {
    /// Enters the scope (scopes nest).
    pub(crate) fn enter() -> Self {
        Self {
            // SAFETY: Only sets a flag of the current task.
            flags: unsafe { sys::rpmem_memalloc_noio_save() },
            _task: core::marker::PhantomData,
        }
    }
}

impl Drop for NoIoScope {
    fn drop(&mut self) {
        // SAFETY: `flags` came from the save of this task (the type is not
        // `Send`), restored once.
        unsafe { sys::rpmem_memalloc_noio_restore(self.flags) };
    }
}

/// A referenced sysfs node, notified on poison list changes.
///
/// # Invariants
///
/// `kn` is a kernfs node this value holds a reference to.
pub(crate) struct SysfsNode {
    kn: *mut sys::kernfs_node,
}

// SAFETY: kernfs nodes are reference counted and notified from any thread.
unsafe impl Send for SysfsNode {}
// SAFETY: See `Send`.
unsafe impl Sync for SysfsNode {}

impl SysfsNode {
    /// The `badblocks` attribute of an added disk.
    pub(crate) fn badblocks_of<T: super::disk::Operations>(
        disk: &super::disk::GenDisk<T>,
    ) -> Option<Self> {
        // SAFETY: The disk is valid and added.
        let kn = unsafe { sys::rpmem_badblocks_dirent(disk.as_raw()) };
        // INVARIANT: `sysfs_get_dirent` returned a reference.
        (!kn.is_null()).then_some(Self { kn })
    }

    /// Wakes poll(2)ers of the attribute.
    pub(crate) fn notify(&self) {
        // SAFETY: By the type invariant `kn` is referenced.
        unsafe { sys::rpmem_sysfs_notify_dirent(self.kn) };
    }
}

impl Drop for SysfsNode {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we hold a reference.
        unsafe { sys::rpmem_sysfs_put(self.kn) };
    }
}
