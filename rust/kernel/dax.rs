// SPDX-License-Identifier: GPL-2.0

//! The DAX device through which file systems map the namespace directly.

use super::{disk::GenDisk, kaddr::AccessMode, sys};
use core::{
    ptr::NonNull,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{
    error::{from_err_ptr, to_result},
    prelude::*,
};

/// The access mode of the kernel's `enum dax_access_mode`.
pub(crate) fn access_mode(mode: sys::dax_access_mode) -> AccessMode {
    if mode == sys::dax_access_mode_DAX_RECOVERY_WRITE {
        AccessMode::Recovery
    } else {
        AccessMode::Failfast
    }
}

/// The kernel's `enum dax_access_mode` of an access mode.
pub(crate) fn raw_access_mode(mode: AccessMode) -> sys::dax_access_mode {
    match mode {
        AccessMode::Failfast => sys::dax_access_mode_DAX_ACCESS,
        AccessMode::Recovery => sys::dax_access_mode_DAX_RECOVERY_WRITE,
    }
}

/// A `dax_device` whose operations are rpmem's (`rpmem_dax_ops`).
///
/// # Invariants
///
/// `dax` was returned by `alloc_dax` and this value holds its reference
/// (put when it is dropped); `host`, when set, is the disk it was added as
/// host of; `alive` is true until [`Self::kill`] removed the host and
/// killed the device.
pub(crate) struct DaxDevice {
    dax: *mut sys::dax_device,
    host: Option<NonNull<sys::gendisk>>,
    alive: AtomicBool,
}

// SAFETY: The dax functions used here may be called from any thread.
unsafe impl Send for DaxDevice {}
// SAFETY: See `Send`.
unsafe impl Sync for DaxDevice {}

impl DaxDevice {
    /// Allocates a DAX device whose callbacks get `private` back; `None`
    /// when the kernel has no DAX support (`-EOPNOTSUPP`, as nd_pmem).
    ///
    /// # Safety
    ///
    /// `private` must stay valid for the callbacks until [`Self::kill`]
    /// returns (or this is dropped): after that no callback runs.
    pub(crate) unsafe fn new(
        private: *mut kernel::ffi::c_void,
        sync: bool,
    ) -> Result<Option<Self>> {
        // SAFETY: `rpmem_dax_ops` is a static table; the caller vouches for
        // `private`.
        let dax = match from_err_ptr(unsafe { sys::alloc_dax(private, &sys::rpmem_dax_ops) }) {
            Ok(dax) => dax,
            Err(e) if e == EOPNOTSUPP => return Ok(None),
            Err(e) => return Err(e),
        };
        // SAFETY: `dax` is a fresh, valid dax device.
        unsafe {
            sys::set_dax_nocache(dax);
            sys::set_dax_nomc(dax);
            if sync {
                sys::set_dax_synchronous(dax);
            }
        }
        // INVARIANT: A fresh reference, no host yet, alive.
        Ok(Some(Self {
            dax,
            host: None,
            alive: AtomicBool::new(true),
        }))
    }

    pub(crate) fn as_raw(&self) -> *mut sys::dax_device {
        self.dax
    }

    /// Makes `disk` the host of this DAX device (`fs_dax_get_by_bdev`).
    pub(crate) fn add_host(&mut self, disk: &GenDisk) -> Result {
        // SAFETY: By the type invariant `dax` is valid; `disk` is allocated.
        to_result(unsafe { sys::dax_add_host(self.dax, disk.as_raw()) })?;
        // INVARIANT: Added; the disk outlives it (dropped after this value).
        self.host = NonNull::new(disk.as_raw());
        Ok(())
    }

    /// Unlinks the host and kills the device (nd_pmem's order in
    /// `pmem_release_disk`): the holder (file system) is told first that
    /// the whole device goes away (`MF_MEM_PRE_REMOVE`), then
    /// `direct_access` and failure notifications stop; on return no
    /// callback runs any more. Once; later calls do nothing. The reference
    /// is kept until drop, so the pointer stays valid for late callers of
    /// [`Self::notify_failure`] (which then get `ENXIO`). May sleep.
    pub(crate) fn kill(&self) {
        if !self.alive.swap(false, Ordering::AcqRel) {
            return;
        }
        // SAFETY: By the type invariant `dax` is valid and alive, `host` its
        // added host; the swap above makes this run once.
        unsafe {
            if let Some(host) = self.host {
                sys::dax_remove_host(host.as_ptr());
            }
            sys::kill_dax(self.dax);
        }
    }

    pub(crate) fn set_write_cache(&self, on: bool) {
        // SAFETY: By the type invariant `dax` is valid.
        unsafe { sys::dax_write_cache(self.dax, on) };
    }

    /// Tells the holder (the file system) that `off..off + len` of the
    /// device failed: it kills or informs the owners of that data.
    pub(crate) fn notify_failure(&self, off: u64, len: u64, mf_flags: i32) -> Result {
        // SAFETY: By the type invariant `dax` is valid.
        to_result(unsafe { sys::dax_holder_notify_failure(self.dax, off, len, mf_flags) })
    }
}

impl Drop for DaxDevice {
    fn drop(&mut self) {
        self.kill();
        // SAFETY: By the type invariant we hold a reference.
        unsafe { sys::put_dax(self.dax) };
    }
}

/// The private data of a DAX device that rpmem allocated.
///
/// # Safety
///
/// `dax` must be a dax device allocated by [`DaxDevice::new`] and still alive.
pub(crate) unsafe fn private(dax: *mut sys::dax_device) -> *mut kernel::ffi::c_void {
    // SAFETY: By the caller.
    unsafe { sys::dax_get_private(dax) }
}
