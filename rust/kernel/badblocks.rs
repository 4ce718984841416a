// SPDX-License-Identifier: GPL-2.0

//! The poison list: a safe wrapper of the kernel's `struct badblocks`.
//!
//! The driver checks it on every I/O and shows it as
//! `/sys/block/pmemN/badblocks` (`Poison::show`, from its entries). Lookups
//! take the structure's seqlock for reading only, and none at all while the
//! list is empty, which keeps the hot path nd_pmem's; the glue searches
//! the entries (see [`BadBlocks::check`] for why not `badblocks_check`).

use super::sys;
use core::ops::Range;
use kernel::{error::to_result, prelude::*, types::Opaque};

/// A list of bad sector ranges.
///
/// # Invariants
///
/// `inner` was initialised by `badblocks_init` and is released by
/// `badblocks_exit` when this is dropped.
#[pin_data(PinnedDrop)]
#[repr(transparent)]
pub(crate) struct BadBlocks {
    #[pin]
    inner: Opaque<sys::badblocks>,
}

// SAFETY: `struct badblocks` serialises its writers with its own seqlock and
// its readers retry under it, so it may be used from any thread.
unsafe impl Send for BadBlocks {}
// SAFETY: See `Send`; every method takes `&self` and the C side locks.
unsafe impl Sync for BadBlocks {}

