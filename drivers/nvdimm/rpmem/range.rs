// SPDX-License-Identifier: GPL-2.0

//! Sector, page and byte arithmetic of a pmem namespace.
//!
//! Pure arithmetic with no kernel dependency, so the host crate under
//! tools/testing/rpmem/host compiles this file as is and tests it with
//! `cargo test`; KUnit runs the same checks in the kernel.

use core::ops::Range;

/// log2 of the block layer's sector size (the kernel's, in the kernel).
#[cfg(MODULE)]
pub const SECTOR_SHIFT: u32 = kernel::block::SECTOR_SHIFT;
/// log2 of the block layer's sector size.
#[cfg(not(MODULE))]
pub const SECTOR_SHIFT: u32 = 9;
/// The block layer's sector size, the granularity of the poison list.
pub const SECTOR_SIZE: u64 = 1 << SECTOR_SHIFT;
/// log2 of the page size (the kernel's, in the kernel).
#[cfg(MODULE)]
pub const PAGE_SHIFT: u32 = {
    let shift = kernel::page::PAGE_SHIFT;
    assert!(shift < 32);
    shift as u32
};
/// log2 of the page size (x86_64, for the host tests).
#[cfg(not(MODULE))]
pub const PAGE_SHIFT: u32 = 12;
/// The page size, the granularity of DAX mappings and of poison recovery.
pub const PAGE_SIZE: u64 = 1 << PAGE_SHIFT;
/// Sectors in one page.
pub const SECTORS_PER_PAGE: u64 = PAGE_SIZE / SECTOR_SIZE;

/// Where the data of a namespace lies in its physical range.
///
/// A raw namespace exposes all of `size`; a pfn (fsdax) namespace starts its
/// data `data_offset` bytes in (after the info block and, with `map=dev`, the
/// struct pages) and loses `pfn_pad` bytes at the end to section alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Physical address of the namespace.
    pub phys_addr: u64,
    /// Size of the namespace in bytes.
    pub size: u64,
    /// Offset of sector 0 from `phys_addr`.
    pub data_offset: u64,
    /// Bytes at the end that are not part of the data area.
    pub pfn_pad: u64,
}

impl Layout {
    /// A raw namespace: data from the first byte to the last.
    pub const fn raw(phys_addr: u64, size: u64) -> Self {
        Self {
            phys_addr,
            size,
            data_offset: 0,
            pfn_pad: 0,
        }
    }

    /// Bytes of the data area (what the block device exposes).
    pub const fn capacity(&self) -> u64 {
        self.size - self.pfn_pad - self.data_offset
    }

    /// Sectors of the data area.
    pub const fn capacity_sectors(&self) -> u64 {
        self.capacity() >> SECTOR_SHIFT
    }

    /// Offset from `phys_addr` of data sector `sector` (`to_offset` in C).
    pub const fn offset_of(&self, sector: u64) -> u64 {
        (sector << SECTOR_SHIFT) + self.data_offset
    }

    /// Data sector at offset `offset` from `phys_addr` (`to_sect` in C).
    pub const fn sector_of(&self, offset: u64) -> u64 {
        (offset - self.data_offset) >> SECTOR_SHIFT
    }

    /// Offset from `phys_addr` of data page `pgoff`.
    pub const fn page_offset(&self, pgoff: u64) -> u64 {
        (pgoff << PAGE_SHIFT) + self.data_offset
    }

    /// Page of the namespace (from `phys_addr`) that is data page `pgoff`
    /// (`data_offset` is page aligned: `nd_pfn_validate` checks it, and
    /// the probe again).
    pub const fn map_page(&self, pgoff: u64) -> u64 {
        pgoff + (self.data_offset >> PAGE_SHIFT)
    }

    /// Pages of the data area from page `pgoff` to its end: 0 when `pgoff`
    /// is past it, whatever its value (no shift of `pgoff` that could wrap).
    pub const fn pages_from(&self, pgoff: u64) -> u64 {
        (self.capacity() >> PAGE_SHIFT).saturating_sub(pgoff)
    }

    /// Byte range of the data area, relative to the data area, that the
    /// physical page frames `pfn..pfn + nr_pages` cover, or `None` when they
    /// lie outside of it.
    pub fn pfn_range_to_data(&self, pfn: u64, nr_pages: u64) -> Option<Range<u64>> {
        let start = (pfn << PAGE_SHIFT).checked_sub(self.phys_addr + self.data_offset)?;
        let end = start.checked_add(nr_pages.checked_mul(PAGE_SIZE)?)?;
        (end <= self.capacity() && start < end).then_some(start..end)
    }
}

/// Sectors covered by `len` bytes from sector `sector`, with a partial last
/// sector counted whole (as `is_bad_pmem` does).
pub const fn sector_span(sector: u64, len: u64) -> Range<u64> {
    sector..sector + len.div_ceil(SECTOR_SIZE)
}

/// Sectors covered by data pages `pgoff..pgoff + nr_pages`.
pub const fn page_span(pgoff: u64, nr_pages: u64) -> Range<u64> {
    (pgoff * SECTORS_PER_PAGE)..(pgoff + nr_pages) * SECTORS_PER_PAGE
}

/// Whole pages from sector `start` (page aligned) to the first bad sector.
pub const fn clean_pages(start: u64, first_bad: u64) -> u64 {
    first_bad.saturating_sub(start) / SECTORS_PER_PAGE
}

/// The recovery stride: the bytes from sector `start` (page aligned) to the
/// first bad sector, rounded up to whole pages, at least one page (C's
/// `PHYS_PFN(PAGE_ALIGN(...))`). Recovery stops at the first poisoned page
/// because firmware clear-error commands do not handle large ranges
/// reliably.
pub const fn recovery_pages(start: u64, first_bad: u64) -> u64 {
    let pages = first_bad.saturating_sub(start).div_ceil(SECTORS_PER_PAGE);
    if pages == 0 {
        1
    } else {
        pages
    }
}
