// SPDX-License-Identifier: GPL-2.0

//! [`RangeSet`]: a set of `u64` ranges on the kernel's maple tree, kept
//! merged (no two ranges overlap or touch), which readers search without a
//! lock.
//!
//! The kernel crate's `MapleTree` (7.3) owns a value per range and reads
//! under the tree's spinlock. The poison store searches on every I/O of a
//! device with more records than `struct badblocks` holds, so this tree is
//! in RCU mode (`MT_FLAGS_USE_RCU`) and readers walk it under
//! `rcu_read_lock` alone (`mas_find`), as the mm's VMA lookups do: O(log n),
//! no lock, no atomic read-modify-write. A range is a value entry, not a
//! pointer: it allocates nothing of its own, and the memory of the set is
//! the tree's 256-byte nodes (a leaf has 16 slots; a range and the gap
//! after it take two).
//!
//! The tree is also an allocation tree (`MT_FLAGS_ALLOC_RANGE`, as the
//! mm's VMA trees): its internal nodes then keep their metadata apart from
//! their slots. In a plain RCU tree an internal node with 15 children keeps
//! it in the 16th slot, and `mt_free_walk` (lib/maple_tree.c, 7.3), freeing
//! a dead subtree after the grace period, takes it for a child pointer and
//! faults (seen: destroying a tree of 20,000 ranges).
//!
//! Writers are serialised by a mutex (a change looks at the neighbours
//! first, then stores once), run in a `memalloc_noio` scope (the poison
//! store changes from its device's own I/O path) and take the tree's
//! spinlock inside `mtree_store_range`, which drops it to allocate. A store
//! that cannot allocate changes nothing. Insert and remove cost O(log n)
//! plus the ranges they merge or drop.

use super::mem::NoIoScope;
use core::{ffi::c_void, ops::Range, ptr};
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    sync::{
        atomic::{Acquire, Atomic, Relaxed, Release},
        new_mutex, rcu, Mutex, MutexGuard,
    },
    types::Opaque,
};

// The tree's indices are `unsigned long` (`usize`); ranges are `u64`
// sectors, which convert losslessly on a 64-bit kernel only.
const _: () = assert!(size_of::<usize>() == size_of::<u64>());

/// `v` as a tree index (lossless, see above).
#[inline]
const fn index(v: u64) -> usize {
    v as usize
}

/// A tree index as a `u64` (lossless).
#[inline]
const fn value(i: usize) -> u64 {
    i as u64
}

/// The entry of every range: an xarray value entry (`xa_mk_value(1)`),
/// which the maple tree stores as it is (it refuses only its internal
/// entries, whose low bits are `10`) and nobody dereferences.
const PRESENT: *mut c_void = ptr::without_provenance_mut(0b11);

/// A set of disjoint, non-adjacent `u64` ranges.
///
/// # Invariants
///
/// `tree` was initialised by `mt_init_flags` with `MT_FLAGS_USE_RCU` and
/// `MT_FLAGS_ALLOC_RANGE`, and is destroyed when this is dropped; its
/// entries are `PRESENT` over the ranges of the set, none of which ends at
/// `u64::MAX`, and no two touch.
/// `len` is their number; every range lies inside `bounds` (`u64::MAX..0`
/// while there is none). Only holders of `writer` store into the tree or
/// change `len`, `bounds` and `active`. A reader that sees `active` set inside an RCU
/// read section finds the ranges the set held then: the set is emptied
/// only after `active` is cleared and a grace period has passed.
#[pin_data(PinnedDrop)]
pub(crate) struct RangeSet {
    #[pin]
    tree: Opaque<bindings::maple_tree>,
    len: Opaque<usize>,
    /// Where the ranges lie: the start of the first and the end of the last,
    /// or wider. A lookup outside them answers without walking the tree,
    /// as `badblocks_check` does before and after its first and last entry.
    bounds: [Opaque<u64>; 2],
    /// Whether the set's user searches it (a flag of the user's, kept here
    /// because emptying the set must wait for the readers that saw it).
    active: Atomic<bool>,
    #[pin]
    writer: Mutex<()>,
}

// SAFETY: The tree is an RCU-mode maple tree: readers walk it under RCU,
// writers are serialised by `writer` and the tree's own lock; its entries
// are plain values.
unsafe impl Send for RangeSet {}
// SAFETY: See `Send`.
unsafe impl Sync for RangeSet {}

