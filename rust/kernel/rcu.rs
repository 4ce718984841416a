// SPDX-License-Identifier: GPL-2.0

//! [`RcuVec`]: an array that readers see without a lock (RCU) and one
//! writer at a time edits by publishing.
//!
//! The values live in a table (a header, then `cap` slots) published
//! through one pointer. A reader takes the RCU read lock, loads the table
//! and uses the published prefix of its slots: no lock, no atomic
//! read-modify-write. A published slot is never written again. An edit
//! builds a new table and frees the old one after a grace period
//! (`kvfree_call_rcu`); an append that fits writes the next free slots and
//! then publishes the longer length, so n appends cost O(n) copies in all.
//! Writers are serialised by a mutex and run in a `memalloc_noio` scope
//! (every allocation under it is `GFP_NOIO`): the one user, the poison
//! store, edits from its device's own I/O path.

use super::{mem::NoIoScope, sys};
use core::{alloc::Layout, marker::PhantomData, ops::Range, ptr::NonNull};
use kernel::{
    alloc::{allocator::KVmalloc, Allocator, NumaNode},
    prelude::*,
    sync::{
        atomic::{Acquire, Atomic, Relaxed, Release},
        new_mutex, rcu, Mutex, MutexGuard,
    },
    types::Opaque,
};

/// The header of a table; `cap` slots of `T` follow it (at `slots_offset`),
/// the first `len` initialised and never written again.
#[repr(C)]
struct Table {
    rcu: Opaque<sys::kvfree_rcu_head>,
    cap: usize,
    len: Atomic<usize>,
}

/// A table of `T`s: where its slots are, and allocating and freeing it.
struct Tables<T>(PhantomData<T>);

impl<T: Copy> Tables<T> {
    /// The layout of a table of `cap` slots, and the offset of the first.
    fn layout(cap: usize) -> Result<(Layout, usize)> {
        let slots = Layout::array::<T>(cap).map_err(|_| ENOMEM)?;
        Layout::new::<Table>().extend(slots).map_err(|_| ENOMEM)
    }

    /// A new table holding the concatenation of `parts`, with room to grow.
    fn alloc(parts: [&[T]; 3]) -> Result<NonNull<Table>> {
        let len = parts
            .iter()
            .try_fold(0usize, |n, p| n.checked_add(p.len()))
            .ok_or(ENOMEM)?;
        let cap = len.checked_add(len / 2).ok_or(ENOMEM)?.max(16);
        let (layout, offset) = Self::layout(cap)?;
        if offset != Self::SLOTS {
            return Err(EINVAL);
        }
        let table = KVmalloc::alloc(layout, GFP_KERNEL, NumaNode::NO_NODE)?.cast::<Table>();
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

    /// Where the slots start: after the header, aligned for `T` (what
    /// `Layout::extend` gives for any capacity).
    const SLOTS: usize = size_of::<Table>().next_multiple_of(align_of::<T>());

    /// The first slot of `table`.
    ///
    /// # Safety
    ///
    /// `table` must have been returned by [`Self::new`] and not freed.
    #[inline]
    unsafe fn slots(table: NonNull<Table>) -> *mut T {
        // SAFETY: By the caller `table` is an allocation of `layout(cap)`,
        // whose slots start at `SLOTS` (checked in `new`).
        unsafe { table.as_ptr().byte_add(Self::SLOTS).cast() }
    }

    /// The published values of `table`.
    ///
    /// # Safety
    ///
    /// `table` must have been returned by [`Self::new`] and stay allocated
    /// for `'a`.
    #[inline]
    unsafe fn entries<'a>(table: NonNull<Table>) -> &'a [T] {
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
    /// `table` must have been returned by [`Self::new`], no longer be
    /// published, and not be used by the caller again.
    unsafe fn free_after_readers(table: NonNull<Table>) {
        // SAFETY: By the caller; the head lies inside the allocation that
        // `kvfree` releases.
        unsafe { sys::kvfree_call_rcu((*table.as_ptr()).rcu.get(), table.as_ptr().cast()) };
    }
}

/// An array of `T` that readers see without a lock and one writer at a
/// time edits.
///
/// # Invariants
///
/// `table` is null (no values) or a table of `T` from `Tables::alloc` with
/// at least one value, freed only after it is replaced, by RCU; only
/// holders of `writer` replace it or write its slots.
#[pin_data(PinnedDrop)]
pub(crate) struct RcuVec<T: Copy> {
    table: Atomic<*mut Table>,
    #[pin]
    writer: Mutex<()>,
    _values: PhantomData<T>,
}

// SAFETY: The table is shared under the rules of the type invariant: readers
// only read published slots, writers are serialised by `writer`; the values
// are `Send`.
unsafe impl<T: Copy + Send> Send for RcuVec<T> {}
// SAFETY: See `Send`; readers on any thread get `&T`, so `T: Sync`.
unsafe impl<T: Copy + Send + Sync> Sync for RcuVec<T> {}

impl<T: Copy> RcuVec<T> {
    /// An empty array.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            table: Atomic::new(core::ptr::null_mut()),
            writer <- new_mutex!((), "rpmem_rcu_vec"),
            _values: PhantomData,
        })
    }

    /// Whether the array is empty: one load, inline (`load(Relaxed)` is a
    /// call to a C helper from a module, on every bio and `direct_access`).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        // SAFETY: `as_ptr` is the atomic's own aligned storage, valid for as
        // long as `self`; writers store it atomically. A volatile load of
        // the aligned pointer is Rust's READ_ONCE, what `load(Relaxed)` does
        // (`badblocks::BadBlocks::count` reads C's `bb->count` the same way).
        unsafe { core::ptr::read_volatile(self.table.as_ptr()) }.is_null()
    }

    /// Calls `f` with the values, inside an RCU read-side section (so `f`
    /// must not sleep).
    #[inline]
    pub(crate) fn read<R>(&self, f: impl FnOnce(&[T]) -> R) -> R {
        let _rcu = rcu::read_lock();
        match NonNull::new(self.table.load(Acquire)) {
            None => f(&[]),
            // SAFETY: By the type invariant a table loaded inside the read
            // section is freed no earlier than the section ends, which is
            // after `f` returns.
            Some(table) => f(unsafe { Tables::<T>::entries(table) }),
        }
    }

    /// Excludes other writers until the returned guard is dropped; may
    /// sleep. Allocations under it are `GFP_NOIO`.
    pub(crate) fn writer(&self) -> Writer<'_, T> {
        let noio = NoIoScope::enter();
        Writer {
            vec: self,
            _guard: self.writer.lock(),
            _noio: noio,
        }
    }
}

