// SPDX-License-Identifier: GPL-2.0

//! A bound pmem namespace: its mapping, poison list, block device and DAX
//! device, and the I/O on them (drivers/nvdimm/pmem.c is the reference).

use crate::{
    extents,
    kernel_ext::{
        cred,
        dax::{self, Access, DaxDevice, RecoveryWrite},
        debugfs::DevDir,
        disk::{self, Bio, GenDisk, Limits, Segment, SysfsPage},
        kaddr::{AccessMode, KaddrRequest},
        mem::{self, PmemMap},
        nd::{self, Core, DataSlot, Namespace, NdDevice, Region},
        pagemap::{self, MfFlags, PageMap},
    },
    poison::{self, Poison},
    range::{self, Layout, PAGE_SHIFT, PAGE_SIZE, SECTORS_PER_PAGE, SECTOR_SHIFT},
};
use core::ops::Range;
use kernel::{num::casts::IntoSafeCast, prelude::*, sync::SetOnce};

/// The driver data of a bound namespace, as the nd device holds it.
pub(crate) type Data = Pin<KBox<Pmem>>;

/// A pmem namespace bound to rpmem.
#[pin_data]
pub(crate) struct Pmem {
    /// Dropped first: its files refer to this device (removed at unbind
    /// already).
    debugfs: SetOnce<DevDir<Pmem>>,
    dev: NdDevice,
    region: Region,
    layout: Layout,
    /// Physical range whose poison the bus reports for the data area
    /// (`NVDIMM_REVALIDATE_POISON`).
    poison_range: Range<u64>,
    /// The namespace from `layout.phys_addr` on.
    map: PmemMap,
    /// Dropped before `disk`: the DAX device refers to it as its host.
    dax: SetOnce<DaxDevice<Pmem>>,
    disk: GenDisk<Pmem>,
    /// `/sys/block/pmemN/badblocks`, for poll(2) notification.
    bb_state: SetOnce<mem::SysfsNode>,
    #[pin]
    poison: Poison,
}

impl Pmem {
    /// Binds a namespace (or a pfn/btt/dax device claiming one): nd_pmem's
    /// `nd_pmem_probe`.
    fn bind(dev: &NdDevice<Core>, slot: DataSlot<'_, Data>) -> Result {
        let ns = dev.namespace()?;
        if dev.is_btt() {
            if !nd::btt_loaded() {
                dev_err!(
                    dev.device(),
                    "a BTT (sector mode) namespace needs nd_btt, which was not loaded when rpmem was: modprobe nd_btt, then load rpmem again\n"
                );
            }
            return dev.attach_btt::<Self>(&ns);
        }
        if dev.is_pfn() {
            return Self::attach(dev, slot, ns);
        }

        dev.enable_namespace(&ns)?;
        // An info block on a raw namespace makes a new btt/pfn/dax device
        // claim it; that device is probed next and this one stays unbound.
        use crate::kernel_ext::nd::Claim;
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
        Self::attach(dev, slot, ns)
    }