impl BadBlocks {
    /// An empty list (one page of ranges, allocated here).
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            inner <- Opaque::try_ffi_init(|slot: *mut sys::badblocks| {
                // SAFETY: `slot` is valid for writes and pinned; `badblocks_init`
                // initialises every field of it.
                to_result(unsafe { sys::badblocks_init(slot, 1) })
            }),
        })
    }

    /// The list at `bb`, which another owner initialised and frees (a
    /// namespace's `nsio->bb`), borrowed.
    ///
    /// # Safety
    ///
    /// `bb` points to a `struct badblocks` initialised by `badblocks_init`
    /// that stays valid, and is not freed, for `'a`.
    pub(super) unsafe fn from_raw<'a>(bb: *mut sys::badblocks) -> &'a Self {
        // SAFETY: `Self` is a transparent `Opaque<badblocks>`; by the safety
        // requirements `bb` is initialised and valid for `'a`. A reference
        // is never dropped, so `badblocks_exit` stays its owner's.
        unsafe { &*bb.cast::<Self>() }
    }

    /// The C structure, for the gendisk and the nvdimm bus.
    pub(super) fn as_raw(&self) -> *mut sys::badblocks {
        self.inner.get()
    }

    /// Number of ranges in the list; a racy snapshot, as C's `bb->count`.
    #[inline]
    pub(crate) fn count(&self) -> usize {
        // SAFETY: By the type invariant `inner` is initialised. `count` is an
        // `int` that C itself reads without the lock (`is_bad_pmem`); a
        // volatile read is Rust's READ_ONCE.
        let count = unsafe { core::ptr::read_volatile(&raw const (*self.as_raw()).count) };
        usize::try_from(count).unwrap_or(0)
    }

    /// Whether the list is empty; costs one load.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// The first bad range that overlaps `sectors`, if any (whole, as
    /// `badblocks_check` reports it). Lock-free when the list is empty;
    /// otherwise one call to the glue's seqlock read section with a binary
    /// search over the sorted entries, retried if a writer changed them
    /// meanwhile.
    ///
    /// This is `badblocks_check` without its `WARN_ON(sectors < len)`,
    /// which fires inside the read section on entries that a concurrent
    /// `badblocks_set` or `badblocks_clear` is moving, before the retry
    /// would discard them (seen with reads racing injections and clears;
    /// the answer itself is retried, only the warning is spurious).
    #[inline]
    pub(crate) fn check(&self, sectors: Range<u64>) -> Option<Range<u64>> {
        if self.is_empty() || sectors.is_empty() {
            return None;
        }
        let (mut start, mut end) = (0, 0);
        // SAFETY: By the type invariant `inner` is initialised; the glue
        // reads the entries of its page only, under its seqlock, and writes
        // the two locals.
        unsafe {
            sys::rpmem_bb_first_overlap(self.as_raw(), sectors.start, sectors.end, &mut start, &mut end)
        }
        .then_some(start..end)
    }

    /// `f`'s answer from a seqlock read section in which no writer changed
    /// the entries: `f` runs again until then. `f` reads the entries with
    /// [`Self::entry`] only, so a section that a writer tears gives a wrong
    /// answer, which is discarded, and never an access outside the page.
    #[inline]
    fn read_section<R>(&self, mut f: impl FnMut() -> R) -> R {
        let raw = self.as_raw();
        loop {
            // SAFETY: By the type invariant `inner` is initialised.
            let seq = unsafe { sys::rpmem_bb_read_begin(raw) };
            let answer = f();
            // SAFETY: As above; `seq` came from `rpmem_bb_read_begin`.
            if !unsafe { sys::rpmem_bb_read_retry(raw, seq) } {
                return answer;
            }
        }
    }

    /// The sectors of entry `i` of the page, `None` past the page. A
    /// volatile read: the entry may be changing (see [`Self::read_section`]).
    #[inline]
    fn entry(&self, i: usize) -> Option<Range<u64>> {
        if i >= MAX_ENTRIES {
            return None;
        }
        // SAFETY: By the type invariant `inner` is initialised; its page
        // pointer is set once by `badblocks_init` and holds `MAX_ENTRIES`
        // entries, of which `i` is one.
        Some(entry_sectors(unsafe {
            core::ptr::read_volatile((*self.as_raw()).page.add(i))
        }))
    }

    /// Adds `sectors` (acknowledged). Fails with `ENOSPC` when the list
    /// cannot take them (it is full).
    pub(crate) fn add(&self, sectors: Range<u64>) -> Result {
        if sectors.is_empty() {
            return Err(EINVAL);
        }
        // SAFETY: By the type invariant `inner` is initialised.
        let ok = unsafe {
            sys::badblocks_set(self.as_raw(), sectors.start, sectors.end - sectors.start, 1)
        };
        if ok {
            Ok(())
        } else {
            Err(ENOSPC)
        }
    }

    /// A copy of every range, in order (for listing; not a hot path).
    pub(crate) fn entries(&self) -> Result<KVec<(u64, u64)>> {
        let mut out = KVec::with_capacity(MAX_ENTRIES, GFP_KERNEL)?;
        self.read_section(|| {
            out.clear();
            for i in 0..self.count().min(MAX_ENTRIES) {
                if let Some(e) = self.entry(i) {
                    // Within the capacity reserved above: cannot fail.
                    let _ = out.push_within_capacity((e.start, e.end));
                }
            }
        });
        Ok(out)
    }

    /// Removes `sectors`; `false` if the list could not be updated.
    pub(crate) fn clear(&self, sectors: Range<u64>) -> bool {
        if sectors.is_empty() {
            return true;
        }
        // SAFETY: By the type invariant `inner` is initialised.
        unsafe { sys::badblocks_clear(self.as_raw(), sectors.start, sectors.end - sectors.start) }
    }
}

#[pinned_drop]
impl PinnedDrop for BadBlocks {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant `inner` was initialised by
        // `badblocks_init` and nothing uses it any more.
        unsafe { sys::badblocks_exit(self.as_raw()) };
    }
}

/// The list never holds more than a page of entries (`MAX_BADBLOCKS`).
const MAX_ENTRIES: usize = kernel::page::PAGE_SIZE / 8;

/// Bit layout of a `struct badblocks` entry (include/linux/badblocks.h):
/// start sector in bits 9..62, length - 1 in bits 0..8, acknowledged in 63.
const BB_LEN_MASK: u64 = 0x1ff;
const BB_OFFSET_MASK: u64 = 0x7fff_ffff_ffff_fe00;

/// The sectors of a `struct badblocks` entry.
pub(crate) const fn entry_sectors(raw: u64) -> Range<u64> {
    let start = (raw & BB_OFFSET_MASK) >> 9;
    start..start + (raw & BB_LEN_MASK) + 1
}
