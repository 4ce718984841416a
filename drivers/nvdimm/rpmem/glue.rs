// SPDX-License-Identifier: GPL-2.0

//! The Rust entry points that the C tables of rust/rpmem_glue.c call: the
//! nd driver, `submit_bio`, the DAX operations and the page map's
//! `memory_failure`. Each turns raw pointers into the safe types and errors
//! into what C expects; no driver logic lives here.
//!
//! Their C prototypes are in rust/rpmem_glue.h and include/linux/rpmem.h,
//! which bindgen also reads (`crate::kernel_ext::sys`): [`checked_prototypes!`] makes
//! any difference between the two a build error, as the kernel crate's
//! `#[export]` does for its own bindings.

use crate::{
    kernel_ext::{
        dax,
        disk::Bio,
        kaddr::{AccessMode, KaddrRequest},
        nd::NdDevice,
        sys,
    },
    pmem::Pmem,
};
use kernel::{error::from_result, prelude::*};

/// For each name, a compile-time check that the Rust function has exactly
/// the type of the C prototype bindgen generated for it: both arms of an
/// `if` must have one type.
macro_rules! checked_prototypes {
    ($($name:ident),* $(,)?) => {
        $(
            const _: () = {
                if true {
                    sys::$name
                } else {
                    $name
                };
            };
        )*
    };
}

checked_prototypes!(
    rpmem_probe,
    rpmem_remove,
    rpmem_shutdown,
    rpmem_notify,
    rpmem_submit_bio,
    rpmem_dax_direct_access,
    rpmem_direct_access,
    rpmem_dax_zero_page_range,
    rpmem_dax_recovery_write,
    rpmem_pagemap_memory_failure,
    rpmem_disk_dax,
    rpmem_badblocks_show,
    rpmem_badblocks_store,
    rpmem_clear_poison_set,
    rpmem_clear_poison_get,
    rpmem_debugfs_show,
    rpmem_debugfs_write,
);

/// nd driver `probe`.
///
/// # Safety
///
/// Called by the nd bus with a device of type namespace io/pmem (or a pfn,
/// btt or dax device of one), under its device lock.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_probe(dev: *mut sys::device) -> i32 {
    // SAFETY: By the caller `dev` is a valid nd device for the call.
    let dev = unsafe { NdDevice::from_raw(dev) };
    from_result(|| Pmem::probe(dev).map(|()| 0))
}

/// nd driver `remove`.
///
/// # Safety
///
/// Called by the nd bus for a device `rpmem_probe` bound, under its lock.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_remove(dev: *mut sys::device) {
    // SAFETY: By the caller `dev` is valid and bound to rpmem.
    let dev = unsafe { NdDevice::from_raw(dev) };
    dev.detach_btt();
    // The device itself goes with devres, after this returns.
    Pmem::flush(dev.region());
}

/// nd driver `shutdown`.
///
/// # Safety
///
/// Called by the driver core at shutdown for a device bound to rpmem.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_shutdown(dev: *mut sys::device) {
    // SAFETY: By the caller `dev` is valid and bound.
    let dev = unsafe { NdDevice::from_raw(dev) };
    Pmem::flush(dev.region());
}

/// nd driver `notify`: poison or region state changed on the bus.
///
/// # Safety
///
/// Called by the nd bus for a bound device, under its device lock.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_notify(dev: *mut sys::device, event: sys::nvdimm_event) {
    // SAFETY: By the caller `dev` is valid and bound.
    let dev = unsafe { NdDevice::from_raw(dev) };
    // SAFETY: Bound, and the device lock keeps it so.
    let Some(pmem) = (unsafe { Pmem::from_dev(&dev) }) else {
        return;
    };
    match event {
        sys::nvdimm_event_NVDIMM_REVALIDATE_POISON => pmem.revalidate_poison(),
        sys::nvdimm_event_NVDIMM_REVALIDATE_REGION => pmem.revalidate_region(),
        _ => dev_warn!(dev.device(), "notify: unknown event: {}\n", event),
    }
}

/// `block_device_operations.submit_bio`.
///
/// # Safety
///
/// Called by the block layer with a bio for a disk of rpmem.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_submit_bio(bio: *mut sys::bio) {
    // SAFETY: By the caller the bio is ours to complete.
    let bio = unsafe { Bio::from_raw(bio) };
    // SAFETY: By the caller the bio is for a disk of rpmem.
    let pmem = unsafe { Pmem::from_bio(&bio) };
    pmem.submit_bio(bio);
}

