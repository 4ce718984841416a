// SPDX-License-Identifier: GPL-2.0

//! The raw interface: generated bindings for the nvdimm, dax and badblocks
//! headers (see rust/bindgen.sh) and the C glue of rust/rpmem_glue.c.
//!
//! Names the kernel crate already binds (`device`, `gendisk`, `bio`,
//! `dev_pagemap`, ...) come from `kernel::bindings`, so values pass between
//! the two without casts; rpmem's own run adds only the nd/dax/badblocks
//! names. The safe wrappers in this crate are the only users of this module.

#[allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    dead_code,
    unreachable_pub,
    improper_ctypes,
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::restriction,
    clippy::nursery,
    clippy::undocumented_unsafe_blocks,
    clippy::missing_safety_doc
)]
mod generated {
    pub use kernel::bindings::*;
    use kernel::ffi;
    include!("bindings_generated.rs");
}

pub(crate) use generated::*;
