// SPDX-License-Identifier: GPL-2.0

//! A list of sorted, disjoint, non-adjacent extents that readers search
//! without taking a lock: the poison store's lookup table once the kernel's
//! `struct badblocks` is full.
//!
//! The extents live in a [`Table`] published under RCU. A lookup takes the
//! RCU read lock, loads the table and binary-searches it: no lock, no atomic
//! read-modify-write, O(log n). Writers are serialised by a mutex and never
//! change an extent a reader may see. An edit builds a new table and frees
//! the old one after a grace period (`kvfree_rcu`); an append, the common
//! case (scrub results and injections arrive in sector order), writes the
//! next free slot and then publishes the longer length, so n records in
//! order cost O(n) copies in all, not O(n^2).

use crate::{
    extents::{Extent, Splice},
    kernel_ext::{mem::NoIoScope, sys},
};
use core::{alloc::Layout, ptr::NonNull};
use kernel::{
    alloc::{allocator::KVmalloc, Allocator, NumaNode},
    prelude::*,
    sync::{
        atomic::{Acquire, Atomic, Relaxed, Release},
        new_mutex, rcu, Mutex, MutexGuard,
    },
    types::Opaque,
};

/// The header of a table; `cap` extent slots follow it, the first `len`
/// initialised and never written again.
#[repr(C)]
struct Table {
    rcu: Opaque<sys::kvfree_rcu_head>,
    cap: usize,
    len: Atomic<usize>,
}

// The slots start right after the header.
const _: () = assert!(size_of::<Table>() % align_of::<Extent>() == 0);

impl Table {
    fn layout(cap: usize) -> Result<Layout> {
        let slots = Layout::array::<Extent>(cap).map_err(|_| ENOMEM)?;
        let (layout, _) = Layout::new::<Table>().extend(slots).map_err(|_| ENOMEM)?;
        Ok(layout)
    }

    /// A new table holding the concatenation of `parts`, with room to grow.
    fn new(parts: [&[Extent]; 3]) -> Result<NonNull<Table>> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let cap = (len + len / 2).max(16);
        let table = KVmalloc::alloc(Self::layout(cap)?, GFP_KERNEL, NumaNode::NO_NODE)?;
        let table = table.cast::<Table>();
        // SAFETY: `table` is a fresh allocation of `layout(cap)`: a header
        // followed by `cap >= len` slots.
        unsafe {
            table.write(Table {
                rcu: Opaque::uninit(),
                cap,
                len: Atomic::new(len),
            });
            let mut slot = Self::slots(table);
            for part in parts {
                core::ptr::copy_nonoverlapping(part.as_ptr(), slot, part.len());
                slot = slot.add(part.len());
            }
        }
        Ok(table)
    }

    /// The first slot of `table`.
    ///
    /// # Safety
    ///
    /// `table` must have been returned by [`Table::new`] and not freed.
    unsafe fn slots(table: NonNull<Table>) -> *mut Extent {
        // SAFETY: By the caller the slots follow the header in one allocation.
        unsafe { table.as_ptr().add(1).cast() }
    }

    /// The published extents of `table`.
    ///
    /// # Safety
    ///
    /// `table` must have been returned by [`Table::new`] and stay allocated
    /// for `'a`.
    unsafe fn entries<'a>(table: NonNull<Table>) -> &'a [Extent] {
        // SAFETY: By the caller the header is valid.
        let len = unsafe { table.as_ref() }.len.load(Acquire);
        // SAFETY: The first `len` slots were written before `len` was
        // published (Release, paired with the Acquire above) and are never
        // written again.
        unsafe { core::slice::from_raw_parts(Self::slots(table), len) }
    }

    /// Frees `table` once every RCU reader that may see it has finished.
    ///
    /// # Safety
    ///
    /// `table` must have been returned by [`Table::new`], no longer be
    /// published, and not be used by the caller again.
    unsafe fn free_after_readers(table: NonNull<Table>) {
        // SAFETY: By the caller; the head lies inside the allocation that
        // `kvfree` releases.
        unsafe { sys::kvfree_call_rcu((*table.as_ptr()).rcu.get(), table.as_ptr().cast()) };
    }
}

/// Sorted, disjoint, non-adjacent extents with lock-free lookups.
///
/// # Invariants
///
/// `table` is null (no extents) or a table from [`Table::new`] with at least
/// one extent, freed only after it is replaced, by RCU; only holders of
/// `writer` replace it or write its slots.
#[pin_data(PinnedDrop)]
pub(crate) struct RcuExtents {
    table: Atomic<*mut Table>,
    #[pin]
    writer: Mutex<()>,
}

// SAFETY: The table is shared under the rules of the type invariant: readers
// only read published slots, writers are serialised by `writer`.
unsafe impl Send for RcuExtents {}
// SAFETY: See `Send`.
unsafe impl Sync for RcuExtents {}

