// SPDX-License-Identifier: GPL-2.0

//! The `dev_pagemap` that gives a namespace struct pages (fsdax), so that
//! file systems can map it and memory failures can be routed to rpmem.

use super::{
    nd::{NdDevice, Pfn, PfnInfo},
    sys,
};
use core::{ops::Range, sync::atomic::AtomicPtr, sync::atomic::Ordering};
use kernel::{error::from_err_ptr, prelude::*};

/// A `dev_pagemap` of type `MEMORY_DEVICE_FS_DAX` with rpmem's
/// `memory_failure` operation.
///
/// # Invariants
///
/// `pgmap` is zeroed device-managed memory of the probed device: it lives
/// until that device is unbound, after the mapping it describes is gone.
#[derive(Clone, Copy)]
pub(crate) struct PageMap {
    pgmap: *mut sys::dev_pagemap,
}

impl PageMap {
    /// A zeroed page map, freed when `dev` is unbound.
    pub(crate) fn new(dev: &NdDevice) -> Result<Self> {
        // INVARIANT: Zeroed, device managed.
        Ok(Self {
            pgmap: dev.alloc_zeroed::<sys::dev_pagemap>()?,
        })
    }

    /// Fills the range (and altmap) from a pfn device's info block, which
    /// it returns.
    pub(crate) fn setup_pfn(&self, pfn: &Pfn<'_>) -> Result<PfnInfo> {
        // SAFETY: By the type invariant `pgmap` is valid and still zeroed.
        unsafe { pfn.setup(self.pgmap) }
    }

    /// Covers the physical `range` (a raw namespace with struct pages).
    pub(crate) fn set_range(&self, range: &Range<u64>) {
        // SAFETY: By the type invariant `pgmap` is valid; not yet mapped.
        unsafe {
            *(*self.pgmap).__bindgen_anon_1.range.as_mut() = sys::range {
                start: range.start,
                end: range.end - 1,
            };
            (*self.pgmap).nr_range = 1;
        }
    }

    /// The physical range covered, end exclusive.
    pub(crate) fn range(&self) -> Range<u64> {
        // SAFETY: By the type invariant `pgmap` is valid.
        let r = unsafe { *(*self.pgmap).__bindgen_anon_1.range.as_ref() };
        r.start..r.end + 1
    }

    /// Creates the struct pages and maps the range; returns its address.
    pub(crate) fn map(&self, dev: &NdDevice) -> Result<*mut u8> {
        // SAFETY: By the type invariant `pgmap` is valid and lives past the
        // unmapping devres action registered here.
        let addr = unsafe {
            (*self.pgmap).type_ = sys::memory_type_MEMORY_DEVICE_FS_DAX;
            (*self.pgmap).ops = &sys::rpmem_pagemap_ops;
            sys::devm_memremap_pages(dev.as_raw(), self.pgmap)
        };
        Ok(from_err_ptr(addr)?.cast())
    }

    /// Routes the map's memory failures to `owner` from now on.
    ///
    /// The owner must stay valid until the mapping is gone: `memory_failure`
    /// runs with a reference to the page map (`get_dev_pagemap`), and
    /// `memunmap_pages` waits for every such reference before the devres
    /// actions registered earlier (the owner's, see
    /// `NdDevice::reserve_data`) run.
    pub(crate) fn set_owner(&self, owner: *mut kernel::ffi::c_void) {
        // SAFETY: By the type invariant `pgmap` is valid; `owner` is a
        // pointer-sized, aligned field that `owner_of` reads atomically.
        let slot = unsafe { AtomicPtr::from_ptr(&raw mut (*self.pgmap).owner) };
        slot.store(owner, Ordering::Release);
    }
}

/// The owner set by [`PageMap::set_owner`], null before.
///
/// # Safety
///
/// `pgmap` must be a page map made by [`PageMap::map`], still mapped.
pub(crate) unsafe fn owner_of(pgmap: *mut sys::dev_pagemap) -> *mut kernel::ffi::c_void {
    // SAFETY: By the caller `pgmap` is valid; see `set_owner`.
    let slot = unsafe { AtomicPtr::from_ptr(&raw mut (*pgmap).owner) };
    slot.load(Ordering::Acquire)
}
