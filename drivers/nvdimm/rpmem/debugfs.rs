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
//! The files are made by the abstraction layer (`kernel_ext::debugfs`),
//! whose file operations pin the module while a file is open.

use crate::{
    kernel_ext::{
        cred,
        debugfs::Files,
        kaddr::{AccessMode, KaddrRequest},
    },
    parse,
    pmem::Pmem,
    range::SECTORS_PER_PAGE,
};
use kernel::{
    num::casts::IntoSafeCast,
    prelude::*,
    seq_file::{seq_print, SeqFile},
    sync::atomic::{Atomic, Relaxed},
    time::{Instant, Monotonic},
    uaccess::UserSliceReader,
};

/// The files of a device directory, in the order of [`Pmem::FILES`].
#[derive(Clone, Copy)]
enum File {
    Inject,
    Clear,
    List,
    Counters,
    LookupBench,
}

impl TryFrom<usize> for File {
    type Error = Error;

    fn try_from(index: usize) -> Result<Self> {
        Ok(match index {
            0 => Self::Inject,
            1 => Self::Clear,
            2 => Self::List,
            3 => Self::Counters,
            4 => Self::LookupBench,
            _ => return Err(EINVAL),
        })
    }
}

impl Files for Pmem {
    type Data = crate::pmem::Data;
    type State = Bench;
    type OwnerModule = crate::Rpmem;
    const FILES: &'static [(&'static CStr, u16)] = &[
        (c"inject", 0o200),
        (c"clear", 0o200),
        (c"list", 0o400),
        (c"counters", 0o400),
        (c"lookup_bench", 0o600),
    ];

    fn show(pmem: Pin<&Pmem>, bench: &Bench, index: usize, m: &SeqFile) -> Result {
        show(&pmem, bench, File::try_from(index)?, m)
    }

    fn write(pmem: Pin<&Pmem>, bench: &Bench, index: usize, input: &mut UserSliceReader) -> Result {
        write(&pmem, bench, File::try_from(index)?, input)
    }
}

/// The last `lookup_bench` result of a device: records, calls,
/// nanoseconds.
pub(crate) struct Bench([Atomic<u64>; 3]);

impl Default for Bench {
    fn default() -> Self {
        Self([const { Atomic::new(0) }; 3])
    }
}

/// Times `calls` failfast one-page `direct_access` lookups at even pages
/// spread over the device (`lookup_bench`).
fn lookup_bench(pmem: &Pmem, bench: &Bench, calls: u64) -> Result {
    let half = pmem.capacity_sectors() / SECTORS_PER_PAGE / 2;
    if half == 0 {
        return Err(EINVAL);
    }
    let records: u64 = pmem.poison().len()?.into_safe_cast();
    let start = Instant::<Monotonic>::now();
    for i in 0..calls {
        let pgoff = 2 * (i.wrapping_mul(0x9e37_79b9) % half);
        let req = KaddrRequest::new(AccessMode::Failfast);
        core::hint::black_box(pmem.direct_access(pgoff, 1, req).map(|a| a.pages()).ok());
    }
    let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(0);
    for (slot, v) in bench.0.iter().zip([records, calls, ns]) {
        slot.store(v, Relaxed);
    }
    Ok(())
}

/// Read of a file (`seq_file` show).
fn show(pmem: &Pmem, bench: &Bench, file: File, m: &SeqFile) -> Result {
    match file {
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
            let [records, calls, ns] = bench.0.each_ref().map(|v| v.load(Relaxed));
            seq_print!(m, "records {} calls {} total_ns {}\n", records, calls, ns);
        }
        // Write-only files (root may still open them for reading).
        File::Inject | File::Clear => return Err(EINVAL),
    }
    Ok(())
}

/// Write of a file: the whole command in one write; `CAP_SYS_ADMIN`
/// required (`EPERM`).
fn write(pmem: &Pmem, bench: &Bench, file: File, reader: &mut UserSliceReader) -> Result {
    if !cred::capable_sys_admin() {
        return Err(EPERM);
    }
    let mut buf = [0u8; 64];
    let len = reader.len();
    if len == 0 || len > buf.len() {
        return Err(EINVAL);
    }
    reader.read_slice(&mut buf[..len])?;
    let input = &buf[..len];
    match file {
        File::Inject => pmem.inject_poison(range(pmem, input)?),
        File::Clear => pmem.forget_poison(range(pmem, input)?),
        File::LookupBench => {
            let calls = parse::count(input, 1, 100_000_000).map_err(|_| EINVAL)?;
            lookup_bench(pmem, bench, calls)
        }
        File::List | File::Counters => Err(EINVAL),
    }
}

/// A range command (see [`parse::poison_range`]) for `pmem`.
fn range(pmem: &Pmem, input: &[u8]) -> Result<core::ops::Range<u64>> {
    parse::poison_range(input, pmem.capacity_sectors()).map_err(|_| EINVAL)
}