impl RangeSet {
    /// An empty set.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes and pinned; the tree is
            // destroyed in `drop` before its memory goes.
            tree <- Opaque::ffi_init(|slot| unsafe {
                bindings::mt_init_flags(
                    slot,
                    bindings::MT_FLAGS_USE_RCU | bindings::MT_FLAGS_ALLOC_RANGE,
                )
            }),
            len: Opaque::new(0),
            bounds: [Opaque::new(u64::MAX), Opaque::new(0)],
            active: Atomic::new(false),
            writer <- new_mutex!((), "rpmem_range_set"),
        })
    }

    /// Number of ranges: a racy snapshot (`READ_ONCE`), inline (an atomic
    /// load is a call to a C helper from a module, and this runs on every
    /// bio and `direct_access`).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        // SAFETY: `len` is aligned and valid for as long as `self`; writers
        // store it with a volatile write.
        unsafe { ptr::read_volatile(self.len.get()) }
    }

    /// Whether the set is empty: one load.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the set is active ([`RangeWriter::activate`]): a racy
    /// snapshot (`READ_ONCE`), inline; see
    /// [`Self::first_overlap_if_active`] for an answer that holds.
    #[inline]
    pub(crate) fn is_active(&self) -> bool {
        // SAFETY: `as_ptr` is the atomic's own aligned storage, valid for as
        // long as `self`; writers store it atomically. A volatile read is
        // READ_ONCE (an atomic load is a call to a C helper from a module).
        unsafe { ptr::read_volatile(self.active.as_ptr()) }
    }

    /// `Some(first_overlap(r))` if the set is active, `None` if not: the
    /// flag and the search in one RCU read section, so that the answer is
    /// that of a set that was active.
    pub(crate) fn first_overlap_if_active(&self, r: &Range<u64>) -> Option<Option<Range<u64>>> {
        let rcu = rcu::read_lock();
        if !self.active.load(Acquire) {
            return None;
        }
        let mut found = None;
        self.walk(&rcu, r, |range| {
            found = Some(range);
            false
        });
        Some(found)
    }

    /// A walk of the tree from `at`, for `mas_find`.
    #[inline]
    fn state(&self, at: u64) -> bindings::ma_state {
        // As `MA_STATE(mas, tree, index, index)`.
        bindings::ma_state {
            tree: self.tree.get(),
            index: index(at),
            last: index(at),
            node: ptr::null_mut(),
            status: bindings::maple_status_ma_start,
            min: 0,
            max: usize::MAX,
            alloc: ptr::null_mut(),
            mas_flags: 0,
            store_type: bindings::store_type_wr_invalid,
            ..Default::default()
        }
    }

    /// The first range that overlaps `r`, whole. Lock-free: an RCU read
    /// section.
    #[inline]
    pub(crate) fn first_overlap(&self, r: &Range<u64>) -> Option<Range<u64>> {
        let mut found = None;
        self.each_overlapping(r, |range| {
            found = Some(range);
            false
        });
        found
    }

    /// Calls `f` with each range that overlaps `r`, in order, until it
    /// returns `false`; inside one RCU read section, so `f` must not sleep.
    pub(crate) fn each_overlapping(&self, r: &Range<u64>, f: impl FnMut(Range<u64>) -> bool) {
        self.walk(&rcu::read_lock(), r, f);
    }

    /// The bounds: a racy snapshot of each (`READ_ONCE`). Writers widen
    /// them before they store and narrow them after, so that they hold
    /// every range a reader can find.
    #[inline]
    fn bounds(&self) -> Range<u64> {
        // SAFETY: Both are aligned and valid for as long as `self`; writers
        // store them with volatile writes.
        unsafe { ptr::read_volatile(self.bounds[0].get())..ptr::read_volatile(self.bounds[1].get()) }
    }

    /// [`Self::each_overlapping`] inside the caller's read section.
    #[inline]
    fn walk(&self, _rcu: &rcu::Guard, r: &Range<u64>, mut f: impl FnMut(Range<u64>) -> bool) {
        let bounds = self.bounds();
        if r.is_empty() || r.end <= bounds.start || r.start >= bounds.end {
            return;
        }
        let mut mas = self.state(r.start);
        loop {
            // SAFETY: `mas` walks this tree (initialised, by the type
            // invariant), an RCU-mode tree, inside an RCU read section:
            // what `mas_find` requires without the tree's lock.
            let entry = unsafe { bindings::mas_find(&raw mut mas, index(r.end - 1)) };
            // Every entry is `PRESENT` (type invariant): no need to look.
            if entry.is_null() || !f(value(mas.index)..value(mas.last).saturating_add(1)) {
                return;
            }
        }
    }

    /// Excludes other writers until the returned guard is dropped; may
    /// sleep. Allocations under it are `GFP_NOIO`.
    pub(crate) fn writer(&self) -> RangeWriter<'_> {
        let noio = NoIoScope::enter();
        RangeWriter {
            set: self,
            _guard: self.writer.lock(),
            _noio: noio,
        }
    }
}

#[pinned_drop]
impl PinnedDrop for RangeSet {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: The tree is initialised (type invariant) and nothing uses
        // it any more; an RCU tree's nodes are freed after a grace period.
        unsafe { bindings::mtree_destroy(self.tree.get()) };
    }
}

