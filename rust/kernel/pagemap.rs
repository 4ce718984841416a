// SPDX-License-Identifier: GPL-2.0

//! The `dev_pagemap` that gives a namespace struct pages (fsdax), so that
//! file systems can map it and memory failures reach its driver.

use super::{
    mem::PmemMap,
    nd::{Bound, Core, NdDevice, Pfn, PfnInfo},
    sys,
};
use core::{
    marker::PhantomData,
    ops::Range,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{
    error::{from_err_ptr, from_result},
    prelude::*,
    types::ForeignOwnable,
};

/// The flags of a memory failure (`MF_*`, `enum mf_flags`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MfFlags(i32);

impl MfFlags {
    fn has(self, flag: sys::mf_flags) -> bool {
        i32::try_from(flag).is_ok_and(|flag| self.0 & flag != 0)
    }

    /// `MF_SW_SIMULATED`: injected by software (`madvise(MADV_HWPOISON)`,
    /// hwpoison `corrupt-pfn`); the media is as good as before.
    pub(crate) fn is_simulated(self) -> bool {
        self.has(sys::mf_flags_MF_SW_SIMULATED)
    }

    /// `MF_MEM_PRE_REMOVE`: the device goes away (its DAX device is being
    /// killed); nothing failed.
    pub(crate) fn is_pre_remove(self) -> bool {
        self.has(sys::mf_flags_MF_MEM_PRE_REMOVE)
    }

    /// The raw flags, for the DAX core (`dax_holder_notify_failure`).
    pub(super) fn raw(self) -> i32 {
        self.0
    }
}

/// What a page map's driver does when memory of the map fails.
pub(crate) trait Operations: 'static {
    /// The driver data the owner is borrowed from (see [`PageMap::set_owner`]).
    type Data: ForeignOwnable + Send + Sync;

    /// `dev_pagemap_ops.memory_failure`: `nr_pages` page frames from `pfn`
    /// of the map failed (`mf_flags`: `MF_*`). Runs with a reference to the
    /// page map held (`memory_failure` takes `get_dev_pagemap`), may sleep.
    fn memory_failure(
        data: <Self::Data as ForeignOwnable>::Borrowed<'_>,
        pfn: u64,
        nr_pages: u64,
        flags: MfFlags,
    ) -> Result;
}

/// A `dev_pagemap` of type `MEMORY_DEVICE_FS_DAX` whose memory failures go
/// to `T`.
///
/// # Invariants
///
/// `pgmap` is zeroed device-managed memory of the probed device: it lives
/// until that device is unbound, after the mapping it describes is gone.
/// Its `owner` is null or the foreign pointer of a [`Bound`] `T::Data` of
/// that device, which lives until after the mapping is gone.
pub(crate) struct PageMap<T: Operations> {
    pgmap: *mut sys::dev_pagemap,
    _ops: PhantomData<T>,
}

impl<T: Operations> PageMap<T> {
    const OPS: sys::dev_pagemap_ops = sys::dev_pagemap_ops {
        memory_failure: Some(Self::memory_failure_callback),
        ..pin_init::zeroed()
    };

    /// A zeroed page map, freed when `dev` is unbound.
    pub(crate) fn new(dev: &NdDevice<Core>) -> Result<Self> {
        // INVARIANT: Zeroed, device managed, no owner.
        Ok(Self {
            pgmap: dev.alloc_zeroed::<sys::dev_pagemap>()?,
            _ops: PhantomData,
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

    /// Creates the struct pages and maps the range until `dev` is unbound.
    pub(crate) fn map(&self, dev: &NdDevice<Core>) -> Result<PmemMap> {
        let range = self.range();
        // SAFETY: By the type invariant `pgmap` is valid and lives past the
        // unmapping devres action registered here; `OPS` is static.
        let addr = unsafe {
            (*self.pgmap).type_ = sys::memory_type_MEMORY_DEVICE_FS_DAX;
            (*self.pgmap).ops = &Self::OPS;
            sys::devm_memremap_pages(dev.as_raw(), self.pgmap)
        };
        // SAFETY: `devm_memremap_pages` mapped `range` until unbind.
        unsafe {
            PmemMap::new(
                from_err_ptr(addr)?.cast(),
                range.start,
                range.end - range.start,
            )
        }
    }

    /// Routes the map's memory failures to `owner` from now on (before,
    /// they get `EOPNOTSUPP`).
    ///
    /// `memory_failure` runs with a reference to the page map
    /// (`get_dev_pagemap`), and `memunmap_pages` waits for every such
    /// reference at unbind, before the driver data goes (it is released
    /// after every devres action registered after it, the mapping's too).
    pub(crate) fn set_owner(&self, owner: &Bound<'_, T::Data>) {
        // SAFETY: By the type invariant `pgmap` is valid; `owner` is a
        // pointer-sized, aligned field that the callback reads atomically.
        let slot = unsafe { AtomicPtr::from_ptr(&raw mut (*self.pgmap).owner) };
        // INVARIANT: The data of a `Bound` of this device.
        slot.store(owner.as_foreign(), Ordering::Release);
    }

    /// `dev_pagemap_ops.memory_failure`.
    ///
    /// # Safety
    ///
    /// Called by `memory_failure()` for pages of a page map mapped by
    /// [`Self::map`], with a reference to it held.
    unsafe extern "C" fn memory_failure_callback(
        pgmap: *mut sys::dev_pagemap,
        pfn: kernel::ffi::c_ulong,
        nr_pages: kernel::ffi::c_ulong,
        mf_flags: i32,
    ) -> i32 {
        // SAFETY: By the caller `pgmap` is valid; see `set_owner`.
        let slot = unsafe { AtomicPtr::from_ptr(&raw mut (*pgmap).owner) };
        let owner = slot.load(Ordering::Acquire);
        if owner.is_null() {
            return EOPNOTSUPP.to_errno();
        }
        // SAFETY: By the type invariant the owner is the data of a `Bound`,
        // released only after `memunmap_pages` waited for the caller's
        // reference to the page map.
        let data = unsafe { T::Data::borrow(owner) };
        from_result(|| {
            T::memory_failure(data, pfn as u64, nr_pages as u64, MfFlags(mf_flags)).map(|()| 0)
        })
    }
}
