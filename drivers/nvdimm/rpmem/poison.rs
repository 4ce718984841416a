// SPDX-License-Identifier: GPL-2.0

//! The poison store of a device: the kernel's `struct badblocks` (what
//! `/sys/block/pmemN/badblocks` shows), a lookup table for when it is full,
//! and the device's poison counters.
//!
//! `struct badblocks` holds 512 ranges. While it holds every record, lookups
//! search it, as nd_pmem's `is_bad_pmem` does: a single load when it is
//! empty, else a seqlock read and a binary search. The first record it
//! refuses (a lost record means real hardware would consume the poison)
//! starts the lookup table: every record, merged and sorted, in a
//! [`RangeSet`] (the kernel's maple tree) that lookups search alone,
//! lock-free and in O(log n), until `struct badblocks` holds every record
//! again. Inserting or clearing a record costs O(log n) at any size.
//! `struct badblocks` keeps what it can hold. Every change takes the
//! table's writer lock, so the two never disagree.
//!
//! Which of the two lookups search is the table's active flag, which a
//! lookup reads inside the RCU read section in which it searches: it is set
//! once the table holds every record, and cleared before the table is
//! emptied, which waits for the lookups that may still search it.

use crate::{
    extents::{self, Extent},
    kernel_ext::badblocks::BadBlocks,
    kernel_ext::nd::Region,
    kernel_ext::param::{string_param_ops, StringParam},
    kernel_ext::{
        disk::SysfsPage,
        maple::{RangeSet, RangeWriter},
    },
    parse::ClearPolicy,
};
use core::ops::Range;
use kernel::{
    prelude::*,
    sync::atomic::{Atomic, Relaxed},
};

/// The clearing policy of every device (module parameter `clear_poison`).
static CLEAR_POLICY: Atomic<u32> = Atomic::new(ClearPolicy::Auto as u32);

/// The current clearing policy.
pub(crate) fn clear_policy() -> ClearPolicy {
    // Only `set_clear_policy` stores, a valid policy.
    u8::try_from(CLEAR_POLICY.load(Relaxed))
        .ok()
        .and_then(|v| ClearPolicy::try_from(v).ok())
        .unwrap_or(ClearPolicy::Auto)
}

/// Whether poison in `region` is cleared with the bus's clear-error command
/// (else forgotten on the bus: nothing to clear on emulated media), by the
/// clearing policy.
pub(crate) fn firmware_clears(region: &Region) -> bool {
    match clear_policy() {
        ClearPolicy::Firmware => true,
        ClearPolicy::Software => false,
        ClearPolicy::Auto => region.can_clear_errors(),
    }
}

/// Whether simulated memory failures (`MF_SW_SIMULATED`) are recorded as
/// poison: module parameter `record_simulated`, fixed at load time.
pub(crate) fn record_simulated() -> bool {
    crate::module_parameters::record_simulated.value()
}

/// Sets the clearing policy; devices use it from their next clear on.
pub(crate) fn set_clear_policy(policy: ClearPolicy) {
    CLEAR_POLICY.store(u32::from(policy as u8), Relaxed);
}

/// Module parameter `clear_poison` (load time and
/// `/sys/module/rpmem/parameters/clear_poison`), declared in the C glue: a
/// bad name is refused with `EINVAL` and leaves the policy unchanged.
struct ClearPoisonParam;

impl StringParam for ClearPoisonParam {
    /// `CAP_SYS_ADMIN` required (`EPERM`), at load time too.
    fn set(input: &[u8]) -> Result {
        if !crate::kernel_ext::cred::capable_sys_admin() {
            return Err(EPERM);
        }
        match crate::parse::clear_policy(input) {
            Ok(policy) => {
                set_clear_policy(policy);
                Ok(())
            }
            Err(_) => {
                pr_err!("clear_poison: expected auto, firmware or software\n");
                Err(EINVAL)
            }
        }
    }

    fn get() -> &'static str {
        clear_policy().name()
    }
}

