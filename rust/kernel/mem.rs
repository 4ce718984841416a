// SPDX-License-Identifier: GPL-2.0

//! Copies to and from persistent memory, poison state of its pages, and the
//! sysfs node that announces poison list changes.

use super::sys;
use core::ops::Range;

/// Whether the architecture has cache-bypassing copies (`memcpy_flushcache`),
/// without which writes cannot be made durable.
pub(crate) fn has_uaccess_flushcache() -> bool {
    // SAFETY: Reads a configuration constant.
    unsafe { sys::rpmem_has_uaccess_flushcache() }
}

/// Whether `addr` is a vmalloc (ioremap) address rather than direct map.
pub(crate) fn is_vmalloc_addr(addr: *const u8) -> bool {
    // SAFETY: Only compares the address against the vmalloc range.
    unsafe { sys::rpmem_is_vmalloc_addr(addr.cast()) }
}

/// The shared zero page.
pub(crate) fn zero_page() -> *mut sys::page {
    // SAFETY: Returns a static page.
    unsafe { sys::rpmem_zero_page() }
}

/// Copies `len` bytes from `src` (pmem) into the pages from `page` at
/// `offset`, a page at a time with a machine-check-safe copy and
/// `flush_dcache_page`; `false` if a machine check (poison) stopped it.
///
/// # Safety
///
/// `page..` must hold `offset + len` bytes of contiguous pages, `offset`
/// below a page, and `src` must be readable for `len` bytes.
#[inline]
pub(crate) unsafe fn copy_mc_to_pages(
    page: *mut sys::page,
    offset: u32,
    src: *const u8,
    len: u32,
) -> bool {
    let mut done = true;
    let copy = |page, off, at: usize, chunk| {
        // SAFETY: By the caller, `page` (one of `page..`) has `chunk` bytes
        // from `off`; `at + chunk <= len`, so `src + at` is readable.
        done = unsafe { sys::rpmem_pmem_to_page(page, off, src.add(at).cast(), chunk) } == 0;
        done
    };
    for_each_page(page, offset, len, copy);
    done
}

/// Copies `len` bytes from the pages from `page` at `offset` to `dst`
/// (pmem), bypassing the CPU cache (`memcpy_flushcache`), after
/// `flush_dcache_page`.
///
/// # Safety
///
/// As [`copy_mc_to_pages`], with `dst` writable for `len` bytes.
#[inline]
pub(crate) unsafe fn write_pages_flushcache(
    dst: *mut u8,
    page: *mut sys::page,
    offset: u32,
    len: u32,
) {
    let copy = |page, off, at: usize, chunk| {
        // SAFETY: As in `copy_mc_to_pages`, `dst + at` is writable.
        unsafe { sys::rpmem_page_to_pmem(dst.add(at).cast(), page, off, chunk) };
        true
    };
    for_each_page(page, offset, len, copy);
}

/// Calls `f(page, offset in it, bytes before it, bytes in it)` for each page
/// of `len` bytes of contiguous pages from `page` at `offset` (below a
/// page), while `f` returns `true`. Only computes the pages; `f` uses them.
#[inline]
fn for_each_page(
    mut page: *mut sys::page,
    offset: u32,
    len: u32,
    mut f: impl FnMut(*mut sys::page, u32, usize, u32) -> bool,
) {
    const PAGE_SIZE: u32 = super::PAGE_SIZE_U32;
    let (mut off, mut at) = (offset, 0u32);
    while at < len {
        let chunk = (len - at).min(PAGE_SIZE - off);
        if !f(page, off, at as usize, chunk) {
            return;
        }
        at += chunk;
        off = 0;
        // Past the last page the pointer is not used.
        page = page.wrapping_add(1);
    }
}

/// Copies `bytes` from `iter` to `dst` bypassing the cache; bytes copied.
///
/// # Safety
///
/// `dst` must be writable for `bytes` bytes and `iter` a valid iterator.
pub(crate) unsafe fn copy_from_iter_flushcache(
    dst: *mut u8,
    bytes: usize,
    iter: *mut sys::iov_iter,
) -> usize {
    // SAFETY: By the caller.
    unsafe { sys::_copy_from_iter_flushcache(dst.cast(), bytes, iter) }
}

/// Invalidates the CPU cache over `len` bytes at `addr` after the media
/// under it changed (a poison clear).
///
/// # Safety
///
/// `addr` must be a pmem mapping of at least `len` bytes.
pub(crate) unsafe fn invalidate_pmem(addr: *mut u8, len: u64) {
    // SAFETY: By the caller.
    unsafe { sys::arch_invalidate_pmem(addr.cast(), len as usize) };
}

/// Clears the HWPoison flag of the page frames `pfns` and makes them
/// accessible again in the direct map (`clear_mce_nospec`). Frames without
/// a struct page are passed over (`pfn_valid`).
///
/// # Safety
///
/// `pfns` must be frames of a pmem page map that the caller mapped and
/// still holds, whose poison the caller has just cleared: making a frame
/// of anyone else's accessible again would let its poison be consumed.
pub(crate) unsafe fn clear_page_poison(pfns: Range<u64>) {
    for pfn in pfns {
        // SAFETY: The glue checks that the frame has a struct page; by the
        // caller the frame is its own and free of poison.
        unsafe { sys::rpmem_pfn_clear_poison(pfn as usize) };
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
    pub(crate) fn badblocks_of(disk: &super::disk::GenDisk) -> Option<Self> {
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
