// SPDX-License-Identifier: GPL-2.0

//! String-valued module parameters. The kernel crate's parameters are
//! integers and booleans; a parameter whose value is a name is declared in
//! the C glue (`module_param_cb`, a macro), whose `kernel_param_ops` call
//! the two entry points that [`string_param_ops!`] defines for a
//! [`StringParam`].

use kernel::prelude::*;

/// A module parameter whose value is one of a few names.
pub(crate) trait StringParam {
    /// Takes `input` (what was written, without the trailing NUL; a
    /// trailing newline is the implementation's to accept); bad input is
    /// refused (`EINVAL`) and changes nothing.
    fn set(input: &[u8]) -> Result;

    /// The current value's name.
    fn get() -> &'static str;
}

/// `kernel_param_ops.set` of `T`.
///
/// # Safety
///
/// Called by the module parameter code with null or a NUL-terminated `val`.
pub(crate) unsafe fn set<T: StringParam>(val: *const kernel::ffi::c_char) -> i32 {
    if val.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: By the caller `val` is NUL-terminated.
    let input = unsafe { CStr::from_char_ptr(val) }.to_bytes();
    match T::set(input) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `kernel_param_ops.get` of `T`: the name and a newline.
///
/// # Safety
///
/// Called by the module parameter code with a page-sized `buf`.
pub(crate) unsafe fn get<T: StringParam>(buf: *mut kernel::ffi::c_char) -> i32 {
    let name = T::get().as_bytes();
    let len = name.len().min(kernel::page::PAGE_SIZE - 1);
    // SAFETY: By the caller `buf` holds a page; `len + 1` bytes fit.
    unsafe {
        core::ptr::copy_nonoverlapping(name.as_ptr(), buf.cast::<u8>(), len);
        *buf.add(len) = b'\n' as kernel::ffi::c_char;
    }
    i32::try_from(len + 1).unwrap_or(i32::MAX)
}

/// Defines `$set` and `$get`, the entry points of the C glue's
/// `kernel_param_ops` for the [`StringParam`] `$param`, checked against
/// their C prototypes (rust/rpmem_glue.h).
macro_rules! string_param_ops {
    ($param:ty, $set:ident, $get:ident) => {
        /// `kernel_param_ops.set`.
        ///
        /// # Safety
        ///
        /// Called by the module parameter code with null or a
        /// NUL-terminated `val`.
        #[no_mangle]
        unsafe extern "C" fn $set(
            val: *const kernel::ffi::c_char,
            _kp: *const $crate::kernel_ext::sys::kernel_param,
        ) -> i32 {
            // SAFETY: By the caller.
            unsafe { $crate::kernel_ext::param::set::<$param>(val) }
        }

        /// `kernel_param_ops.get`.
        ///
        /// # Safety
        ///
        /// Called by the module parameter code with a page-sized `buf`.
        #[no_mangle]
        unsafe extern "C" fn $get(
            buf: *mut kernel::ffi::c_char,
            _kp: *const $crate::kernel_ext::sys::kernel_param,
        ) -> i32 {
            // SAFETY: By the caller.
            unsafe { $crate::kernel_ext::param::get::<$param>(buf) }
        }

        $crate::kernel_ext::checked_prototypes!($set, $get);
    };
}
pub(crate) use string_param_ops;
