// SPDX-License-Identifier: GPL-2.0

//! A bound pmem namespace: its mapping, poison list, block device and DAX
//! device, and the I/O on them (drivers/nvdimm/pmem.c is the reference).

use crate::{
    dax::DaxDevice,
    debugfs,
    disk::{Bio, GenDisk, Limits, Segment},
    extents,
    kaddr::{AccessMode, TaggedKaddr},
    mem,
    nd::{Flushed, NdDevice, Region},
    parse::ClearPolicy,
    poison::{self, Poison},
    range::{self, Layout, PAGE_SHIFT, PAGE_SIZE, SECTORS_PER_PAGE, SECTOR_SHIFT},
    sys,
};
use core::ops::Range;
use kernel::{
    prelude::*,
    sync::{
        atomic::{Atomic, Relaxed},
        SetOnce,
    },
    time::{Instant, Monotonic},
};

/// What `direct_access` hands out.
pub(crate) struct Access {
    /// Pages usable from the requested one.
    pub(crate) pages: u64,
    /// Their kernel address, tagged with the request's mode.
    pub(crate) kaddr: TaggedKaddr,
    /// The page frame of the first page.
    pub(crate) pfn: u64,
}

/// A pmem namespace bound to rpmem.
///
/// # Invariants
///
/// `virt` maps `layout.phys_addr..+layout.size` write-back until the
/// device is unbound, which happens after this value is dropped.
#[pin_data]
pub(crate) struct Pmem {
    /// Dropped first: its files refer to this device.
    debugfs: SetOnce<debugfs::DevDir>,
    dev: NdDevice,
    region: Region,
    layout: Layout,
    virt: *mut u8,
    /// Whether `virt` is in the direct map (struct pages), where the
    /// HWPoison page flag and direct-map permissions exist.
    linear: bool,
    /// Dropped before `disk`: the DAX device refers to it as its host.
    dax: SetOnce<DaxDevice>,
    disk: GenDisk,
    /// `/sys/block/pmemN/badblocks`, for poll(2) notification.
    bb_state: SetOnce<mem::SysfsNode>,
    #[pin]
    poison: Poison,
    /// Last `lookup_bench` result: records, calls, nanoseconds.
    bench: [Atomic<u64>; 3],
}

// SAFETY: `virt` is a mapping shared by all CPUs; every other field is Send.
unsafe impl Send for Pmem {}
// SAFETY: All methods take `&self`; concurrent I/O on a pmem mapping is what
// the block layer and DAX do with nd_pmem too.
unsafe impl Sync for Pmem {}

impl Pmem {
    /// Binds a namespace (or a pfn/btt/dax device claiming one): nd_pmem's
    /// `nd_pmem_probe`.
    pub(crate) fn probe(dev: NdDevice) -> Result {
        let ns = dev.namespace()?;
        if dev.is_btt() {
            return dev.attach_btt(&ns);
        }
        if dev.is_pfn() {
            return Self::attach(dev, ns);
        }

        dev.enable_namespace(&ns)?;
        // An info block on a raw namespace makes a new btt/pfn/dax device
        // claim it; that device is probed next and this one stays unbound.
        use crate::nd::Claim;
        if let Claim::Claimed = dev.probe_btt(&ns) {
            return Err(ENXIO);
        }
        if let Claim::Claimed = dev.probe_pfn(&ns)? {
            return Err(ENXIO);
        }
        if let Claim::Claimed = dev.probe_dax(&ns)? {
            return Err(ENXIO);
        }
        dev.disable_namespace(&ns);
        Self::attach(dev, ns)
    }

