// SPDX-License-Identifier: GPL-2.0

//! DAX devices: the direct access through which file systems map a
//! namespace (include/linux/dax.h). A driver implements [`Operations`];
//! [`DaxDevice::new`] builds the C `dax_operations` table from it.

use super::{
    disk::{self, GenDisk},
    kaddr::{AccessMode, Kaddr, KaddrRequest},
    nd::{Bound, Unbind},
    pagemap::MfFlags,
    sys,
};
use core::{
    marker::PhantomData,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
};
use kernel::{
    error::{from_err_ptr, from_result, to_result},
    iov::IovIterSource,
    prelude::*,
    sync::Arc,
    types::ForeignOwnable,
};

/// What `direct_access` hands out: pages of the device's own mapping, made
/// by [`PmemMap::access`](super::mem::PmemMap::access) only, so that an
/// implementation cannot hand the DAX core (which maps the page frames and
/// copies through the address) anything else.
///
/// # Invariants
///
/// `pages` (at least one) pages from `kaddr` (with the request's mode) and
/// from page frame `pfn` are mapped pmem of one device.
pub(crate) struct Access {
    pub(super) pages: u64,
    pub(super) kaddr: Kaddr,
    pub(super) pfn: u64,
}

impl Access {
    /// Pages usable from the requested one.
    #[inline]
    pub(crate) fn pages(&self) -> u64 {
        self.pages
    }
}

/// A `recovery_write` as the DAX core hands it over: `len` bytes from the
/// writer's source to the kernel address `addr`, which a recovery-mode
/// `direct_access` of the device handed out for the page.
pub(crate) struct RecoveryWrite<'a> {
    /// The kernel address written to.
    pub(crate) addr: usize,
    /// Bytes to write.
    pub(crate) len: usize,
    /// The data.
    pub(crate) src: &'a mut IovIterSource<'a>,
}

/// The operations of a DAX device, called by the DAX core inside a
/// `dax_read_lock()` section while the device is alive (until
/// [`DaxDevice::kill`]).
pub(crate) trait Operations: 'static {
    /// The driver data the callbacks get (see [`DaxDevice::new`]).
    type Data: ForeignOwnable + Send + Sync;

    /// Maps `nr_pages` pages from `pgoff` for `req`: the pages usable (at
    /// least one), their address and first page frame; never sleeps.
    fn direct_access(
        data: <Self::Data as ForeignOwnable>::Borrowed<'_>,
        pgoff: u64,
        nr_pages: u64,
        req: KaddrRequest,
    ) -> Result<Access>;

    /// Zeroes `nr_pages` pages from `pgoff`, clearing poison; may sleep.
    fn zero_page_range(
        data: <Self::Data as ForeignOwnable>::Borrowed<'_>,
        pgoff: u64,
        nr_pages: u64,
    ) -> Result;

    /// Writes over poison at page `pgoff`; the bytes written, 0 when
    /// nothing could be (fs/dax.c reports `EFAULT`). May sleep.
    fn recovery_write(
        data: <Self::Data as ForeignOwnable>::Borrowed<'_>,
        pgoff: u64,
        write: RecoveryWrite<'_>,
    ) -> usize;
}