/// `dax_operations.direct_access`. `*kaddr` is output only: fs/dax.c passes
/// it uninitialised.
///
/// # Safety
///
/// Called by the DAX core for a live DAX device of rpmem, inside a
/// `dax_read_lock` section; `kaddr` and `pfn` are null or writable.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_dax_direct_access(
    dax: *mut sys::dax_device,
    pgoff: kernel::ffi::c_ulong,
    nr_pages: kernel::ffi::c_long,
    mode: sys::dax_access_mode,
    kaddr: *mut *mut kernel::ffi::c_void,
    pfn: *mut kernel::ffi::c_ulong,
) -> kernel::ffi::c_long {
    // SAFETY: By the caller.
    let pmem = unsafe { Pmem::from_dax(dax) };
    let Ok(nr_pages) = u64::try_from(nr_pages) else {
        return EINVAL.to_errno() as isize;
    };
    let req = KaddrRequest::new(dax::access_mode(mode));
    match pmem.direct_access(pgoff as u64, nr_pages, req) {
        Ok(access) => {
            // SAFETY: By the caller both are null or valid for writes.
            unsafe {
                if !kaddr.is_null() {
                    *kaddr = access.kaddr.addr() as *mut kernel::ffi::c_void;
                }
                if !pfn.is_null() {
                    *pfn = access.pfn as usize;
                }
            }
            access.pages as isize
        }
        Err(e) => e.to_errno() as isize,
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
            Err(_) => return EINVAL.to_errno() as isize,
        }
    };
    // SAFETY: By the caller; `dax_direct_access` writes the untagged
    // address handed out by the device's `direct_access`.
    unsafe {
        sys::dax_direct_access(
            dax,
            pgoff,
            nr_pages,
            dax::raw_access_mode(req.mode()),
            kaddr,
            pfn,
        )
    }
}

/// `dax_operations.zero_page_range`.
///
/// # Safety
///
/// As [`rpmem_dax_direct_access`].
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_dax_zero_page_range(
    dax: *mut sys::dax_device,
    pgoff: kernel::ffi::c_ulong,
    _nr_pages: usize,
) -> i32 {
    // SAFETY: By the caller.
    let pmem = unsafe { Pmem::from_dax(dax) };
    from_result(|| pmem.zero_page_range(pgoff as u64).map(|()| 0))
}

/// `dax_operations.recovery_write`.
///
/// # Safety
///
/// As [`rpmem_dax_direct_access`]; `addr` is what `direct_access` returned
/// for `pgoff` (in recovery mode) and `iter` the writer's source.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_dax_recovery_write(
    dax: *mut sys::dax_device,
    pgoff: kernel::ffi::c_ulong,
    addr: *mut kernel::ffi::c_void,
    bytes: usize,
    iter: *mut sys::iov_iter,
) -> usize {
    // SAFETY: By the caller.
    let pmem = unsafe { Pmem::from_dax(dax) };
    // SAFETY: By the caller.
    unsafe { pmem.recovery_write(pgoff as u64, addr.cast(), bytes, iter) }
}

/// `dev_pagemap_ops.memory_failure`.
///
/// # Safety
///
/// Called by memory_failure() for pages of a page map rpmem mapped.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_pagemap_memory_failure(
    pgmap: *mut sys::dev_pagemap,
    pfn: kernel::ffi::c_ulong,
    nr_pages: kernel::ffi::c_ulong,
    mf_flags: i32,
) -> i32 {
    // SAFETY: By the caller.
    let Some(pmem) = (unsafe { Pmem::from_pagemap(pgmap) }) else {
        return EOPNOTSUPP.to_errno();
    };
    from_result(|| {
        pmem.memory_failure(pfn as u64, nr_pages as u64, mf_flags)
            .map(|()| 0)
    })
}

/// The DAX device of a disk of rpmem (for `/sys/block/pmemN/dax/write_cache`).
///
/// # Safety
///
/// `disk` must be an added disk of rpmem.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_disk_dax(disk: *mut sys::gendisk) -> *mut sys::dax_device {
    // SAFETY: By the caller.
    unsafe { disk_pmem(disk) }.dax_raw()
}

/// The device behind a disk of rpmem.
///
/// # Safety
///
/// `disk` must be an added disk of rpmem, used from one of its sysfs files.
unsafe fn disk_pmem<'a>(disk: *mut sys::gendisk) -> &'a Pmem {
    // SAFETY: By the caller the disk is rpmem's and its sysfs files, which
    // go before the device is released, are in use.
    unsafe { Pmem::from_disk(disk) }
}

