// SPDX-License-Identifier: GPL-2.0

//! The current task's privileges.

use super::sys;

/// Whether the current task may administer the system
/// (`capable(CAP_SYS_ADMIN)`, audited as the kernel does for every such
/// check): what a write to a device's control files (injecting or clearing
/// poison, switching the write cache or the clearing policy) requires, on
/// top of the files' modes.
pub(crate) fn capable_sys_admin() -> bool {
    // SAFETY: Reads the current task's credentials; callable from any
    // process context.
    unsafe { sys::capable(sys::CAP_SYS_ADMIN as i32) }
}