/// The access mode of the kernel's `enum dax_access_mode`.
fn access_mode(mode: sys::dax_access_mode) -> AccessMode {
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

/// A `dax_device` whose operations are `T`'s.
///
/// # Invariants
///
/// `inner` is shared with the devres action that kills the device when its
/// nd device is unbound (registered by [`Self::new`]): the device is killed
/// by whichever comes first, that action or this value's drop, and its
/// reference is put when both are gone.
pub(crate) struct DaxDevice<T: Operations> {
    inner: Arc<Inner>,
    _ops: PhantomData<T>,
}

/// The reference to a `dax_device` and its state.
///
/// # Invariants
///
/// `dax` was returned by `alloc_dax` with the foreign pointer of a
/// [`Bound`] driver data as its private data, and this value holds its
/// reference; `host` is 0 or the disk it was added as host of (a key of
/// the DAX core's host table, never dereferenced); `alive` is true until
/// [`Inner::unbind`] removed the host and killed the device. It is killed at
/// the latest by a devres action of the nd device (see [`DaxDevice`]), so
/// before the data goes.
struct Inner {
    dax: *mut sys::dax_device,
    host: AtomicUsize,
    alive: AtomicBool,
}

// SAFETY: The dax functions used here may be called from any thread.
unsafe impl Send for Inner {}
// SAFETY: See `Send`; the state is atomic.
unsafe impl Sync for Inner {}

impl Unbind for Inner {
    fn unbind(&self) {
        if !self.alive.swap(false, Ordering::AcqRel) {
            return;
        }
        let host = self.host.load(Ordering::Acquire);
        // SAFETY: By the type invariant `dax` is valid and alive, `host` its
        // added host or 0; the swap above makes this run once.
        unsafe {
            if host != 0 {
                sys::dax_remove_host(host as *mut sys::gendisk);
            }
            sys::kill_dax(self.dax);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.unbind();
        // SAFETY: By the type invariant we hold a reference.
        unsafe { sys::put_dax(self.dax) };
    }
}

impl<T: Operations> DaxDevice<T> {
    const OPS: sys::dax_operations = sys::dax_operations {
        direct_access: Some(Self::direct_access_callback),
        zero_page_range: Some(Self::zero_page_range_callback),
        recovery_write: Some(Self::recovery_write_callback),
    };

    /// Allocates a DAX device whose callbacks get `data`; `None` when the
    /// kernel has no DAX support (`-EOPNOTSUPP`, as nd_pmem). It is killed
    /// when the nd device is unbound, before the data goes, or before that
    /// by [`Self::kill`] or the drop of this value.
    pub(crate) fn new(data: &Bound<'_, T::Data>, sync: bool) -> Result<Option<Self>> {
        // SAFETY: `OPS` is static; the private data is the foreign pointer
        // of `data`, valid until the device is unbound, when the action
        // registered below has killed the device (no callback runs after
        // `kill_dax`).
        let dax = match from_err_ptr(unsafe { sys::alloc_dax(data.as_foreign(), &Self::OPS) }) {
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
        let inner = Arc::new(
            Inner {
                dax,
                host: AtomicUsize::new(0),
                alive: AtomicBool::new(true),
            },
            GFP_KERNEL,
        )?;
        // If this fails, the device is killed now.
        data.device().unbind_with(inner.clone())?;
        Ok(Some(Self {
            inner,
            _ops: PhantomData,
        }))
    }

    /// Makes `disk` the host of this DAX device (`fs_dax_get_by_bdev`), once.
    pub(crate) fn add_host<D: disk::Operations>(&self, disk: &GenDisk<D>) -> Result {
        let key = disk.as_raw() as usize;
        if self
            .inner
            .host
            .compare_exchange(0, key, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(EBUSY);
        }
        // SAFETY: By the type invariant `dax` is valid; the key is unique to
        // the disk while it is allocated.
        let rc = to_result(unsafe { sys::dax_add_host(self.inner.dax, disk.as_raw()) });
        if rc.is_err() {
            self.inner.host.store(0, Ordering::Release);
        }
        rc
    }

    /// Unlinks the host and kills the device (nd_pmem's order in
    /// `pmem_release_disk`): the holder (file system) is told first that
    /// the whole device goes away (`MF_MEM_PRE_REMOVE`), then
    /// `direct_access` and failure notifications stop; on return no
    /// callback runs any more. Once; later calls do nothing. The reference
    /// is kept until drop, so late callers of [`Self::notify_failure`] get
    /// `ENXIO`. May sleep.
    pub(crate) fn kill(&self) {
        self.inner.unbind();
    }

    /// Whether the DAX core caches writes (`/sys/block/pmemN/dax/write_cache`).
    pub(crate) fn write_cache(&self) -> bool {
        // SAFETY: By the type invariant `dax` is valid.
        unsafe { sys::dax_write_cache_enabled(self.inner.dax) }
    }

    pub(crate) fn set_write_cache(&self, on: bool) {
        // SAFETY: By the type invariant `dax` is valid.
        unsafe { sys::dax_write_cache(self.inner.dax, on) };
    }

    /// Tells the holder (the file system) that `off..off + len` of the
    /// device failed: it kills or informs the owners of that data.
    pub(crate) fn notify_failure(&self, off: u64, len: u64, flags: MfFlags) -> Result {
        // SAFETY: By the type invariant `dax` is valid.
        to_result(unsafe { sys::dax_holder_notify_failure(self.inner.dax, off, len, flags.raw()) })
    }

    /// The data of a DAX device of this type.
    ///
    /// # Safety
    ///
    /// `dax` must be a device made by [`Self::new`], alive, in a
    /// `dax_read_lock()` section.
    unsafe fn data<'a>(dax: *mut sys::dax_device) -> <T::Data as ForeignOwnable>::Borrowed<'a> {
        // SAFETY: By the type invariant the private data is a `Bound`
        // foreign pointer, valid while the device is alive (the read
        // section keeps it so: `kill_dax` waits for it).
        unsafe { T::Data::borrow(sys::dax_get_private(dax)) }
    }

    /// `dax_operations.direct_access`. `*kaddr` is output only: fs/dax.c
    /// passes it uninitialised.
    ///
    /// # Safety
    ///
    /// Called by the DAX core for a live device of this type inside a
    /// `dax_read_lock` section; `kaddr` and `pfn` are null or writable.
    unsafe extern "C" fn direct_access_callback(
        dax: *mut sys::dax_device,
        pgoff: kernel::ffi::c_ulong,
        nr_pages: kernel::ffi::c_long,
        mode: sys::dax_access_mode,
        kaddr: *mut *mut kernel::ffi::c_void,
        pfn: *mut kernel::ffi::c_ulong,
    ) -> kernel::ffi::c_long {
        let Ok(nr_pages) = u64::try_from(nr_pages) else {
            return EINVAL.to_errno() as kernel::ffi::c_long;
        };
        let req = KaddrRequest::new(access_mode(mode));
        // SAFETY: By the caller.
        let data = unsafe { Self::data(dax) };
        match T::direct_access(data, pgoff as u64, nr_pages, req) {
            Ok(access) => {
                // SAFETY: By the caller both are null or valid for writes.
                unsafe {
                    if !kaddr.is_null() {
                        *kaddr = access.kaddr.addr() as *mut kernel::ffi::c_void;
                    }
                    if !pfn.is_null() {
                        *pfn = access.pfn as kernel::ffi::c_ulong;
                    }
                }
                access.pages.try_into().unwrap_or(kernel::ffi::c_long::MAX)
            }
            Err(e) => e.to_errno() as kernel::ffi::c_long,
        }
    }

    /// `dax_operations.zero_page_range`.
    ///
    /// # Safety
    ///
    /// As [`Self::direct_access_callback`].
    unsafe extern "C" fn zero_page_range_callback(
        dax: *mut sys::dax_device,
        pgoff: kernel::ffi::c_ulong,
        nr_pages: usize,
    ) -> i32 {
        // SAFETY: By the caller.
        let data = unsafe { Self::data(dax) };
        from_result(|| T::zero_page_range(data, pgoff as u64, nr_pages as u64).map(|()| 0))
    }

    /// `dax_operations.recovery_write`.
    ///
    /// # Safety
    ///
    /// As [`Self::direct_access_callback`]; `addr` is what `direct_access`
    /// returned for `pgoff` (in recovery mode) and `iter` the writer's
    /// source, valid for the call.
    unsafe extern "C" fn recovery_write_callback(
        dax: *mut sys::dax_device,
        pgoff: kernel::ffi::c_ulong,
        addr: *mut kernel::ffi::c_void,
        bytes: usize,
        iter: *mut sys::iov_iter,
    ) -> usize {
        // SAFETY: By the caller.
        let data = unsafe { Self::data(dax) };
        // SAFETY: By the caller `iter` is a valid source for the call, used
        // by nothing else meanwhile.
        let src = unsafe { IovIterSource::from_raw(iter) };
        let write = RecoveryWrite {
            addr: addr as usize,
            len: bytes,
            src,
        };
        T::recovery_write(data, pgoff as u64, write)
    }
}

/// `rpmem_direct_access()` (include/linux/rpmem.h): `dax_direct_access()`
/// with the access mode in the low bits of the input `*kaddr`.
///
/// # Safety
///
/// `dax` must be a live DAX device and the caller must hold
/// `dax_read_lock()`; `kaddr` and `pfn` are null or valid for reads and
/// writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_direct_access(
    dax: *mut sys::dax_device,
    pgoff: kernel::ffi::c_ulong,
    nr_pages: kernel::ffi::c_long,
    kaddr: *mut *mut kernel::ffi::c_void,
    pfn: *mut kernel::ffi::c_ulong,
) -> kernel::ffi::c_long {
    let req = if kaddr.is_null() {
        KaddrRequest::new(AccessMode::Failfast)
    } else {
        // SAFETY: By the caller `kaddr` is valid for reads.
        match KaddrRequest::from_raw(unsafe { *kaddr } as usize) {
            Ok(req) => req,
            Err(_) => return EINVAL.to_errno() as kernel::ffi::c_long,
        }
    };
    // SAFETY: By the caller; `dax_direct_access` writes the untagged
    // address handed out by the device's `direct_access`.
    unsafe {
        sys::dax_direct_access(
            dax,
            pgoff,
            nr_pages,
            raw_access_mode(req.mode()),
            kaddr,
            pfn,
        )
    }
}

super::checked_prototypes!(rpmem_direct_access);