/// `/sys/block/pmemN/badblocks` show.
///
/// # Safety
///
/// Called by sysfs for an added disk of rpmem with a page-sized buffer.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_badblocks_show(
    disk: *mut sys::gendisk,
    buf: *mut kernel::ffi::c_char,
) -> isize {
    // SAFETY: By the caller.
    unsafe { disk_pmem(disk).badblocks_show(buf) }
}

/// `/sys/block/pmemN/badblocks` store.
///
/// # Safety
///
/// Called by sysfs for an added disk of rpmem with `len` bytes at `buf`.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_badblocks_store(
    disk: *mut sys::gendisk,
    buf: *const kernel::ffi::c_char,
    len: usize,
) -> isize {
    // SAFETY: By the caller `buf` holds `len` bytes.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), len) };
    // SAFETY: By the caller.
    match unsafe { disk_pmem(disk) }.badblocks_store(input) {
        Ok(()) => len as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `clear_poison` parameter `set` (module load and
/// `/sys/module/rpmem/parameters/clear_poison`): a bad name is refused with
/// `EINVAL` and leaves the policy unchanged.
///
/// # Safety
///
/// Called by the module parameter code with a NUL-terminated `val`.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_clear_poison_set(
    val: *const kernel::ffi::c_char,
    _kp: *const sys::kernel_param,
) -> i32 {
    if val.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: By the caller `val` is NUL-terminated.
    let input = unsafe { CStr::from_char_ptr(val) }.to_bytes();
    match crate::parse::clear_policy(input) {
        Ok(policy) => {
            crate::poison::set_clear_policy(policy);
            0
        }
        Err(_) => {
            pr_err!("clear_poison: expected auto, firmware or software\n");
            EINVAL.to_errno()
        }
    }
}

/// `clear_poison` parameter `get`: the policy's name and a newline.
///
/// # Safety
///
/// Called by the module parameter code with a page-sized `buf`.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_clear_poison_get(
    buf: *mut kernel::ffi::c_char,
    _kp: *const sys::kernel_param,
) -> i32 {
    let name = crate::poison::clear_policy().name().as_bytes();
    // SAFETY: By the caller `buf` holds a page, more than any name + 1.
    unsafe {
        core::ptr::copy_nonoverlapping(name.as_ptr(), buf.cast::<u8>(), name.len());
        *buf.add(name.len()) = b'\n' as kernel::ffi::c_char;
    }
    name.len() as i32 + 1
}

/// Read of a device's debugfs file (`seq_file` show, rust/rpmem_glue.c).
///
/// # Safety
///
/// Called by the glue's `single_open` show for a file of a device's debugfs
/// directory: `m` is its `seq_file`, `dev` the device the directory was
/// made for (alive while its files are), `kind` the file's aux number.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_debugfs_show(
    m: *mut sys::seq_file,
    dev: *mut kernel::ffi::c_void,
    kind: kernel::ffi::c_ulong,
) -> i32 {
    // SAFETY: By the caller `m` is valid and used by this thread only.
    let m = unsafe { kernel::seq_file::SeqFile::from_raw(m) };
    // SAFETY: By the caller `dev` is the device, alive during the call.
    let pmem = unsafe { &*dev.cast::<Pmem>() };
    from_result(|| crate::debugfs::show(pmem, kind as u64, m).map(|()| 0))
}

/// Write of a device's debugfs file (rust/rpmem_glue.c).
///
/// # Safety
///
/// Called by the glue's write for a file of a device's debugfs directory:
/// `dev` the device the directory was made for, `kind` the file's aux
/// number, `buf` the user's buffer of `len` bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_debugfs_write(
    dev: *mut kernel::ffi::c_void,
    kind: kernel::ffi::c_ulong,
    buf: *const kernel::ffi::c_char,
    len: usize,
) -> isize {
    // SAFETY: By the caller `dev` is the device, alive during the call.
    let pmem = unsafe { &*dev.cast::<Pmem>() };
    let user = kernel::uaccess::UserPtr::from_ptr(buf.cast_mut().cast());
    let mut reader = kernel::uaccess::UserSlice::new(user, len).reader();
    match crate::debugfs::write(pmem, kind as u64, &mut reader) {
        Ok(()) => len as isize,
        Err(e) => e.to_errno() as isize,
    }
}
