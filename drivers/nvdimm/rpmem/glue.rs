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
        kaddr::{AccessMode, KaddrRequest},
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
    rpmem_direct_access,
    rpmem_write_cache_show,
    rpmem_write_cache_store,
    rpmem_badblocks_show,
    rpmem_badblocks_store,
    rpmem_clear_poison_set,
    rpmem_clear_poison_get,
    rpmem_debugfs_show,
    rpmem_debugfs_write,
);

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

/// `/sys/block/pmemN/dax/write_cache` show: `0` or `1` and a newline.
///
/// # Safety
///
/// Called by sysfs for an added disk of rpmem with a page-sized buffer.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_write_cache_show(
    disk: *mut sys::gendisk,
    buf: *mut kernel::ffi::c_char,
) -> isize {
    // SAFETY: By the caller.
    match unsafe { disk_pmem(disk) }.write_cache() {
        Ok(on) => {
            // SAFETY: By the caller `buf` holds a page.
            unsafe {
                *buf = if on { b'1' } else { b'0' } as kernel::ffi::c_char;
                *buf.add(1) = b'\n' as kernel::ffi::c_char;
            }
            2
        }
        Err(e) => e.to_errno() as isize,
    }
}

/// `/sys/block/pmemN/dax/write_cache` store: a boolean (`kstrtobool`).
///
/// # Safety
///
/// Called by sysfs for an added disk of rpmem with `len` bytes at `buf`.
#[no_mangle]
pub(crate) unsafe extern "C" fn rpmem_write_cache_store(
    disk: *mut sys::gendisk,
    buf: *const kernel::ffi::c_char,
    len: usize,
) -> isize {
    // SAFETY: By the caller `buf` holds `len` bytes.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), len) };
    let Ok(on) = crate::parse::boolean(input) else {
        return EINVAL.to_errno() as isize;
    };
    // SAFETY: By the caller.
    match unsafe { disk_pmem(disk) }.set_write_cache(on) {
        Ok(()) => len as isize,
        Err(e) => e.to_errno() as isize,
    }
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