    /// nd_pmem's `pmem_attach_disk`.
    fn attach(dev: NdDevice, ns: crate::nd::Namespace) -> Result {
        let res = ns.resource();
        let region = dev.region();
        let pagemap = if dev.is_pfn() || dev.should_map_pages() {
            Some(crate::pagemap::PageMap::new(&dev)?)
        } else {
            None
        };

        dev.enable_namespace(&ns)?;
        let pfn_info = if dev.is_pfn() {
            let pfn = dev.pfn();
            if let Some(pm) = &pagemap {
                pm.setup_pfn(&pfn)?;
            }
            Some(pfn.info())
        } else {
            None
        };
        dev.disable_namespace(&ns);

        let mut fua = region.has_flush();
        if !mem::has_uaccess_flushcache() || fua < 0 {
            dev_warn!(dev.device(), "unable to guarantee persistence of writes\n");
            fua = 0;
        }
        let limits = Limits {
            logical_block_size: ns.sector_size(),
            fua: fua != 0,
            dax: pagemap.is_some(),
        };

        if let Err(e) = dev.request_mem_region(&res, &ns) {
            dev_warn!(
                dev.device(),
                "could not reserve region {:#x}-{:#x}\n",
                res.start,
                res.end - 1
            );
            return Err(e);
        }

        let mut disk = GenDisk::new(&limits, dev.numa_node())?;
        let size = res.end - res.start;
        let raw = Layout::raw(res.start, size);
        let (virt, layout, bb_range) = match (&pagemap, pfn_info) {
            (Some(pm), Some((data_offset, _, _))) => {
                let virt = pm.map(&dev)?;
                let mapped = pm.range();
                let layout = Layout {
                    data_offset,
                    pfn_pad: size - (mapped.end - mapped.start),
                    ..raw
                };
                (virt, layout, mapped.start + data_offset..mapped.end)
            }
            (Some(pm), None) => {
                pm.set_range(&res);
                (pm.map(&dev)?, raw, pm.range())
            }
            (None, _) => (dev.memremap(&res)?, raw, res.clone()),
        };
        disk.set_name(&ns);
        disk.set_capacity(layout.capacity_sectors());

        let linear = !mem::is_vmalloc_addr(virt);
        let pmem = KBox::pin_init(
            try_pin_init!(Self {
                debugfs: SetOnce::new(),
                dev,
                region,
                layout,
                virt,
                linear,
                dax: SetOnce::new(),
                disk,
                bb_state: SetOnce::new(),
                poison <- Poison::new(),
                bench: [const { Atomic::new(0) }; 3],
            }),
            GFP_KERNEL,
        )?;
        pmem.load_known_poison(&bb_range);

        // From here on the C side holds the pointer: the device is released
        // by `release` when it is unbound, after the disk and DAX device
        // are gone and before the mappings registered above are undone.
        // SAFETY: The pointer is not moved out of; `release` rebuilds the box.
        let ptr = KBox::into_raw(unsafe { Pin::into_inner_unchecked(pmem) });
        // SAFETY: `release` drops the box once, at unbind or on failure now.
        unsafe { dev.add_release_action(Self::release, ptr.cast())? };
        // SAFETY: Valid until `release` runs, which is after unbind.
        let pmem: &Self = unsafe { &*ptr };

        if let Some(pm) = &pagemap {
            pm.set_owner(ptr.cast());
        }
        // SAFETY: `ptr` outlives the DAX device, which is dropped with it.
        if let Some(mut dax) = unsafe { DaxDevice::new(ptr.cast(), region.is_sync())? } {
            dax.add_host(&pmem.disk)?;
            dax.set_write_cache(region.has_cache());
            pmem.dax.populate(dax);
        }
        // SAFETY: `ptr` outlives the disk, which is dropped with it.
        unsafe { pmem.disk.add(&dev, ptr.cast())? };
        pmem.disk.check_and_set_ro();
        match mem::SysfsNode::badblocks_of(&pmem.disk) {
            Some(node) => {
                pmem.bb_state.populate(node);
            }
            None => dev_warn!(dev.device(), "'badblocks' notification disabled\n"),
        }
        // SAFETY: The directory is a field of `*ptr`, dropped before it.
        match unsafe { debugfs::create(ptr, pmem.disk.name()) } {
            Ok(Some(dir)) => {
                pmem.debugfs.populate(dir);
            }
            Ok(None) => {}
            Err(_) => dev_warn!(dev.device(), "no debugfs directory\n"),
        }
        dev.set_drvdata(ptr.cast());
        Ok(())
    }

    /// Drops the device allocated by `attach` (a devres action).
    ///
    /// # Safety
    ///
    /// `ptr` must come from `attach`'s `KBox::into_raw`; called once.
    unsafe extern "C" fn release(ptr: *mut kernel::ffi::c_void) {
        // SAFETY: `ptr` came from `KBox::into_raw` in `attach`, and devres
        // runs this action once.
        drop(unsafe { KBox::from_raw(ptr.cast::<Self>()) });
    }

