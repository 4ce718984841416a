// SPDX-License-Identifier: GPL-2.0

//! rpmem: a persistent memory driver (block device and DAX device) for nd
//! namespaces, in Rust, that makes media errors survivable.
//!
//! Layers: `sys` (generated bindings and the C glue) is the raw interface;
//! `badblocks`, `nd`, `disk`, `dax`, `pagemap` and `mem` wrap it in safe
//! types; `pmem` is the driver logic, `poison` its poison store (with
//! `rcu_extents`, its lock-free lookup table) and `debugfs` its debug files;
//! `glue` holds the entry points the C tables call; `range`, `extents`,
//! `kaddr` and `parse` are pure logic, tested on the host too.

use kernel::{error::to_result, prelude::*};

mod badblocks;
mod dax;
mod debugfs;
mod disk;
#[allow(unreachable_pub)]
mod extents;
mod glue;
mod mem;
mod nd;
mod pagemap;
// Pure logic shared with the host test crate (tools/testing/rpmem/host),
// where its items are `pub`.
#[allow(unreachable_pub)]
mod kaddr;
#[allow(unreachable_pub)]
mod parse;
mod pmem;
mod poison;
#[allow(unreachable_pub)]
mod range;
mod rcu_extents;
mod sys;
#[cfg(CONFIG_KUNIT)]
mod tests;

module! {
    type: Rpmem,
    name: "rpmem",
    authors: ["rpmem developers"],
    description: "Persistent memory block and DAX driver with poison recovery",
    license: "GPL",
}

/// The module: its nd driver (`nd_rpmem`) is registered while it is loaded,
/// and its debugfs directory exists meanwhile.
struct Rpmem {
    /// Dropped after `drop` unregistered the driver (and so removed every
    /// device's directory below it).
    _debugfs: debugfs::Root,
}

impl kernel::Module for Rpmem {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let debugfs = debugfs::Root::new()?;
        // SAFETY: Registers the static driver of rpmem_glue.c once; `Drop`
        // unregisters it.
        to_result(unsafe { sys::rpmem_nd_driver_register() })?;
        Ok(Rpmem { _debugfs: debugfs })
    }
}

impl Drop for Rpmem {
    fn drop(&mut self) {
        // SAFETY: Registered by `init`.
        unsafe { sys::rpmem_nd_driver_unregister() };
    }
}