#[pinned_drop]
impl<T: Copy> PinnedDrop for RcuVec<T> {
    fn drop(self: Pin<&mut Self>) {
        if let Some(table) = NonNull::new(self.table.load(Relaxed)) {
            // SAFETY: Nothing refers to the array any more; freeing after a
            // grace period is merely the one way tables are freed.
            unsafe { Tables::<T>::free_after_readers(table) };
        }
    }
}

/// The one writer of an [`RcuVec`].
pub(crate) struct Writer<'a, T: Copy> {
    vec: &'a RcuVec<T>,
    _guard: MutexGuard<'a, ()>,
    /// Left after the mutex is released.
    _noio: NoIoScope,
}

impl<T: Copy> Writer<'_, T> {
    fn current(&self) -> Option<NonNull<Table>> {
        NonNull::new(self.vec.table.load(Relaxed))
    }

    /// The values, stable while this writer lives.
    pub(crate) fn entries(&self) -> &[T] {
        // SAFETY: Only holders of `writer` free tables (type invariant), and
        // `self` holds it for the lifetime of the returned slice.
        self.current()
            .map_or(&[][..], |table| unsafe { Tables::<T>::entries(table) })
    }

    /// Publishes `new` (`None`: no values) in place of the current table.
    fn publish(&mut self, new: Option<NonNull<Table>>) {
        let old = self.current();
        // INVARIANT: `new` is a fresh, non-empty table or nothing; `old` is
        // freed by RCU.
        self.vec
            .table
            .store(new.map_or(core::ptr::null_mut(), NonNull::as_ptr), Release);
        if let Some(table) = old {
            // SAFETY: `old` is no longer published and not used again.
            unsafe { Tables::<T>::free_after_readers(table) };
        }
    }

    /// Replaces the values `at` with `with` (`Vec::splice`): in place when
    /// it appends and the table has room, else in a new table. `EINVAL` if
    /// `at` is not a range of the values; on failure nothing changes.
    pub(crate) fn splice(&mut self, at: Range<usize>, with: &[T]) -> Result {
        let cur = self.entries();
        if at.start > at.end || at.end > cur.len() {
            return Err(EINVAL);
        }
        if at.is_empty() && with.is_empty() {
            return Ok(());
        }
        let len = cur.len() - at.len() + with.len();
        if let Some(table) = self.current() {
            // SAFETY: The current table is allocated while the writer lives.
            let header = unsafe { table.as_ref() };
            if at.start == cur.len() && len <= header.cap {
                // SAFETY: The slots past the published length are inside the
                // table (`len <= cap`), no reader looks at them, and only
                // this writer writes them.
                unsafe {
                    let slot = Tables::<T>::slots(table).add(cur.len());
                    core::ptr::copy_nonoverlapping(with.as_ptr(), slot, with.len());
                }
                header.len.store(len, Release);
                return Ok(());
            }
        }
        let new = if len == 0 {
            None
        } else {
            Some(Tables::<T>::alloc([&cur[..at.start], with, &cur[at.end..]])?)
        };
        self.publish(new);
        Ok(())
    }

    /// Replaces every value with `all`. On failure (no memory) nothing
    /// changes.
    pub(crate) fn replace(&mut self, all: &[T]) -> Result {
        let len = self.entries().len();
        self.splice(0..len, all)
    }

    /// Removes every value.
    pub(crate) fn clear(&mut self) {
        self.publish(None);
    }
}
