// SPDX-License-Identifier: GPL-2.0

//! rpmem: a persistent memory driver (block device and DAX device) for nd
//! namespaces, in Rust, that makes media errors survivable.
//!
//! Layers: `kernel_ext` (rust/kernel/) is the abstraction layer: `sys`
//! (generated bindings and the C glue) is the raw interface, and
//! `badblocks`, `nd`, `disk`, `dax`, `pagemap`, `mem`, `maple` and `kaddr`
//! wrap it in safe types. `pmem` is the driver logic, `poison` its poison
//! store (its lock-free lookup table is the layer's `maple` range set) and
//! `debugfs` its debug files; `range`, `extents` and `parse` are pure
//! logic, tested on the host too (with the layer's `kaddr`).
//!
//! # Lifetimes
//!
//! A bound device is the nd device's driver data (its `DataSlot`, reserved
//! by the layer's nd adapter as the first devres registration of a probe),
//! so it is released last at unbind. Devres runs, in this order:
//! `Pmem::unbind` (the DAX device killed after telling its holder,
//! `MF_MEM_PRE_REMOVE`; the disk deleted, which drains bios and removes its
//! sysfs files), the debugfs files, `memunmap_pages` (waits for every
//! `memory_failure` holding the page map), the mappings and the memory
//! region, and last the device (the DAX and disk references and the poison
//! store).
//!
//! # Locks, outermost first
//!
//! 1. The nd device's lock (driver core): probe, remove, unbind, `notify`.
//! 2. `memory_failure`'s `mf_mutex` (mm), around the page map's
//!    `memory_failure`.
//! 3. The nvdimm bus lock, then its badrange spinlock (`Region::known_poison`:
//!    nothing sleeps under them, the copy allocates `GFP_ATOMIC`). Both are
//!    released before the poison store is touched, and no store lock is
//!    held while the bus's clear-error command or `badrange_forget` runs.
//! 4. The poison store's writer mutex (`RangeSet::writer`): every change
//!    to the records. Inside it: the `struct badblocks` seqlock (writer
//!    side), the maple tree's spinlock (inside `mtree_store_range`), a
//!    grace period when the table stops being searched
//!    (`synchronize_rcu`), and allocations, all `GFP_NOIO`
//!    (a `memalloc_noio` scope), because writers run in the device's own I/O
//!    path.
//! 5. Read sides, which nest in anything and take nothing: the RCU read
//!    lock of the lookup table (the maple tree's walk), the `struct
//!    badblocks` seqlock retry loop,
//!    `dax_read_lock` (the DAX core's SRCU, held by callers of
//!    `direct_access`).
//!
//! lockdep checks this order in every test run (the test kernel has
//! `PROVE_LOCKING`).
//!
//! # What may sleep
//!
//! May sleep: probe, remove and unbind; `notify` (revalidation takes the bus
//! lock); `submit_bio` when a write meets poison (the store's mutex, the
//! bus's clear-error command: as nd_pmem's `pmem_clear_poison`), and on
//! `REQ_PREFLUSH`/`REQ_FUA` (`nvdimm_flush`); `recovery_write` and
//! `zero_page_range`; `memory_failure`; the sysfs and debugfs files. Never
//! sleeps: `direct_access` (the lookup is lock-free), a read bio, a write
//! bio that meets no poison.

use kernel::prelude::*;

#[path = "../../../rust/kernel/mod.rs"]
mod kernel_ext;

mod debugfs;
// Pure logic shared with the host test crate (tools/testing/rpmem/host),
// where its items are `pub`.
#[allow(unreachable_pub)]
mod extents;
#[allow(unreachable_pub)]
mod parse;
mod pmem;
mod poison;
#[allow(unreachable_pub)]
mod range;
#[cfg(CONFIG_KUNIT)]
mod tests;

module! {
    type: Rpmem,
    name: "rpmem",
    authors: ["rpmem developers"],
    description: "Persistent memory block and DAX driver with poison recovery",
    license: "GPL",
    // Bound by the nd bus's modalias as nd_pmem (MODULE_ALIAS_ND_DEVICE of
    // ND_DEVICE_NAMESPACE_IO and _PMEM; checked in kernel_ext::nd), so that
    // udev loads it for the namespaces when nd_pmem is blacklisted.
    alias: ["nd:t4*", "nd:t5*"],
    params: {
        record_simulated: bool {
            default: false,
            description: "Record simulated memory failures (MADV_HWPOISON, hwpoison corrupt-pfn) as poison (default: no; they notify the file system only, as with nd_pmem)",
        },
    },
}

/// The module: its nd driver (`nd_rpmem`) is registered while it is loaded,
/// and its debugfs directory exists meanwhile.
struct Rpmem {
    /// Dropped first: unregistering unbinds every device (and so removes
    /// each device's directory below the root).
    _driver: Pin<KBox<kernel_ext::nd::Registration<pmem::Pmem>>>,
    _debugfs: kernel_ext::debugfs::Root,
}

impl kernel::Module for Rpmem {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let debugfs = kernel_ext::debugfs::Root::new(c"rpmem");
        let driver = KBox::pin_init(
            kernel_ext::nd::Registration::new(c"nd_rpmem", module),
            GFP_KERNEL,
        )?;
        Ok(Rpmem {
            _driver: driver,
            _debugfs: debugfs,
        })
    }
}
