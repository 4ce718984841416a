// SPDX-License-Identifier: GPL-2.0

//! `/sys/kernel/debug/rpmem/pmemN/`: poison injection and inspection, root
//! only (debugfs is).
//!
//! - `inject` (write): records a poisoned range, as `ndctl inject-error`
//!   does on hardware with an error-injection DSM (QEMU has none):
//!   `SECTOR COUNT`, `sectors SECTOR COUNT` or `bytes OFFSET LENGTH`.
//! - `clear` (write): drops the records of a range (and forgets it on the
//!   bus), same syntax.
//! - `list` (read): every record, including those beyond the 512 that
//!   `/sys/block/pmemN/badblocks` can hold, merged: `SECTOR COUNT` lines.
//! - `counters` (read): `name value` lines: `poison_hits`, `recoveries`,
//!   `firmware_clears`, `software_clears`, `overflowed` (records the
//!   kernel's list refused) and `table_extents` (extents in the lookup
//!   table, 0 while the kernel's list holds every record).
//! - `lookup_bench` (write `CALLS`, then read): times CALLS failfast
//!   one-page `direct_access` lookups of even pages all over the device
//!   (poison on odd pages between them makes every lookup a full search
//!   that finds nothing) and reports `records R calls N total_ns T`.
//!
//! Malformed, overflowing or out-of-range input fails with `EINVAL` and
//! changes nothing.

use crate::{parse, pmem::Pmem};
use kernel::{
    debugfs::{Dir, Scope},
    fmt,
    prelude::*,
    sync::atomic::{Atomic, Relaxed},
    uaccess::UserSliceReader,
};

/// `/sys/kernel/debug/rpmem`, owned by the module (see [`Root`]).
static ROOT: Atomic<*mut Dir> = Atomic::new(core::ptr::null_mut());

/// The module's debugfs directory; devices add theirs below it while it is
/// published.
pub(crate) struct Root {
    _dir: KBox<Dir>,
}

impl Root {
    /// Creates `/sys/kernel/debug/rpmem` and publishes it for probes.
    pub(crate) fn new() -> Result<Self> {
        let mut dir = KBox::new(Dir::new(c"rpmem"), GFP_KERNEL)?;
        ROOT.store(&raw mut *dir, Relaxed);
        Ok(Self { _dir: dir })
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        // The nd driver is unregistered before this: no probe can run.
        ROOT.store(core::ptr::null_mut(), Relaxed);
    }
}

/// A device's files refer to it through this.
///
/// # Invariants
///
/// Points to a `Pmem` that outlives the [`Scope`] holding this value.
pub(crate) struct DevRef(*const Pmem);

// SAFETY: `Pmem` is `Sync`; the files only take shared references to it.
unsafe impl Send for DevRef {}
// SAFETY: See `Send`.
unsafe impl Sync for DevRef {}

impl DevRef {
    fn pmem(&self) -> &Pmem {
        // SAFETY: By the type invariant.
        unsafe { &*self.0 }
    }
}

/// A device's debugfs directory; the files go when this is dropped.
pub(crate) type DevDir = Pin<KBox<Scope<DevRef>>>;

/// Creates `rpmem/<name>/` for `pmem`; `None` without debugfs.
///
/// # Safety
///
/// `pmem` must outlive the returned directory.
pub(crate) unsafe fn create(pmem: *const Pmem, name: &CStr) -> Result<Option<DevDir>> {
    let root = ROOT.load(Relaxed);
    if root.is_null() {
        return Ok(None);
    }
    // SAFETY: `ROOT` is published while the module's `Root` lives, which is
    // while the driver is registered and devices probe.
    let root = unsafe { &*root };
    // INVARIANT: By the caller `pmem` outlives the scope.
    let scope = root.scope(DevRef(pmem), name, |dev, dir| {
        dir.write_only_callback_file(c"inject", dev, &inject);
        dir.write_only_callback_file(c"clear", dev, &clear);
        dir.read_callback_file(c"list", dev, &list);
        dir.read_callback_file(c"counters", dev, &counters);
        dir.read_write_callback_file(c"lookup_bench", dev, &bench_result, &bench_run);
    });
    Ok(Some(KBox::pin_init(scope, GFP_KERNEL)?))
}

/// Reads a whole (short) command; longer input is refused.
fn command(reader: &mut UserSliceReader, buf: &mut [u8; 64]) -> Result<usize> {
    let len = reader.len();
    if len == 0 || len > buf.len() {
        return Err(EINVAL);
    }
    reader.read_slice(&mut buf[..len])?;
    Ok(len)
}

/// Reads a range command (see [`parse::poison_range`]) for `dev`.
fn range_command(dev: &DevRef, reader: &mut UserSliceReader) -> Result<core::ops::Range<u64>> {
    let mut buf = [0u8; 64];
    let len = command(reader, &mut buf)?;
    parse::poison_range(&buf[..len], dev.pmem().capacity_sectors()).map_err(|_| EINVAL)
}

fn inject(dev: &DevRef, reader: &mut UserSliceReader) -> Result {
    let sectors = range_command(dev, reader)?;
    dev.pmem().inject_poison(sectors)
}

fn clear(dev: &DevRef, reader: &mut UserSliceReader) -> Result {
    let sectors = range_command(dev, reader)?;
    dev.pmem().forget_poison(sectors)
}

fn list(dev: &DevRef, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let records = dev.pmem().poison().records().map_err(|_| fmt::Error)?;
    for (start, end) in records {
        writeln!(f, "{} {}", start, end - start)?;
    }
    Ok(())
}

fn bench_run(dev: &DevRef, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; 64];
    let len = command(reader, &mut buf)?;
    let calls = parse::count(&buf[..len], 1, 100_000_000).map_err(|_| EINVAL)?;
    dev.pmem().lookup_bench(calls)
}

fn bench_result(dev: &DevRef, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let (records, calls, ns) = dev.pmem().lookup_bench_result();
    writeln!(f, "records {} calls {} total_ns {}", records, calls, ns)
}

fn counters(dev: &DevRef, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let poison = dev.pmem().poison();
    let c = &poison.counters;
    writeln!(f, "poison_hits {}", c.hits.load(Relaxed))?;
    writeln!(f, "recoveries {}", c.recoveries.load(Relaxed))?;
    writeln!(f, "firmware_clears {}", c.firmware_clears.load(Relaxed))?;
    writeln!(f, "software_clears {}", c.software_clears.load(Relaxed))?;
    writeln!(f, "overflowed {}", c.overflowed.load(Relaxed))?;
    writeln!(f, "table_extents {}", poison.table_len())
}