/// The one writer of a [`RangeSet`].
pub(crate) struct RangeWriter<'a> {
    set: &'a RangeSet,
    _guard: MutexGuard<'a, ()>,
    /// Left after the mutex is released.
    _noio: NoIoScope,
}

impl RangeWriter<'_> {
    /// Number of ranges, stable while this writer lives.
    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether the set is active, stable while this writer lives.
    pub(crate) fn is_active(&self) -> bool {
        self.set.active.load(Relaxed)
    }

    /// Makes the set active: readers that see it so search it.
    pub(crate) fn activate(&mut self) {
        self.set.active.store(true, Release);
    }

    /// Makes the set inactive, then empties it once the readers that may
    /// have seen it active have finished: may sleep.
    pub(crate) fn deactivate(&mut self) {
        self.set.active.store(false, Release);
        self.clear();
    }

    fn set_len(&mut self, len: usize) {
        // SAFETY: `len` is valid and aligned; only the holder of the writer
        // lock writes it (type invariant), readers read it volatile.
        unsafe { ptr::write_volatile(self.set.len.get(), len) };
        if len == 0 {
            // Nothing lies anywhere.
            self.set_bounds(u64::MAX, 0);
        }
    }

    fn set_bounds(&mut self, start: u64, end: u64) {
        // SAFETY: As for `len`.
        unsafe {
            ptr::write_volatile(self.set.bounds[0].get(), start);
            ptr::write_volatile(self.set.bounds[1].get(), end);
        }
    }

    /// Stores `entry` (`PRESENT` or null) over `r` (not empty, not ending
    /// at `u64::MAX`). `ENOMEM` changes nothing.
    fn store(&mut self, r: &Range<u64>, entry: *mut c_void) -> Result {
        // SAFETY: The tree is initialised (type invariant) and this writer
        // is its only one; `entry` is null or a value entry, `r.start <=
        // r.end - 1`. `mtree_store_range` takes the tree's lock.
        to_result(unsafe {
            bindings::mtree_store_range(
                self.set.tree.get(),
                index(r.start),
                index(r.end - 1),
                entry,
                bindings::GFP_KERNEL,
            )
        })
    }

    /// Adds `r`, merged with every range it overlaps or touches. `EINVAL`
    /// for an empty range or one that ends at `u64::MAX`; on failure
    /// (`ENOMEM`) nothing changes.
    pub(crate) fn insert(&mut self, r: Range<u64>) -> Result {
        if r.is_empty() || r.end == u64::MAX {
            return Err(EINVAL);
        }
        let (mut merged, mut absorbed, mut inside) = (r.clone(), 0usize, false);
        let touching = r.start.saturating_sub(1)..r.end + 1;
        self.set.each_overlapping(&touching, |range| {
            inside = range.start <= r.start && r.end <= range.end;
            merged.start = merged.start.min(range.start);
            merged.end = merged.end.max(range.end);
            absorbed += 1;
            !inside
        });
        if inside {
            return Ok(());
        }
        // INVARIANT: Widened before the store (a failed store leaves them
        // wider than needed, which is allowed).
        let bounds = self.set.bounds();
        self.set_bounds(bounds.start.min(merged.start), bounds.end.max(merged.end));
        self.store(&merged, PRESENT)?;
        // INVARIANT: `merged` replaced the `absorbed` ranges it covers, and
        // touches no other.
        self.set_len(self.len() + 1 - absorbed);
        Ok(())
    }

    /// Removes `r`: the ranges it overlaps lose those values (a range that
    /// `r` cuts in the middle becomes two). On failure (`ENOMEM`) nothing
    /// changes.
    pub(crate) fn remove(&mut self, r: Range<u64>) -> Result {
        let (mut first, mut last, mut hit) = (None, None, 0usize);
        self.set.each_overlapping(&r, |range| {
            first.get_or_insert(range.start);
            last = Some(range.end);
            hit += 1;
            true
        });
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(());
        };
        self.store(&r, ptr::null_mut())?;
        let kept = usize::from(first < r.start) + usize::from(last > r.end);
        // INVARIANT: The `hit` ranges are gone but for what lies outside
        // `r` at either end.
        self.set_len(self.len() + kept - hit);
        Ok(())
    }

    /// Removes every range, once every RCU reader that began before the
    /// call has finished (so that a reader that decided to search this set
    /// under an earlier state finds what it held): may sleep.
    pub(crate) fn clear(&mut self) {
        rcu::synchronize_rcu();
        // SAFETY: The tree is initialised and this is its only writer; an
        // RCU tree's nodes are freed after a grace period, so readers in
        // it stay safe, and the tree is empty and usable afterwards.
        unsafe { bindings::mtree_destroy(self.set.tree.get()) };
        self.set_len(0);
    }
}
