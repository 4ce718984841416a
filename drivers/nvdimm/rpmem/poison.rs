// SPDX-License-Identifier: GPL-2.0

//! The poison store of a device: the kernel's `struct badblocks` (what the
//! nvdimm bus fills and `/sys/block/pmemN/badblocks` shows) plus an
//! overflow list for the records it cannot hold, and the device's poison
//! counters.
//!
//! `struct badblocks` holds 512 ranges. A record it refuses goes to the
//! overflow list instead, because a lost record means real hardware would
//! consume the poison. Lookups read the overflow list only while it is not
//! empty; in the common case a lookup is the same seqlock read (or single
//! load) as nd_pmem's `is_bad_pmem`.

use crate::{
    badblocks::BadBlocks,
    extents::{self, Extent, Splice},
    parse::ClearPolicy,
};
use core::ops::Range;
use kernel::{
    prelude::*,
    sync::{
        atomic::{Atomic, Relaxed},
        new_spinlock, SpinLock,
    },
};

/// The clearing policy of every device (module parameter `clear_poison`).
static CLEAR_POLICY: Atomic<u32> = Atomic::new(ClearPolicy::Auto as u32);

/// The current clearing policy.
pub(crate) fn clear_policy() -> ClearPolicy {
    ClearPolicy::from_u8(CLEAR_POLICY.load(Relaxed) as u8)
}

/// Sets the clearing policy; devices use it from their next clear on.
pub(crate) fn set_clear_policy(policy: ClearPolicy) {
    CLEAR_POLICY.store(policy as u32, Relaxed);
}

/// Event counters of a device, shown in debugfs.
pub(crate) struct Counters {
    /// Accesses refused because of poison (failfast `direct_access` and
    /// block reads).
    pub(crate) hits: Atomic<u64>,
    /// Poisoned ranges repaired by a write (block, DAX recovery, zeroing).
    pub(crate) recoveries: Atomic<u64>,
    /// Repairs that cleared with the bus's firmware command.
    pub(crate) firmware_clears: Atomic<u64>,
    /// Repairs that cleared in software (the record only).
    pub(crate) software_clears: Atomic<u64>,
    /// Records ever put on the overflow list.
    pub(crate) overflowed: Atomic<u64>,
}

impl Counters {
    const fn new() -> Self {
        Self {
            hits: Atomic::new(0),
            recoveries: Atomic::new(0),
            firmware_clears: Atomic::new(0),
            software_clears: Atomic::new(0),
            overflowed: Atomic::new(0),
        }
    }
}

/// Counts one event.
pub(crate) fn count(counter: &Atomic<u64>) {
    counter.add(1, Relaxed);
}

/// A device's poison records.
#[pin_data]
pub(crate) struct Poison {
    #[pin]
    bb: BadBlocks,
    /// Records `bb` had no room for: sorted, disjoint extents.
    #[pin]
    overflow: SpinLock<KVec<Extent>>,
    /// Length of `overflow`, read without its lock: while it is 0 lookups
    /// never take the lock.
    overflow_len: Atomic<usize>,
    /// Whether the overflow warning was printed.
    warned: Atomic<bool>,
    pub(crate) counters: Counters,
}

impl Poison {
    /// An empty store.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            bb <- BadBlocks::new(),
            overflow <- new_spinlock!(KVec::new(), "rpmem_poison_overflow"),
            overflow_len: Atomic::new(0),
            warned: Atomic::new(false),
            counters: Counters::new(),
        })
    }

    /// The kernel structure, for the bus (scrub results) and sysfs.
    pub(crate) fn badblocks(&self) -> &BadBlocks {
        &self.bb
    }

    /// Whether there are no records at all: two loads.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.bb.is_empty() && self.overflow_len.load(Relaxed) == 0
    }

    /// The first record (whole) that overlaps `sectors`, if any. Inlined
    /// up to the emptiness test (two loads, nd_pmem's `bb->count` test);
    /// the search is not.
    #[inline(always)]
    pub(crate) fn check(&self, sectors: Range<u64>) -> Option<Range<u64>> {
        if self.is_empty() {
            return None;
        }
        self.search(sectors)
    }

    #[inline(never)]
    fn search(&self, sectors: Range<u64>) -> Option<Range<u64>> {
        let found = self.bb.check(sectors.clone());
        if self.overflow_len.load(Relaxed) == 0 {
            return found;
        }
        let extra = extents::first_overlap(&self.overflow.lock(), &sectors);
        match (found, extra) {
            (Some(a), Some(b)) => Some(if b.start < a.start { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// Whether every record inside `span` lies inside `write`.
    pub(crate) fn covered_by(&self, span: &Range<u64>, write: &Range<u64>) -> bool {
        if write.start <= span.start && span.end <= write.end {
            // The common case, whole pages: no lookup needed.
            return true;
        }
        let mut from = span.start;
        while let Some(bad) = self.check(from..span.end) {
            if !extents::covers(&bad, span, write) {
                return false;
            }
            from = bad.end;
        }
        true
    }

    /// Records `sectors` as poisoned. Fails only when neither the kernel's
    /// list nor the overflow list can take them (out of memory). Returns
    /// `true` the first time a record goes to the overflow list, for the
    /// caller's one warning.
    pub(crate) fn add(&self, sectors: Range<u64>) -> Result<bool> {
        if sectors.is_empty() {
            return Err(EINVAL);
        }
        if self.bb.add(sectors.clone()).is_ok() {
            return Ok(false);
        }
        {
            let mut list = self.overflow.lock();
            let edit = extents::plan_insert(&list, &sectors);
            Self::apply(&mut list, edit)?;
            self.overflow_len.store(list.len(), Relaxed);
        }
        count(&self.counters.overflowed);
        Ok(!self.warned.xchg(true, Relaxed))
    }

    /// Drops the records of `sectors`; `false` when a record could not be
    /// dropped (it stays, and so does the refusal to read it).
    pub(crate) fn clear(&self, sectors: Range<u64>) -> bool {
        let mut ok = self.bb.clear(sectors.clone());
        if self.overflow_len.load(Relaxed) != 0 {
            let mut list = self.overflow.lock();
            let edit = extents::plan_remove(&list, &sectors);
            ok &= Self::apply(&mut list, edit).is_ok();
            self.overflow_len.store(list.len(), Relaxed);
        }
        ok
    }

    /// Applies `edit` to `list`; on failure (no memory for the entries it
    /// adds) `list` is unchanged.
    fn apply(list: &mut KVec<Extent>, edit: Splice) -> Result {
        list.reserve(edit.added(), GFP_ATOMIC)?;
        for _ in edit.at.clone() {
            let _ = list.remove(edit.at.start);
        }
        for (i, e) in edit.with.into_iter().flatten().enumerate() {
            // Cannot fail: room was reserved above.
            let _ = list.insert_within_capacity(edit.at.start + i, e);
        }
        Ok(())
    }

    /// Number of extents on the overflow list.
    pub(crate) fn overflow_len(&self) -> usize {
        self.overflow_len.load(Relaxed)
    }

    /// Every record, merged and sorted.
    pub(crate) fn records(&self) -> Result<KVec<Extent>> {
        let mut all = self.bb.entries()?;
        let extra = {
            let list = self.overflow.lock();
            let mut copy = KVec::with_capacity(list.len(), GFP_ATOMIC)?;
            copy.extend_from_slice(&list, GFP_ATOMIC)?;
            copy
        };
        for (start, end) in extra {
            let edit = extents::plan_insert(&all, &(start..end));
            Self::apply(&mut all, edit)?;
        }
        Ok(all)
    }
}