impl RcuExtents {
    /// An empty list.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            table: Atomic::new(core::ptr::null_mut()),
            writer <- new_mutex!((), "rpmem_rcu_extents"),
        })
    }

    /// Whether the list is empty: one load.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.table.load(Relaxed).is_null()
    }

    /// Calls `f` with the extents, inside an RCU read-side section.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&[Extent]) -> R) -> R {
        let _rcu = rcu::read_lock();
        match NonNull::new(self.table.load(Acquire)) {
            None => f(&[]),
            // SAFETY: By the type invariant a table loaded inside the read
            // section is freed no earlier than the section ends, which is
            // after `f` returns.
            Some(table) => f(unsafe { Table::entries(table) }),
        }
    }

    /// Excludes other writers until the returned guard is dropped; may
    /// sleep. Allocations under it are `GFP_NOIO` (the guard holds a
    /// [`NoIoScope`]): writers run in the device's own I/O path.
    pub(crate) fn writer(&self) -> Writer<'_> {
        let noio = NoIoScope::enter();
        Writer {
            list: self,
            _guard: self.writer.lock(),
            _noio: noio,
        }
    }
}

#[pinned_drop]
impl PinnedDrop for RcuExtents {
    fn drop(self: Pin<&mut Self>) {
        if let Some(table) = NonNull::new(self.table.load(Relaxed)) {
            // SAFETY: Nothing refers to the list any more; freeing after a
            // grace period is merely the one way tables are freed.
            unsafe { Table::free_after_readers(table) };
        }
    }
}

/// The one writer of an [`RcuExtents`].
pub(crate) struct Writer<'a> {
    list: &'a RcuExtents,
    _guard: MutexGuard<'a, ()>,
    /// Left after the mutex is released.
    _noio: NoIoScope,
}

impl Writer<'_> {
    fn current(&self) -> Option<NonNull<Table>> {
        NonNull::new(self.list.table.load(Relaxed))
    }

    /// The extents, stable while this writer lives.
    pub(crate) fn entries(&self) -> &[Extent] {
        // SAFETY: Only holders of `writer` free tables (type invariant), and
        // `self` holds it for the lifetime of the returned slice.
        self.current()
            .map_or(&[][..], |table| unsafe { Table::entries(table) })
    }

    /// Publishes `new` (null: no extents) in place of the current table.
    fn publish(&mut self, new: *mut Table) {
        let old = self.current();
        // INVARIANT: `new` is null or a fresh, non-empty table; `old` is
        // freed by RCU.
        self.list.table.store(new, Release);
        if let Some(table) = old {
            // SAFETY: `old` is no longer published and not used again.
            unsafe { Table::free_after_readers(table) };
        }
    }

    /// Replaces every extent with `all` (sorted, disjoint, non-adjacent).
    /// On failure (no memory) nothing changes.
    pub(crate) fn replace(&mut self, all: &[Extent]) -> Result {
        if all.is_empty() {
            self.clear();
        } else {
            self.publish(Table::new([all, &[], &[]])?.as_ptr());
        }
        Ok(())
    }

    /// Removes every extent.
    pub(crate) fn clear(&mut self) {
        self.publish(core::ptr::null_mut());
    }

    /// Applies the edit that `plan` makes of the extents. On failure (no
    /// memory for a new table) nothing changes.
    pub(crate) fn edit(&mut self, plan: impl FnOnce(&[Extent]) -> Splice) -> Result {
        let cur = self.entries();
        let edit = plan(cur);
        let added = edit.added();
        let mut with = [(0, 0); 2];
        for (slot, e) in with.iter_mut().zip(edit.with.into_iter().flatten()) {
            *slot = e;
        }
        let with = &with[..added];
        if edit.at.is_empty() && with.is_empty() {
            return Ok(());
        }
        let len = cur.len() - edit.at.len() + added;
        if let Some(table) = self.current() {
            // SAFETY: The current table is allocated while the writer lives.
            let header = unsafe { table.as_ref() };
            if edit.at.start == cur.len() && len <= header.cap {
                // SAFETY: The slots past the published length are inside the
                // table (`len <= cap`), no reader looks at them, and only
                // this writer writes them.
                unsafe {
                    let slot = Table::slots(table).add(cur.len());
                    core::ptr::copy_nonoverlapping(with.as_ptr(), slot, added);
                }
                header.len.store(len, Release);
                return Ok(());
            }
        }
        let new = if len == 0 {
            core::ptr::null_mut()
        } else {
            Table::new([&cur[..edit.at.start], with, &cur[edit.at.end..]])?.as_ptr()
        };
        self.publish(new);
        Ok(())
    }
}