    /// The device bound to `dev`, if `dev` is a namespace or pfn device
    /// rpmem attached (not a btt device).
    ///
    /// # Safety
    ///
    /// `dev` must be bound to rpmem (between probe and the end of remove).
    pub(crate) unsafe fn from_dev<'a>(dev: &NdDevice) -> Option<&'a Self> {
        if dev.is_btt() {
            return None;
        }
        // SAFETY: The drvdata of a bound non-btt device is the `Pmem` that
        // `attach` set, freed only after unbind.
        unsafe { dev.drvdata().cast::<Self>().as_ref() }
    }

    /// The device a bio was submitted to.
    ///
    /// # Safety
    ///
    /// `bio` must have been submitted to a disk of rpmem.
    pub(crate) unsafe fn from_bio<'a>(bio: &Bio) -> &'a Self {
        // SAFETY: The disk's private data is the `Pmem` (`GenDisk::add`),
        // alive while the disk takes bios.
        unsafe { &*bio.disk_private().cast::<Self>() }
    }

    /// The device of a DAX device of rpmem.
    ///
    /// # Safety
    ///
    /// `dax` must be a live DAX device that rpmem allocated.
    pub(crate) unsafe fn from_dax<'a>(dax: *mut sys::dax_device) -> &'a Self {
        // SAFETY: Its private data is the `Pmem` (`DaxDevice::new`).
        unsafe { &*crate::dax::private(dax).cast::<Self>() }
    }

    /// The device of a page map of rpmem, `None` while it is being set up.
    ///
    /// # Safety
    ///
    /// `pgmap` must be a live page map that rpmem mapped.
    pub(crate) unsafe fn from_pagemap<'a>(pgmap: *mut sys::dev_pagemap) -> Option<&'a Self> {
        // SAFETY: Its owner is null or the `Pmem` (`PageMap::set_owner`),
        // which outlives the mapping's users.
        unsafe { crate::pagemap::owner_of(pgmap).cast::<Self>().as_ref() }
    }

    fn dax(&self) -> Option<&DaxDevice> {
        self.dax.as_ref()
    }

    /// The kernel address of byte `offset` of the namespace.
    fn addr(&self, offset: u64) -> *mut u8 {
        // INVARIANT-USE: callers stay inside `layout.size`.
        self.virt.wrapping_add(offset as usize)
    }

    /// `submit_bio`: nd_pmem's `pmem_submit_bio`.
    pub(crate) fn submit_bio(&self, bio: Bio) {
        if bio.preflush() {
            if let Err(e) = self.region.flush(core::ptr::null_mut()) {
                return bio.end(Err(e));
            }
        }
        let mut status = Ok(());
        if bio.has_data() {
            let acct = bio.start_io_acct();
            status = if bio.is_write() {
                bio.for_each_segment(|seg| self.do_write(&seg))
            } else {
                bio.for_each_segment(|seg| self.do_read(&seg))
            };
            bio.end_io_acct(acct);
        }
        if bio.fua() && status.is_ok() {
            match self.region.flush(bio.as_raw()) {
                // The flush completes the bio.
                Ok(Flushed::Async) => return,
                Ok(Flushed::Sync) => {}
                Err(e) => status = Err(e),
            }
        }
        bio.end(status);
    }

    #[inline]
    fn do_read(&self, seg: &Segment) -> Result {
        if self
            .poison
            .check(range::sector_span(seg.sector, seg.len.into()))
            .is_some()
        {
            poison::count(&self.poison.counters.hits);
            return Err(EIO);
        }
        let src = self.addr(self.layout.offset_of(seg.sector));
        // SAFETY: The segment's pages are the bio's, `len` bytes from
        // `offset`; `src` is inside the mapping (the block layer checks
        // bios against the capacity).
        if unsafe { mem::copy_mc_to_pages(seg.page, seg.offset, src, seg.len) } {
            Ok(())
        } else {
            Err(EIO)
        }
    }

    /// A block write (also `zero_page_range`). Over poison: the media is
    /// cleared first, the data written, and only then the records dropped,
    /// so that no reader sees the sectors as good before the data is in.
    #[inline]
    fn do_write(&self, seg: &Segment) -> Result {
        let offset = self.layout.offset_of(seg.sector);
        let sectors = range::sector_span(seg.sector, seg.len.into());
        let poisoned = self.poison.check(sectors.clone()).is_some();
        if poisoned {
            self.clear_media(sectors.clone())?;
        }
        // SAFETY: As in `do_read`, in the other direction.
        unsafe { mem::write_pages_flushcache(self.addr(offset), seg.page, seg.offset, seg.len) };
        if poisoned {
            self.drop_records(sectors);
        }
        Ok(())
    }