string_param_ops!(
    ClearPoisonParam,
    rpmem_clear_poison_set,
    rpmem_clear_poison_get
);

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
    /// Records `struct badblocks` refused (kept in the lookup table).
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
///
/// # Invariants
///
/// While `table` is active it holds every record and `bb` a subset of them;
/// while it is not, `bb` holds every record. Changes hold the writer of
/// `table`.
#[pin_data]
pub(crate) struct Poison {
    #[pin]
    bb: BadBlocks,
    /// Every record, once `bb` has refused one (then active: lookups
    /// search it, not `bb`).
    #[pin]
    table: RangeSet,
    /// Whether the "list full" warning was printed.
    warned: Atomic<bool>,
    pub(crate) counters: Counters,
}

impl Poison {
    /// An empty store.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            bb <- BadBlocks::new(),
            table <- RangeSet::new(),
            warned: Atomic::new(false),
            counters: Counters::new(),
        })
    }

    /// The kernel structure (for the KUnit tests).
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn badblocks(&self) -> &BadBlocks {
        &self.bb
    }

    /// Whether there are no records at all: two loads (the table may still
    /// hold records while it is not active: then the answer is "not
    /// empty", and a lookup searches `struct badblocks`).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.bb.is_empty() && self.table.is_empty()
    }

    /// The first record (whole) that overlaps `sectors`, if any. Inline:
    /// the emptiness test (two loads, nd_pmem's `bb->count` test), then
    /// one call, as nd_pmem's `badblocks_check` (the glue's search of
    /// `struct badblocks`, or the table's read section).
    #[inline(always)]
    pub(crate) fn check(&self, sectors: Range<u64>) -> Option<Range<u64>> {
        if self.is_empty() {
            return None;
        }
        self.search(sectors)
    }

    /// [`Self::check`] without the emptiness test: for a caller that has
    /// just found the store not empty (it may have become empty since; the
    /// answer is then `None`, as `check`'s).
    #[inline]
    pub(crate) fn search(&self, sectors: Range<u64>) -> Option<Range<u64>> {
        // Not active: `struct badblocks` holds every record (or the table
        // is being filled, and what is being added is not recorded yet).
        if !self.table.is_active() {
            return self.bb.check(sectors);
        }
        // Seen again in the read section of the search: a table that stops
        // being active is emptied only after the section ends.
        match self.table.first_overlap_if_active(&sectors) {
            Some(found) => found,
            None => self.bb.check(sectors),
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

    /// Records `sectors` as poisoned. Fails only when `struct badblocks` is
    /// full and the lookup table cannot take them (out of memory). Returns
    /// `true` the first time `struct badblocks` refuses a record, for the
    /// caller's one warning.
    pub(crate) fn add(&self, sectors: Range<u64>) -> Result<bool> {
        if sectors.is_empty() {
            return Err(EINVAL);
        }
        let mut table = self.table.writer();
        let starts_table = !table.is_active();
        if starts_table {
            if self.bb.add(sectors.clone()).is_ok() {
                return Ok(false);
            }
            self.fill_table(&mut table)?;
            if let Err(e) = table.insert(sectors.clone()) {
                // Not active: no lookup searches it.
                table.clear();
                return Err(e);
            }
            // INVARIANT: The table holds every record: lookups search it
            // from now on.
            table.activate();
        } else {
            // The table first: lookups search only it.
            table.insert(sectors.clone())?;
        }
        let refused = starts_table || self.bb.add(sectors).is_err();
        if !refused {
            return Ok(false);
        }
        count(&self.counters.overflowed);
        Ok(!self.warned.xchg(true, Relaxed))
    }

    /// Drops the records of `sectors`. Fails only when the lookup table
    /// cannot take the change (`ENOMEM`): then the records stay, and so
    /// does the refusal to read them.
    pub(crate) fn clear(&self, sectors: Range<u64>) -> Result {
        let mut table = self.table.writer();
        if !self.bb.clear(sectors.clone()) {
            // `struct badblocks` is full and would have to split an entry:
            // the table takes over (or stays), and the kernel's list keeps
            // only what remains a subset of it.
            return self.clear_past_full_list(&mut table, sectors);
        }
        if !table.is_active() {
            return Ok(());
        }
        // If this fails, `struct badblocks` lost records that the table
        // keeps: it is a subset still, and lookups search only the table.
        table.remove(sectors)?;
        // Back to `struct badblocks` alone once it holds every record again.
        if table.len() <= self.bb.count()
            && self
                .bb_records()
                .is_ok_and(|bb| self.table_records(&table).is_ok_and(|t| bb == t))
        {
            // INVARIANT: `bb` holds every record; the table is emptied after
            // the lookups that may still search it.
            table.deactivate();
        }
        Ok(())
    }

    /// [`Self::clear`] when `struct badblocks` cannot split an entry: the
    /// table (made now from the kernel's list, if it is not in use) drops
    /// `sectors`; then every kernel entry that overlaps them is dropped
    /// whole (which needs no split) and what is left of them outside
    /// `sectors` put back as far as there is room.
    fn clear_past_full_list(&self, table: &mut RangeWriter<'_>, sectors: Range<u64>) -> Result {
        if !table.is_active() {
            self.fill_table(table)?;
            // INVARIANT: The table holds every record.
            table.activate();
        }
        table.remove(sectors.clone())?;
        let mut rest = [None, None];
        while let Some(entry) = self.bb.check(sectors.clone()) {
            if !self.bb.clear(entry.clone()) {
                // Cannot happen (a whole entry); the table is right anyway.
                break;
            }
            if entry.start < sectors.start {
                rest[0] = Some(entry.start..sectors.start);
            }
            if entry.end > sectors.end {
                rest[1] = Some(sectors.end..entry.end);
            }
        }
        for part in rest.into_iter().flatten() {
            // In the table already; the kernel's list only shows it.
            let _ = self.bb.add(part);
        }
        Ok(())
    }

    /// Puts every record of `struct badblocks` into the empty table (not
    /// active). On failure (no memory) the table is left empty.
    fn fill_table(&self, table: &mut RangeWriter<'_>) -> Result {
        for (start, end) in self.bb_records()? {
            if let Err(e) = table.insert(start..end) {
                table.clear();
                return Err(e);
            }
        }
        Ok(())
    }

    /// The records of the table, in order (its writer held, so that they
    /// cannot change).
    fn table_records(&self, table: &RangeWriter<'_>) -> Result<KVVec<Extent>> {
        let mut all = KVVec::with_capacity(table.len(), GFP_KERNEL)?;
        self.table.each_overlapping(&(0..u64::MAX), |r| {
            all.push_within_capacity((r.start, r.end)).is_ok()
        });
        Ok(all)
    }

    /// The records of `struct badblocks`, merged (its entries may touch).
    fn bb_records(&self) -> Result<KVVec<Extent>> {
        let mut all: KVVec<Extent> = KVVec::new();
        for (start, end) in self.bb.entries()? {
            match all.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => all.push((start, end), GFP_KERNEL)?,
            }
        }
        Ok(all)
    }

    /// `/sys/block/pmemN/badblocks`: `SECTOR COUNT` lines. The kernel's own
    /// list while it holds every record (nd_pmem's format: entries of at
    /// most 512 sectors); once the lookup table holds them, its records,
    /// the first of the whole sorted set, as many as one page takes.
    ///
    /// Whole lines only, never a full page: the kernel's `badblocks_show`
    /// fills the page to its last byte once the text is longer, and sysfs
    /// warns about that (`nd_pmem` does it).
    pub(crate) fn show(&self, page: &mut SysfsPage<'_>) -> Result {
        let mut line = |start: u64, end: u64| {
            page.write_line(format_args!("{} {}\n", start, end - start))
                .is_ok()
        };
        let table = self.table.writer();
        if !table.is_active() {
            // The kernel's entries, unmerged, as `badblocks_show` has them.
            for (start, end) in self.bb.entries()? {
                if !line(start, end) {
                    break;
                }
            }
        } else {
            self.table
                .each_overlapping(&(0..u64::MAX), |r| line(r.start, r.end));
        }
        Ok(())
    }

    /// Number of extents in the lookup table (0 while `struct badblocks`
    /// holds every record).
    pub(crate) fn table_len(&self) -> usize {
        let table = self.table.writer();
        if table.is_active() {
            table.len()
        } else {
            0
        }
    }

    /// Number of records (merged).
    pub(crate) fn len(&self) -> Result<usize> {
        let table = self.table.writer();
        if table.is_active() {
            Ok(table.len())
        } else {
            Ok(self.bb_records()?.len())
        }
    }

    /// Every record, merged and sorted.
    pub(crate) fn records(&self) -> Result<KVVec<Extent>> {
        let table = self.table.writer();
        if !table.is_active() {
            return self.bb_records();
        }
        self.table_records(&table)
    }
}
