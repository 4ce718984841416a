// SPDX-License-Identifier: GPL-2.0

//! The abstraction layer of rpmem: safe types over the kernel interfaces
//! the kernel crate does not wrap yet (the nvdimm bus, DAX devices, fsdax
//! page maps, bio-based disks, `struct badblocks`, pmem copies and poison
//! flags). Laid out as the kernel's own rust/kernel/ tree, it is the part of
//! rpmem that could move into the kernel crate; the driver logic in
//! drivers/nvdimm/rpmem/ uses it and nothing below it.
//!
//! `sys` is the raw interface: bindings generated for the nvdimm, dax and
//! badblocks headers and the C glue of rust/rpmem_glue.c. Every other
//! module wraps it in types with `# Invariants`.

pub(crate) mod badblocks;
pub(crate) mod cred;
pub(crate) mod dax;
pub(crate) mod debugfs;
pub(crate) mod disk;
// Pure logic shared with the host test crate (tools/testing/rpmem/host),
// where its items are `pub`.
#[allow(unreachable_pub)]
pub(crate) mod kaddr;
pub(crate) mod mem;
pub(crate) mod nd;
pub(crate) mod pagemap;
pub(crate) mod param;
pub(crate) mod maple;
pub(crate) mod sys;
#[cfg(CONFIG_KUNIT)]
mod tests;

/// The page size as a `u32`, the type of the block layer's lengths and
/// offsets within a page.
pub(crate) const PAGE_SIZE_U32: u32 = {
    let size = kernel::page::PAGE_SIZE;
    assert!(size <= u32::MAX as usize);
    size as u32
};

/// For each name, a compile-time check that the Rust function has exactly
/// the type of the C prototype that bindgen generated for it from
/// rust/rpmem_glue.h or include/linux/rpmem.h (both arms of an `if` must
/// have one type), as the kernel crate's `#[export]` does for its own
/// bindings.
macro_rules! checked_prototypes {
    ($($name:ident),* $(,)?) => {
        $(
            const _: () = {
                if true {
                    $crate::kernel_ext::sys::$name
                } else {
                    $name
                };
            };
        )*
    };
}
pub(crate) use checked_prototypes;