    /// Clears the media poison under `sectors` with the clearing policy;
    /// all of it or an error, after which the records stay. Firmware: the
    /// bus's clear-error command, as nd_pmem. Software: nothing to clear on
    /// the media; the range is forgotten on the bus so that revalidation
    /// does not restore it. Then, before any data is copied in, the pages
    /// that the write leaves without poison get their HWPoison flag cleared
    /// and their direct mapping back (a machine check may have unmapped
    /// it), as nd_pmem's `__pmem_clear_poison` does.
    fn clear_media(&self, sectors: Range<u64>) -> Result {
        let offset = self.layout.offset_of(sectors.start);
        let len = u32::try_from((sectors.end - sectors.start) << SECTOR_SHIFT).map_err(|_| EIO)?;
        let phys = self.layout.phys_addr + offset;
        let firmware = match poison::clear_policy() {
            ClearPolicy::Firmware => true,
            ClearPolicy::Software => false,
            ClearPolicy::Auto => self.region.can_clear_errors(),
        };
        if firmware {
            match Region::clear_poison(&self.dev, phys, len) {
                Ok(cleared) if cleared >= u64::from(len) => {}
                _ => return Err(EIO),
            }
            poison::count(&self.poison.counters.firmware_clears);
        } else {
            self.region.forget_poison(phys, len);
            poison::count(&self.poison.counters.software_clears);
        }
        self.restore_pages(&sectors);
        // SAFETY: Inside the mapping, `len` bytes at `offset`.
        unsafe { mem::invalidate_pmem(self.addr(offset), len.into()) };
        Ok(())
    }

    /// Drops the records of `sectors` once good data is in them.
    fn drop_records(&self, sectors: Range<u64>) {
        self.poison.clear(sectors);
        poison::count(&self.poison.counters.recoveries);
        self.notify_badblocks();
    }

    /// Makes the pages touching `sectors` whose records all lie inside
    /// `sectors` accessible again: HWPoison flag cleared, direct map
    /// restored (`clear_mce_nospec`, nd_pmem's `pmem_mkpage_present`).
    fn restore_pages(&self, sectors: &Range<u64>) {
        if !self.linear {
            return;
        }
        let first = sectors.start / SECTORS_PER_PAGE;
        for page in first..sectors.end.div_ceil(SECTORS_PER_PAGE) {
            if self.poison.covered_by(&range::page_span(page, 1), sectors) {
                let pfn = (self.layout.phys_addr + self.layout.page_offset(page)) >> PAGE_SHIFT;
                mem::clear_page_poison(pfn..pfn + 1);
            }
        }
    }

    fn notify_badblocks(&self) {
        if let Some(node) = self.bb_state.as_ref() {
            node.notify();
        }
    }

    /// `direct_access`: maps `nr_pages` data pages from `pgoff` for the
    /// request `req` and answers with the pages usable, the address (tagged
    /// with the request's mode) and the first page frame.
    ///
    /// Failfast hands out the clean pages before the first poisoned one, so
    /// that a read returns every good byte before the poison (nd_pmem fails
    /// the whole range), and `-EHWPOISON` when the first page is poisoned.
    /// Recovery hands out the range up to the first poisoned page, at least
    /// one page. Without poison: the whole request, or everything to the end
    /// of the device while the poison list is empty (as nd_pmem).
    pub(crate) fn direct_access(
        &self,
        pgoff: u64,
        nr_pages: u64,
        req: TaggedKaddr,
    ) -> Result<Access> {
        let offset = self.layout.page_offset(pgoff);
        let kaddr = req.with_addr(self.addr(offset) as usize).ok_or(EINVAL)?;
        let pfn = (self.layout.phys_addr + offset) >> PAGE_SHIFT;
        let pages = if self.poison.is_empty() {
            self.layout.pages_from(pgoff)
        } else {
            let span = range::page_span(pgoff, nr_pages);
            match (self.poison.check(span.clone()), req.mode()) {
                (None, _) => nr_pages,
                (Some(bad), AccessMode::Failfast) => {
                    match range::clean_pages(span.start, bad.start) {
                        0 => {
                            poison::count(&self.poison.counters.hits);
                            return Err(EHWPOISON);
                        }
                        clean => clean,
                    }
                }
                (Some(bad), AccessMode::Recovery) => range::recovery_pages(span.start, bad.start),
            }
        };
        Ok(Access { pages, kaddr, pfn })
    }

