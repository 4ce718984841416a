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
    num::casts::IntoSafeCast,
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
    /// The driver data the owner is borrowed from (see
    /// [`MappedPageMap::set_owner`]).
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
/// to `T`, before it is mapped: its range is set once ([`Self::setup_pfn`]
/// or [`Self::set_range`]), then [`Self::map`] consumes it.
///
/// # Invariants
///
/// `pgmap` is device-managed memory of the probed device, zeroed but for
/// the range (and altmap) once `configured`: it lives until that device is
/// unbound, after the mapping it describes is gone. It is not mapped.
pub(crate) struct PageMap<T: Operations> {
    pgmap: *mut sys::dev_pagemap,
    configured: bool,
    _ops: PhantomData<T>,
}

/// A mapped [`PageMap`]: its memory failures go to `T` once an owner is set.
///
/// # Invariants
///
/// `pgmap` is a page map mapped by [`PageMap::map`]; its `owner` is null or
/// the foreign pointer of a [`Bound`] `T::Data` of the device, which lives
/// until after the mapping is gone.
pub(crate) struct MappedPageMap<T: Operations> {
    pgmap: *mut sys::dev_pagemap,
    _ops: PhantomData<T>,
}

/// The physical range of a page map, end exclusive.
///
/// # Safety
///
/// `pgmap` must be valid.
unsafe fn range_of(pgmap: *mut sys::dev_pagemap) -> Range<u64> {
    // SAFETY: By the caller.
    let r = unsafe { *(*pgmap).__bindgen_anon_1.range.as_ref() };
    r.start..r.end + 1
}

impl<T: Operations> PageMap<T> {
    const OPS: sys::dev_pagemap_ops = sys::dev_pagemap_ops {
        memory_failure: Some(Self::memory_failure_callback),
        ..pin_init::zeroed()
    };

    /// A zeroed page map, freed when `dev` is unbound.
    pub(crate) fn new(dev: &NdDevice<Core>) -> Result<Self> {
        // INVARIANT: Zeroed, device managed, not configured.
        Ok(Self {
            pgmap: dev.alloc_zeroed::<sys::dev_pagemap>()?,
            configured: false,
            _ops: PhantomData,
        })
    }

    /// Fills the range (and altmap) from a pfn device's info block, which
    /// it returns; `EBUSY` if the range is set already.
    pub(crate) fn setup_pfn(&mut self, pfn: &Pfn<'_>) -> Result<PfnInfo> {
        if self.configured {
            return Err(EBUSY);
        }
        // SAFETY: By the type invariant `pgmap` is valid and still zeroed.
        let info = unsafe { pfn.setup(self.pgmap) }?;
        // INVARIANT: The range is set.
        self.configured = true;
        Ok(info)
    }

    /// Covers the physical `range` (a raw namespace with struct pages);
    /// `EBUSY` if the range is set already, `EINVAL` if it is empty.
    pub(crate) fn set_range(&mut self, range: &Range<u64>) -> Result {
        if self.configured {
            return Err(EBUSY);
        }
        if range.is_empty() {
            return Err(EINVAL);
        }
        // SAFETY: By the type invariant `pgmap` is valid; not yet mapped.
        unsafe {
            *(*self.pgmap).__bindgen_anon_1.range.as_mut() = sys::range {
                start: range.start,
                end: range.end - 1,
            };
            (*self.pgmap).nr_range = 1;
        }
        // INVARIANT: The range is set.
        self.configured = true;
        Ok(())
    }

    /// Creates the struct pages and maps the range until `dev` is unbound;
    /// `EINVAL` if no range is set.
    pub(crate) fn map(self, dev: &NdDevice<Core>) -> Result<(MappedPageMap<T>, PmemMap)> {
        if !self.configured {
            return Err(EINVAL);
        }
        // SAFETY: By the type invariant `pgmap` is valid.
        let range = unsafe { range_of(self.pgmap) };
        // SAFETY: By the type invariant `pgmap` is valid, configured and not
        // mapped (`self` is consumed); it lives past the unmapping devres
        // action registered here; `OPS` is static.
        let addr = unsafe {
            (*self.pgmap).type_ = sys::memory_type_MEMORY_DEVICE_FS_DAX;
            (*self.pgmap).ops = &Self::OPS;
            sys::devm_memremap_pages(dev.as_raw(), self.pgmap)
        };
        let addr = from_err_ptr(addr)?;
        // SAFETY: `devm_memremap_pages` mapped `range` until unbind.
        let map = unsafe { PmemMap::new(addr.cast(), range.start, range.end - range.start) }?;
        // INVARIANT: Mapped, no owner yet.
        let mapped = MappedPageMap {
            pgmap: self.pgmap,
            _ops: PhantomData,
        };
        Ok((mapped, map))
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
        // SAFETY: By the type invariant of `MappedPageMap` the owner is the
        // data of a `Bound`, released only after `memunmap_pages` waited for
        // the caller's reference to the page map.
        let data = unsafe { T::Data::borrow(owner) };
        let (pfn, nr_pages) = (pfn.into_safe_cast(), nr_pages.into_safe_cast());
        from_result(|| T::memory_failure(data, pfn, nr_pages, MfFlags(mf_flags)).map(|()| 0))
    }
}

impl<T: Operations> MappedPageMap<T> {
    /// The physical range covered, end exclusive.
    pub(crate) fn range(&self) -> Range<u64> {
        // SAFETY: By the type invariant `pgmap` is valid.
        unsafe { range_of(self.pgmap) }
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
}