    /// nd_pmem's `pmem_attach_disk`.
    ///
    /// Order of teardown, by construction (devres releases in reverse):
    /// [`Self::unbind`] (DAX device killed, disk deleted, so no new I/O or
    /// DAX access), the debugfs files, then the page map (`memunmap_pages`
    /// waits for every `memory_failure` in progress), the mappings and the
    /// memory region, and last the device itself (`reserve_data`, first
    /// here). Every callback that can reach the device ends before it is
    /// freed: the layer's types register their own ends (`nd::Bound`).
    fn attach(dev: &NdDevice<Core>, slot: DataSlot<'_, Data>, ns: Namespace<'_>) -> Result {
        let res = ns.resource();
        let region = dev.region();
        let mut pagemap = if dev.is_pfn() || dev.should_map_pages() {
            Some(PageMap::<Self>::new(dev)?)
        } else {
            None
        };

        dev.enable_namespace(&ns)?;
        let pfn_info = match (dev.pfn(), &mut pagemap) {
            (Some(pfn), Some(pm)) => Some(pm.setup_pfn(&pfn)?),
            _ => None,
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
        let (mapped, map, layout, bb_range) = match (pagemap, pfn_info) {
            (Some(pm), Some(info)) => {
                let (mapped, map) = pm.map(dev)?;
                let range = mapped.range();
                let layout = Layout {
                    data_offset: info.data_offset,
                    pfn_pad: size - (range.end - range.start),
                    ..raw
                };
                let bb_range = range.start + info.data_offset..range.end;
                (Some(mapped), map, layout, bb_range)
            }
            (Some(mut pm), None) => {
                pm.set_range(&res)?;
                let (mapped, map) = pm.map(dev)?;
                let bb_range = mapped.range();
                (Some(mapped), map, raw, bb_range)
            }
            (None, _) => (None, dev.memremap(&res)?, raw, res.clone()),
        };
        // nd_pmem's `pmem_revalidate_poison` range.
        let poison_range = match pfn_info {
            Some(info) => res.start + info.data_offset + info.start_pad..res.end - info.end_trunc,
            None => res.clone(),
        };
        disk.set_name(&ns);
        disk.set_capacity(layout.capacity_sectors());

        let owned = dev.to_normal();
        let kept_region = region.clone();
        let pmem = KBox::pin_init(
            try_pin_init!(Self {
                debugfs: SetOnce::new(),
                dev: owned,
                region: kept_region,
                layout,
                poison_range,
                map,
                dax: SetOnce::new(),
                disk,
                bb_state: SetOnce::new(),
                poison <- Poison::new(),
            }),
            GFP_KERNEL,
        )?;
        pmem.load_known_poison(&bb_range);

        // From here on the device is the driver data, dropped at unbind
        // after the mappings above are gone.
        let bound = slot.set(pmem);
        let pmem = bound.data();
        if let Some(pm) = &mapped {
            pm.set_owner(&bound);
        }
        if let Some(dax) = DaxDevice::new(&bound, region.is_sync())? {
            dax.add_host(&pmem.disk)?;
            dax.set_write_cache(region.has_cache());
            pmem.dax.populate(dax);
        }
        pmem.disk.add(&bound)?;
        pmem.disk.check_and_set_ro();
        match mem::SysfsNode::badblocks_of(&pmem.disk) {
            Some(node) => {
                pmem.bb_state.populate(node);
            }
            None => dev_warn!(dev.device(), "'badblocks' notification disabled\n"),
        }
        match DevDir::new(&bound, pmem.disk.name()) {
            Ok(Some(dir)) => {
                pmem.debugfs.populate(dir);
            }
            Ok(None) => {}
            Err(_) => dev_warn!(dev.device(), "no debugfs directory\n"),
        }
        // Registered last, so it runs first at unbind: the DAX device is
        // killed before the disk goes, as nd_pmem does. (Each of them, and
        // the debugfs files, also goes by a devres action of its own,
        // registered above, which then finds nothing left to do.)
        bound.on_unbind(Self::unbind)
    }

    /// Runs first at unbind (nd_pmem's `pmem_release_disk`): the DAX
    /// device is killed (its holder told that the device goes away,
    /// `MF_MEM_PRE_REMOVE`), then the disk deleted, so that no new DAX
    /// access or bio arrives. The device itself stays, for the
    /// `memory_failure` calls that may run until its page map is gone.
    fn unbind(pmem: Pin<&Self>) {
        if let Some(dax) = pmem.dax() {
            dax.kill();
        }
        pmem.disk.remove();
    }

    fn dax(&self) -> Option<&DaxDevice<Self>> {
        self.dax.as_ref()
    }

    /// `submit_bio`: nd_pmem's `pmem_submit_bio`. Inlined into the
    /// layer's C entry point, as nd_pmem's is the entry point itself.
    #[inline]
    pub(crate) fn submit_bio(&self, bio: Bio) {
        if bio.preflush() {
            if let Err(e) = self.region.flush() {
                return bio.end(Err(e));
            }
        }
        let mut status = Ok(());
        if bio.has_data() {
            let acct = bio.start_io_acct();
            // Without poison, the whole bio at once (one bounds check);
            // else segment by segment, each checked against the records.
            status = match (self.poison.is_empty(), bio.is_write()) {
                (true, true) => self
                    .map
                    .write_bio(self.layout.offset_of(bio.sector()), &bio),
                (true, false) => self.map.read_bio(self.layout.offset_of(bio.sector()), &bio),
                (false, true) => bio.for_each_segment(|seg| self.do_write(&seg)),
                (false, false) => bio.for_each_segment(|seg| self.do_read(&seg)),
            };
            bio.end_io_acct(acct);
        }
        if bio.fua() && status.is_ok() {
            match self.region.flush_bio(bio) {
                Ok(Some(bio)) => bio.end(Ok(())),
                // The flush completes the bio.
                Ok(None) => {}
                Err((bio, e)) => bio.end(Err(e)),
            }
            return;
        }
        bio.end(status);
    }

    #[inline]
    fn do_read(&self, seg: &Segment<'_>) -> Result {
        if self
            .poison
            .check(range::sector_span(seg.sector(), seg.len().into()))
            .is_some()
        {
            poison::count(&self.poison.counters.hits);
            return Err(EIO);
        }
        self.map.read(self.layout.offset_of(seg.sector()), seg)
    }

    /// A block write (also `zero_page_range`). Over poison: the media is
    /// cleared first, the data written, and only then the records dropped,
    /// so that no reader sees the sectors as good before the data is in.
    #[inline]
    fn do_write(&self, seg: &Segment<'_>) -> Result {
        let offset = self.layout.offset_of(seg.sector());
        let sectors = range::sector_span(seg.sector(), seg.len().into());
        let poisoned = self.poison.check(sectors.clone()).is_some();
        if poisoned {
            self.clear_media(sectors.clone())?;
        }
        self.map.write(offset, seg)?;
        if poisoned {
            self.drop_records(sectors)?;
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
    ///
    /// Runs in a `memalloc_noio` scope: the clear-error command, the bus
    /// list edit and the direct-map change (`set_memory_*`, which may split
    /// page tables) allocate, and this is the device's own write path.
    fn clear_media(&self, sectors: Range<u64>) -> Result {
        let _noio = mem::NoIoScope::enter();
        let offset = self.layout.offset_of(sectors.start);
        let len = u32::try_from((sectors.end - sectors.start) << SECTOR_SHIFT).map_err(|_| EIO)?;
        let phys = self.layout.phys_addr + offset;
        if poison::firmware_clears(&self.region) {
            Region::clear_poison(&self.dev, phys, len)?;
            poison::count(&self.poison.counters.firmware_clears);
        } else {
            self.region.forget_poison(phys, len);
            poison::count(&self.poison.counters.software_clears);
        }
        self.restore_pages(&sectors);
        self.map.invalidate(offset, len.into())
    }

    /// Drops the records of `sectors` once good data is in them. `EIO`
    /// when a record could not be dropped (no memory for the lookup table,
    /// or `struct badblocks` could not split an entry): it stays, reads of
    /// it keep failing, and the write that repaired it reports the error
    /// rather than a recovery that did not happen.
    fn drop_records(&self, sectors: Range<u64>) -> Result {
        self.poison.clear(sectors).map_err(|_| EIO)?;
        poison::count(&self.poison.counters.recoveries);
        self.notify_badblocks();
        Ok(())
    }

    /// Makes the pages touching `sectors` whose records all lie inside
    /// `sectors` accessible again: HWPoison flag cleared, direct map
    /// restored (`clear_mce_nospec`, nd_pmem's `pmem_mkpage_present`).
    fn restore_pages(&self, sectors: &Range<u64>) {
        if !self.map.is_linear() {
            return;
        }
        let first = sectors.start / SECTORS_PER_PAGE;
        for page in first..sectors.end.div_ceil(SECTORS_PER_PAGE) {
            if self.poison.covered_by(&range::page_span(page, 1), sectors) {
                // Inside the data area, so inside the mapping.
                let _ = self
                    .map
                    .clear_page_poison(self.layout.page_offset(page), PAGE_SIZE);
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
    ///
    /// `pgoff` past the data area is refused (`ERANGE`) and `nr_pages` is
    /// clamped to what the data area has from `pgoff` on, so no
    /// caller-supplied number reaches the arithmetic unchecked.
    #[inline]
    pub(crate) fn direct_access(
        &self,
        pgoff: u64,
        nr_pages: u64,
        req: KaddrRequest,
    ) -> Result<Access> {
        let avail = self.layout.pages_from(pgoff);
        if avail == 0 {
            return Err(ERANGE);
        }
        let pages = if self.poison.is_empty() {
            avail
        } else {
            self.unpoisoned_pages(pgoff, nr_pages.min(avail), req.mode())?
        };
        // `pgoff` is inside the data area: no overflow.
        self.map
            .access(self.layout.map_page(pgoff), pages, req.mode())
    }

    /// The pages of `pgoff..pgoff + nr_pages` (inside the data area) that
    /// `direct_access` hands out in `mode` while poison is recorded:
    /// failfast stops before the first poisoned page (`EHWPOISON` if that
    /// is the first), recovery includes it. Out of line: the path with no
    /// poison stays small enough to inline.
    #[inline(never)]
    fn unpoisoned_pages(&self, pgoff: u64, nr_pages: u64, mode: AccessMode) -> Result<u64> {
        let span = range::page_span(pgoff, nr_pages);
        Ok(match (self.poison.search(span.clone()), mode) {
            (None, _) => nr_pages,
            (Some(bad), AccessMode::Failfast) => match range::clean_pages(span.start, bad.start) {
                0 => {
                    poison::count(&self.poison.counters.hits);
                    return Err(EHWPOISON);
                }
                clean => clean,
            },
            (Some(bad), AccessMode::Recovery) => range::recovery_pages(span.start, bad.start),
        })
    }

    /// `zero_page_range`: writes a page of zeroes (clearing poison first);
    /// `ERANGE` past the data area.
    pub(crate) fn zero_page_range(&self, pgoff: u64) -> Result {
        if self.layout.pages_from(pgoff) == 0 {
            return Err(ERANGE);
        }
        self.do_write(&Segment::zeroes(range::page_span(pgoff, 1).start))
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
    /// `addr` and `bytes` are checked: `addr` must lie in the first page of
    /// `pgoff` in the mapping and the range must end inside the data area,
    /// else nothing is written (0).
    pub(crate) fn recovery_write(&self, pgoff: u64, w: RecoveryWrite<'_>) -> usize {
        if self.layout.pages_from(pgoff) == 0 {
            return 0;
        }
        let page = self.layout.page_offset(pgoff);
        let Some(at) = self.map.offset_of(w.addr) else {
            return 0;
        };
        let off = at.wrapping_sub(page);
        let bytes: u64 = w.len.into_safe_cast();
        let end = (pgoff << PAGE_SHIFT)
            .checked_add(off)
            .and_then(|start| start.checked_add(bytes));
        if off >= PAGE_SIZE || end.is_none_or(|end| end > self.layout.capacity()) {
            return 0;
        }
        let span = range::page_span(pgoff, (off + bytes).div_ceil(PAGE_SIZE));
        if self.poison.check(span.clone()).is_none() {
            return self.map.write_from_iter(at, w.len, w.src);
        }
        let write = extents::full_sectors(pgoff * PAGE_SIZE + off, bytes);
        if !self.poison.covered_by(&span, &write) {
            return 0;
        }
        if self.clear_media(write.clone()).is_err() {
            return 0;
        }
        let written = self.map.write_from_iter(at, w.len, w.src);
        if written != w.len {
            return written;
        }
        match self.drop_records(write) {
            Ok(()) => written,
            // The data is in, but the record stays: report nothing written
            // (fs/dax.c: EFAULT) rather than a recovery that did not happen.
            Err(_) => 0,
        }
    }

    /// A memory failure on pages of this device (`memory_failure` of the
    /// page map): the file system holding it is told which data is lost.
    ///
    /// A real failure (a machine check, a firmware report) is also
    /// recorded as poison, so that later reads fail fast and a recovery
    /// write can repair it. A simulated one (`MF_SW_SIMULATED`:
    /// `madvise(MADV_HWPOISON)`, hwpoison `corrupt-pfn`) leaves the media
    /// as it was, as with nd_pmem, unless the `record_simulated` module
    /// parameter asks for it; nor is anything recorded for pages that go
    /// away with the device (`MF_MEM_PRE_REMOVE`).
    pub(crate) fn memory_failure(&self, pfn: u64, nr_pages: u64, flags: MfFlags) -> Result {
        let data = self.layout.pfn_range_to_data(pfn, nr_pages).ok_or(ENXIO)?;
        if !flags.is_pre_remove() && (!flags.is_simulated() || poison::record_simulated()) {
            self.inject_poison(data.start >> SECTOR_SHIFT..data.end >> SECTOR_SHIFT)?;
        }
        let dax = self.dax().ok_or(EOPNOTSUPP)?;
        dax.notify_failure(data.start, data.end - data.start, flags)
    }

    /// `NVDIMM_REVALIDATE_POISON`: reloads the poison list from the bus.
    pub(crate) fn revalidate_poison(&self) {
        self.load_known_poison(&self.poison_range);
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

    /// `NVDIMM_REVALIDATE_REGION`: follows the region's read-only state.
    pub(crate) fn revalidate_region(&self) {
        self.disk.check_and_set_ro();
    }

    /// Flushes the region's write-pending queues (remove and shutdown).
    pub(crate) fn flush(region: Region) {
        let _ = region.flush();
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
        self.poison.clear(sectors.clone())?;
        self.restore_pages(&sectors);
        self.notify_badblocks();
        Ok(())
    }

    /// The poison store.
    pub(crate) fn poison(&self) -> &Poison {
        &self.poison
    }

    /// Size of the data area in sectors.
    pub(crate) fn capacity_sectors(&self) -> u64 {
        self.layout.capacity_sectors()
    }

    /// `/sys/block/pmemN/dax/write_cache`: whether the DAX core caches
    /// writes (`EOPNOTSUPP` without a DAX device).
    pub(crate) fn write_cache(&self) -> Result<bool> {
        Ok(self.dax().ok_or(EOPNOTSUPP)?.write_cache())
    }

    /// Sets what [`Self::write_cache`] reads.
    pub(crate) fn set_write_cache(&self, on: bool) -> Result {
        self.dax().ok_or(EOPNOTSUPP)?.set_write_cache(on);
        Ok(())
    }
}

impl nd::Driver for Pmem {
    type Data = Data;

    fn probe(dev: &NdDevice<Core>, slot: DataSlot<'_, Data>) -> Result {
        Self::bind(dev, slot)
    }

    fn remove(dev: &NdDevice<Core>, _pmem: Option<Pin<&Pmem>>) {
        dev.detach_btt();
        // The device itself goes with devres, after this returns.
        Self::flush(dev.region());
    }

    fn shutdown(dev: &NdDevice<nd::Locked>, _pmem: Option<Pin<&Pmem>>) {
        Self::flush(dev.region());
    }

    fn notify(dev: &NdDevice<nd::Locked>, pmem: Option<Pin<&Pmem>>, event: nd::Event) {
        let Some(pmem) = pmem else {
            // A btt device: the BTT driver checks its namespace's list.
            if let nd::Event::RevalidatePoison = event {
                dev.revalidate_btt_poison();
            }
            return;
        };
        match event {
            nd::Event::RevalidatePoison => pmem.revalidate_poison(),
            nd::Event::RevalidateRegion => pmem.revalidate_region(),
        }
    }

    fn firmware_clears(region: &Region) -> bool {
        poison::firmware_clears(region)
    }
}

impl disk::Operations for Pmem {
    type Data = Data;
    type OwnerModule = crate::Rpmem;

    #[inline]
    fn submit_bio(pmem: Pin<&Pmem>, bio: Bio) {
        pmem.get_ref().submit_bio(bio);
    }

    /// `badblocks`: one `SECTOR COUNT` line a range (the kernel's format);
    /// `dax/write_cache`: `0` or `1`.
    fn show(pmem: Pin<&Pmem>, attr: disk::Attribute, page: &mut SysfsPage<'_>) -> Result {
        match attr {
            disk::Attribute::Badblocks => pmem.poison.show(page),
            disk::Attribute::WriteCache => {
                page.write(if pmem.write_cache()? { b"1\n" } else { b"0\n" })
            }
        }
    }

    /// `badblocks`: `SECTOR COUNT` recorded as poison; `dax/write_cache`: a
    /// boolean (`kstrtobool`). Both need `CAP_SYS_ADMIN` (`EPERM`).
    fn store(pmem: Pin<&Pmem>, attr: disk::Attribute, input: &[u8]) -> Result {
        if !cred::capable_sys_admin() {
            return Err(EPERM);
        }
        match attr {
            disk::Attribute::Badblocks => pmem.badblocks_store(input),
            disk::Attribute::WriteCache => {
                pmem.set_write_cache(crate::parse::boolean(input).map_err(|_| EINVAL)?)
            }
        }
    }
}

impl dax::Operations for Pmem {
    type Data = Data;

    #[inline]
    fn direct_access(
        pmem: Pin<&Pmem>,
        pgoff: u64,
        nr_pages: u64,
        req: KaddrRequest,
    ) -> Result<Access> {
        pmem.get_ref().direct_access(pgoff, nr_pages, req)
    }

    fn zero_page_range(pmem: Pin<&Pmem>, pgoff: u64, nr_pages: u64) -> Result {
        // The DAX core asks for one page (and refuses more, for now).
        for i in 0..nr_pages {
            pmem.get_ref()
                .zero_page_range(pgoff.checked_add(i).ok_or(ERANGE)?)?;
        }
        Ok(())
    }

    fn recovery_write(pmem: Pin<&Pmem>, pgoff: u64, write: RecoveryWrite<'_>) -> usize {
        pmem.get_ref().recovery_write(pgoff, write)
    }
}

impl pagemap::Operations for Pmem {
    type Data = Data;

    fn memory_failure(pmem: Pin<&Pmem>, pfn: u64, nr_pages: u64, flags: MfFlags) -> Result {
        pmem.get_ref().memory_failure(pfn, nr_pages, flags)
    }
}