    /// `zero_page_range`: writes a page of zeroes (clearing poison first).
    pub(crate) fn zero_page_range(&self, pgoff: u64) -> Result {
        self.do_write(&Segment {
            page: mem::zero_page(),
            offset: 0,
            len: range::PAGE_SIZE as u32,
            sector: range::page_span(pgoff, 1).start,
        })
    }

    /// `recovery_write`: writes `bytes` at `addr` (page `pgoff` of a
    /// recovery `direct_access`) over poison. Returns the bytes written; 0
    /// when the range cannot be recovered, which fs/dax.c reports to the
    /// writer as `EFAULT`, with nothing written and the records kept.
    ///
    /// The write recovers when it fills every poisoned sector of the pages
    /// it touches (the rest of those pages is good): whole pages, or a
    /// sub-page write over exactly the bad sectors. Order: clear the media,
    /// copy the data with flushcache, then drop the records.
    ///
    /// # Safety
    ///
    /// `addr` must be the address `direct_access` returned for `pgoff` (plus
    /// an offset inside the range), `bytes` long, and `iter` a valid source.
    pub(crate) unsafe fn recovery_write(
        &self,
        pgoff: u64,
        addr: *mut u8,
        bytes: usize,
        iter: *mut sys::iov_iter,
    ) -> usize {
        let off = (addr as u64) & (PAGE_SIZE - 1);
        let span = range::page_span(pgoff, (off + bytes as u64).div_ceil(PAGE_SIZE));
        if self.poison.check(span.clone()).is_none() {
            // SAFETY: By the caller.
            return unsafe { mem::copy_from_iter_flushcache(addr, bytes, iter) };
        }
        let write = extents::full_sectors(pgoff * PAGE_SIZE + off, bytes as u64);
        if !self.poison.covered_by(&span, &write) {
            return 0;
        }
        if self.clear_media(write.clone()).is_err() {
            return 0;
        }
        // SAFETY: By the caller.
        let written = unsafe { mem::copy_from_iter_flushcache(addr, bytes, iter) };
        if written == bytes {
            self.drop_records(write);
        }
        written
    }

    /// A memory failure on pages of this device (`memory_failure` of the
    /// page map): the file system holding it is told which data is lost.
    ///
    /// The range is also recorded as poison (unless the pages are going away
    /// with the device), so that later reads fail fast and a recovery write
    /// can repair it.
    pub(crate) fn memory_failure(&self, pfn: u64, nr_pages: u64, mf_flags: i32) -> Result {
        let data = self.layout.pfn_range_to_data(pfn, nr_pages).ok_or(ENXIO)?;
        if mf_flags & sys::mf_flags_MF_MEM_PRE_REMOVE as i32 == 0 {
            self.inject_poison(data.start >> SECTOR_SHIFT..data.end >> SECTOR_SHIFT)?;
        }
        let dax = self.dax().ok_or(EOPNOTSUPP)?;
        dax.notify_failure(data.start, data.end - data.start, mf_flags)
    }

    /// `NVDIMM_REVALIDATE_POISON`: reloads the poison list from the bus.
    pub(crate) fn revalidate_poison(&self) {
        self.load_known_poison(&self.poison_range());
    }

    /// Adds the bus's known poison inside `range` (physical, the data area)
    /// to the store, every sector a bad byte touches (as
    /// `nvdimm_badblocks_populate()`), past the kernel list's 512 ranges too.
    fn load_known_poison(&self, range: &Range<u64>) {
        let known = match self.region.known_poison(range) {
            Ok(known) => known,
            Err(_) => {
                dev_warn!(self.dev.device(), "poison list not loaded: out of memory\n");
                return;
            }
        };
        for bad in known {
            let sectors = (bad.start - range.start) >> SECTOR_SHIFT
                ..(bad.end - range.start).div_ceil(range::SECTOR_SIZE);
            if self.inject_poison(sectors).is_err() {
                dev_warn!(self.dev.device(), "poison record lost: out of memory\n");
            }
        }
        self.notify_badblocks();
    }

