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

//!
//! The files are made by the C glue (`rpmem_debugfs_file`), whose file
//! operations pin the module while a file is open: the kernel crate's
//! debugfs files have no owner, so an open file would outlive `rmmod` and
//! its release would read the freed module. Their reads and writes come
//! back to [`show`] and [`write`] through glue.rs.

use crate::{kernel_ext::sys, parse, pmem::Pmem};
use core::ptr::NonNull;
use kernel::{
    error::from_err_ptr,
    prelude::*,
    seq_file::{seq_print, SeqFile},
    sync::atomic::{Atomic, Relaxed},
    uaccess::UserSliceReader,
};

/// `/sys/kernel/debug/rpmem`, published for probes while the module's
/// [`Root`] lives.
static ROOT: Atomic<*mut sys::dentry> = Atomic::new(core::ptr::null_mut());

/// A debugfs directory, removed with everything in it when dropped.
///
/// # Invariants
///
/// `dentry` is a directory that `debugfs_create_dir` made and nothing else
/// removes.
struct Dentry(NonNull<sys::dentry>);

// SAFETY: debugfs entries are removed from any thread.
unsafe impl Send for Dentry {}
// SAFETY: Shared references only read the pointer.
unsafe impl Sync for Dentry {}

impl Dentry {
    /// `debugfs_create_dir`; `None` without debugfs (or when it fails:
    /// debugfs is best effort, as everywhere in the kernel).
    fn dir(name: &CStr, parent: *mut sys::dentry) -> Option<Self> {
        // SAFETY: `name` is NUL-terminated; `parent` is null or a directory
        // that outlives the call.
        let d = unsafe { sys::debugfs_create_dir(name.as_char_ptr(), parent) };
        // INVARIANT: A directory just made.
        from_err_ptr(d).ok().and_then(NonNull::new).map(Self)
    }

    fn as_raw(&self) -> *mut sys::dentry {
        self.0.as_ptr()
    }
}

impl Drop for Dentry {
    fn drop(&mut self) {
        // SAFETY: By the type invariant. `debugfs_remove` removes the files
        // and waits for reads and writes in progress (their callers hold
        // `debugfs_file_get`); later ones fail without calling rpmem.
        unsafe { sys::debugfs_remove(self.0.as_ptr()) };
    }
}

/// The module's debugfs directory; devices add theirs below it while it is
/// published.
pub(crate) struct Root {
    _dir: Option<Dentry>,
}

impl Root {
    /// Creates `/sys/kernel/debug/rpmem` and publishes it for probes.
    pub(crate) fn new() -> Self {
        let dir = Dentry::dir(c"rpmem", core::ptr::null_mut());
        if let Some(d) = &dir {
            ROOT.store(d.as_raw(), Relaxed);
        }
        Self { _dir: dir }
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        // The nd driver is unregistered before this: no probe can run, and
        // every device's directory is gone.
        ROOT.store(core::ptr::null_mut(), Relaxed);
    }
}

/// The files of a device directory, by the aux number they carry.
#[derive(Clone, Copy)]
#[repr(u32)]
enum File {
    Inject,
    Clear,
    List,
    Counters,
    LookupBench,
}

impl File {
    const ALL: [(File, &'static CStr, u16); 5] = [
        (File::Inject, c"inject", 0o200),
        (File::Clear, c"clear", 0o200),
        (File::List, c"list", 0o400),
        (File::Counters, c"counters", 0o400),
        (File::LookupBench, c"lookup_bench", 0o600),
    ];

    fn from_aux(aux: u64) -> Option<Self> {
        Self::ALL.iter().map(|f| f.0).find(|f| *f as u64 == aux)
    }
}

/// A device's debugfs directory; the files go when this is dropped.
pub(crate) struct DevDir {
    _dir: Dentry,
}

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
    // `ROOT` is published while the module's `Root` lives, which is while
    // the driver is registered and devices probe.
    let Some(dir) = Dentry::dir(name, root) else {
        return Err(ENOMEM);
    };
    for (file, fname, mode) in File::ALL {
        // SAFETY: `dir` is a live directory; by the caller `pmem` outlives
        // it and so every file in it (the glue's callbacks get it back).
        let d = unsafe {
            sys::rpmem_debugfs_file(
                fname.as_char_ptr(),
                mode,
                dir.as_raw(),
                pmem.cast_mut().cast(),
                file as kernel::ffi::c_ulong,
            )
        };
        from_err_ptr(d)?;
    }
    Ok(Some(DevDir { _dir: dir }))
}

/// Read of a file (`seq_file` show).
pub(crate) fn show(pmem: &Pmem, aux: u64, m: &SeqFile) -> Result {
    match File::from_aux(aux).ok_or(EINVAL)? {
        File::List => {
            for (start, end) in pmem.poison().records()? {
                seq_print!(m, "{} {}\n", start, end - start);
            }
        }
        File::Counters => {
            let poison = pmem.poison();
            let c = &poison.counters;
            seq_print!(m, "poison_hits {}\n", c.hits.load(Relaxed));
            seq_print!(m, "recoveries {}\n", c.recoveries.load(Relaxed));
            seq_print!(m, "firmware_clears {}\n", c.firmware_clears.load(Relaxed));
            seq_print!(m, "software_clears {}\n", c.software_clears.load(Relaxed));
            seq_print!(m, "overflowed {}\n", c.overflowed.load(Relaxed));
            seq_print!(m, "table_extents {}\n", poison.table_len());
        }
        File::LookupBench => {
            let (records, calls, ns) = pmem.lookup_bench_result();
            seq_print!(m, "records {} calls {} total_ns {}\n", records, calls, ns);
        }
        // Write-only files (root may still open them for reading).
        File::Inject | File::Clear => return Err(EINVAL),
    }
    Ok(())
}

/// Write of a file: the whole command in one write.
pub(crate) fn write(pmem: &Pmem, aux: u64, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; 64];
    let len = reader.len();
    if len == 0 || len > buf.len() {
        return Err(EINVAL);
    }
    reader.read_slice(&mut buf[..len])?;
    let input = &buf[..len];
    match File::from_aux(aux).ok_or(EINVAL)? {
        File::Inject => pmem.inject_poison(range(pmem, input)?),
        File::Clear => pmem.forget_poison(range(pmem, input)?),
        File::LookupBench => {
            let calls = parse::count(input, 1, 100_000_000).map_err(|_| EINVAL)?;
            pmem.lookup_bench(calls)
        }
        File::List | File::Counters => Err(EINVAL),
    }
}

/// A range command (see [`parse::poison_range`]) for `pmem`.
fn range(pmem: &Pmem, input: &[u8]) -> Result<core::ops::Range<u64>> {
    parse::poison_range(input, pmem.capacity_sectors()).map_err(|_| EINVAL)
}