    /// Physical range whose poison belongs to this device's data area.
    fn poison_range(&self) -> Range<u64> {
        let (start_pad, end_trunc) = if self.dev.is_pfn() {
            let (_, start_pad, end_trunc) = self.dev.pfn().info();
            (start_pad, end_trunc)
        } else {
            (0, 0)
        };
        let start = self.layout.phys_addr + self.layout.data_offset + start_pad;
        start..self.layout.phys_addr + self.layout.size - end_trunc
    }

    /// `NVDIMM_REVALIDATE_REGION`: follows the region's read-only state.
    pub(crate) fn revalidate_region(&self) {
        self.disk.check_and_set_ro();
    }

    /// Flushes the region's write-pending queues (remove and shutdown).
    pub(crate) fn flush(region: Region) {
        let _ = region.flush(core::ptr::null_mut());
    }

    /// `/sys/block/pmemN/badblocks` read: one `SECTOR COUNT` line a range.
    ///
    /// # Safety
    ///
    /// `buf` must be a sysfs buffer (a page).
    pub(crate) unsafe fn badblocks_show(&self, buf: *mut kernel::ffi::c_char) -> isize {
        // SAFETY: By the caller; `bb` is initialised.
        unsafe { sys::badblocks_show(self.poison.badblocks().as_raw(), buf, 0) }
    }

    /// `/sys/block/pmemN/badblocks` write: records `SECTOR COUNT` as poison
    /// after checking it strictly; bad input changes nothing.
    pub(crate) fn badblocks_store(&self, input: &[u8]) -> Result {
        let sectors = crate::parse::sector_range(input, self.layout.capacity_sectors())
            .map_err(|_| EINVAL)?;
        self.inject_poison(sectors)
    }

    /// Records `sectors` as poisoned (sysfs and debugfs injection, memory
    /// failures).
    pub(crate) fn inject_poison(&self, sectors: Range<u64>) -> Result {
        if self.poison.add(sectors)? {
            dev_warn!(
                self.dev.device(),
                "poison list full: keeping every record in a lookup table of rpmem's own (debugfs 'list')\n"
            );
        }
        self.notify_badblocks();
        Ok(())
    }

    /// Drops the records of `sectors` without writing (debugfs `clear`):
    /// a software clear, forgotten on the bus too.
    pub(crate) fn forget_poison(&self, sectors: Range<u64>) -> Result {
        let offset = self.layout.offset_of(sectors.start);
        let len =
            u32::try_from((sectors.end - sectors.start) << SECTOR_SHIFT).map_err(|_| EINVAL)?;
        self.region
            .forget_poison(self.layout.phys_addr + offset, len);
        if !self.poison.clear(sectors.clone()) {
            return Err(ENOMEM);
        }
        self.restore_pages(&sectors);
        self.notify_badblocks();
        Ok(())
    }

    /// The poison store.
    pub(crate) fn poison(&self) -> &Poison {
        &self.poison
    }

    /// Times `calls` failfast one-page `direct_access` lookups at even pages
    /// spread over the device (debugfs `lookup_bench`).
    pub(crate) fn lookup_bench(&self, calls: u64) -> Result {
        let half = (self.layout.capacity() >> PAGE_SHIFT) / 2;
        if half == 0 {
            return Err(EINVAL);
        }
        let records = self.poison.records()?.len() as u64;
        let start = Instant::<Monotonic>::now();
        for i in 0..calls {
            let pgoff = 2 * (i.wrapping_mul(0x9e37_79b9) % half);
            let req = TaggedKaddr::request(AccessMode::Failfast);
            core::hint::black_box(self.direct_access(pgoff, 1, req).map(|a| a.pages).ok());
        }
        let ns = start.elapsed().as_nanos() as u64;
        for (slot, v) in self.bench.iter().zip([records, calls, ns]) {
            slot.store(v, Relaxed);
        }
        Ok(())
    }

    /// The last `lookup_bench` result: (records, calls, nanoseconds).
    pub(crate) fn lookup_bench_result(&self) -> (u64, u64, u64) {
        let [a, b, c] = &self.bench;
        (a.load(Relaxed), b.load(Relaxed), c.load(Relaxed))
    }

    /// Size of the data area in sectors.
    pub(crate) fn capacity_sectors(&self) -> u64 {
        self.layout.capacity_sectors()
    }

    /// The DAX device, for the `write_cache` sysfs attribute.
    pub(crate) fn dax_raw(&self) -> *mut sys::dax_device {
        self.dax().map_or(core::ptr::null_mut(), DaxDevice::as_raw)
    }
}
