// SPDX-License-Identifier: GPL-2.0

//! The nvdimm bus (include/linux/nd.h, drivers/nvdimm/nd.h): a driver of
//! its namespaces ([`Driver`], registered with [`Registration`]), the device
//! being probed (a namespace, or the pfn/btt/dax device that claims one),
//! its driver data, its namespace and its region.

use super::{
    badblocks::BadBlocks,
    disk::Bio,
    mem::{NoIoScope, PmemMap},
    sys,
};
use core::{
    marker::PhantomData,
    ops::Range,
    sync::atomic::{AtomicUsize, Ordering},
};
use kernel::{
    device::Device,
    error::{from_err_ptr, from_result, to_result},
    ffi::{c_int, c_ulong, c_void},
    num::casts::IntoSafeCast,
    prelude::*,
    sync::{aref::ARef, Arc},
    types::{ForeignOwnable, Opaque},
    ThisModule,
};

// The module's aliases (`nd:t4*`, `nd:t5*` in rpmem_main.rs) name these
// device types, as nd_pmem's MODULE_ALIAS_ND_DEVICE does.
const _: () = assert!(sys::ND_DEVICE_NAMESPACE_IO == 4 && sys::ND_DEVICE_NAMESPACE_PMEM == 5);

/// What the nd bus tells a bound device's driver (`enum nvdimm_event`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// The bus's poison list changed (a scrub finished): reload it.
    RevalidatePoison,
    /// The region's state changed (read-only).
    RevalidateRegion,
}

impl TryFrom<sys::nvdimm_event> for Event {
    type Error = Error;

    fn try_from(event: sys::nvdimm_event) -> Result<Self> {
        match event {
            sys::nvdimm_event_NVDIMM_REVALIDATE_POISON => Ok(Self::RevalidatePoison),
            sys::nvdimm_event_NVDIMM_REVALIDATE_REGION => Ok(Self::RevalidateRegion),
            _ => Err(EINVAL),
        }
    }
}

/// A driver of nd namespaces (`struct nd_device_driver`). Its callbacks run
/// under the device's lock; `data` is the driver data that the probe stored
/// in its [`DataSlot`], if it stored any.
pub(crate) trait Driver: 'static {
    /// The driver data of a bound device.
    type Data: ForeignOwnable + Send + Sync + 'static;

    /// Binds `dev`, or fails with the error the bus reports. `slot` is the
    /// device's driver data, reserved before anything else the probe sets
    /// up and so released after all of it.
    fn probe(dev: &NdDevice<Core>, slot: DataSlot<'_, Self::Data>) -> Result;

    /// `dev` is being unbound; devres releases what the probe set up (the
    /// driver data last) after this returns.
    fn remove(dev: &NdDevice<Core>, data: Option<<Self::Data as ForeignOwnable>::Borrowed<'_>>);

    /// The system shuts down.
    fn shutdown(dev: &NdDevice<Locked>, data: Option<<Self::Data as ForeignOwnable>::Borrowed<'_>>);

    /// The bus tells the bound `dev` about `event`.
    fn notify(
        dev: &NdDevice<Locked>,
        data: Option<<Self::Data as ForeignOwnable>::Borrowed<'_>>,
        event: Event,
    );

    /// Whether poison in `region` is cleared with the bus's clear-error
    /// command; if not, the media is taken to have none to clear (emulated
    /// NVDIMMs) and the range is only forgotten on the bus. Asked before
    /// the BTT of a btt device writes over known poison (see
    /// [`NdDevice::attach_btt`]).
    fn firmware_clears(region: &Region) -> bool;
}

/// The registration of a [`Driver`] for namespace io/pmem devices (and the
/// pfn/btt/dax devices that claim them): `nd_driver_register` until drop.
///
/// # Invariants
///
/// `drv` is registered with the nd bus for as long as this value exists.
#[pin_data(PinnedDrop)]
pub(crate) struct Registration<T: Driver> {
    #[pin]
    drv: Opaque<sys::nd_device_driver>,
    _driver: PhantomData<T>,
}

// SAFETY: Nothing is reachable through `&Registration`.
unsafe impl<T: Driver> Sync for Registration<T> {}
// SAFETY: Registering and unregistering may be done from any thread.
unsafe impl<T: Driver> Send for Registration<T> {}

impl<T: Driver> Registration<T> {
    /// Registers `T` as driver `name` of `module`.
    pub(crate) fn new(
        name: &'static CStr,
        module: &'static ThisModule,
    ) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            drv <- Opaque::try_ffi_init(|drv: *mut sys::nd_device_driver| {
                // SAFETY: `drv` is valid for writes; every field of the C
                // struct is a pointer, an optional function or an integer,
                // for which zero is valid.
                unsafe {
                    drv.write(core::mem::zeroed());
                    (*drv).drv.name = name.as_char_ptr();
                    (*drv).type_ = (sys::nd_driver_flags_ND_DRIVER_NAMESPACE_IO
                        | sys::nd_driver_flags_ND_DRIVER_NAMESPACE_PMEM)
                        .into_safe_cast();
                    (*drv).probe = Some(Self::probe_callback);
                    (*drv).remove = Some(Self::remove_callback);
                    (*drv).shutdown = Some(Self::shutdown_callback);
                    (*drv).notify = Some(Self::notify_callback);
                }
                // SAFETY: `drv` is pinned (`try_ffi_init`) and unregistered
                // by `drop` before it goes.
                to_result(unsafe {
                    sys::__nd_driver_register(drv, module.as_ptr(), name.as_char_ptr())
                })
            }),
            _driver: PhantomData,
        })
    }

    /// The driver data of `dev`, if its probe stored one.
    ///
    /// # Safety
    ///
    /// `dev` must be bound to this driver, and its lock held during `'a`.
    unsafe fn data<'a, C>(dev: &NdDevice<C>) -> Option<<T::Data as ForeignOwnable>::Borrowed<'a>> {
        let ptr = dev.drvdata();
        // SAFETY: The driver data is null (the driver core clears it at
        // unbind and after a failed probe) or what `DataSlot::set` stored,
        // released at unbind only, which the device lock holds off.
        (!ptr.is_null()).then(|| unsafe { T::Data::borrow(ptr) })
    }

    /// # Safety
    ///
    /// Called by the nd bus with a device this driver matches, under its
    /// lock.
    unsafe extern "C" fn probe_callback(dev: *mut sys::device) -> i32 {
        // SAFETY: By the caller `dev` is a valid nd device for the call,
        // in its probe.
        let dev = unsafe { NdDevice::<Core>::from_raw(dev) };
        from_result(|| T::probe(&dev, dev.reserve_data()?).map(|()| 0))
    }

    /// # Safety
    ///
    /// Called by the nd bus for a device this driver bound, under its lock.
    unsafe extern "C" fn remove_callback(dev: *mut sys::device) {
        // SAFETY: By the caller; `remove` is the start of the unbind.
        let dev = unsafe { NdDevice::<Core>::from_raw(dev) };
        // SAFETY: Bound, under its lock.
        T::remove(&dev, unsafe { Self::data(&dev) });
    }

    /// # Safety
    ///
    /// Called by the driver core at shutdown for a device this driver
    /// bound, under its lock.
    unsafe extern "C" fn shutdown_callback(dev: *mut sys::device) {
        // SAFETY: By the caller (bound, under its lock: `Locked`).
        let dev = unsafe { NdDevice::<Locked>::from_raw(dev) };
        // SAFETY: Bound, under its lock.
        T::shutdown(&dev, unsafe { Self::data(&dev) });
    }

    /// # Safety
    ///
    /// Called by the nd bus for a device this driver bound, under its lock.
    unsafe extern "C" fn notify_callback(dev: *mut sys::device, event: sys::nvdimm_event) {
        // SAFETY: By the caller (bound, under its lock: `Locked`).
        let dev = unsafe { NdDevice::<Locked>::from_raw(dev) };
        match Event::try_from(event) {
            // SAFETY: Bound, under its lock.
            Ok(event) => T::notify(&dev, unsafe { Self::data(&dev) }, event),
            Err(_) => dev_warn!(dev.device(), "notify: unknown event {}\n", event),
        }
    }
}

#[pinned_drop]
impl<T: Driver> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant `drv` is registered.
        unsafe { sys::driver_unregister(&raw mut (*self.drv.get()).drv) };
    }
}

/// The context of an [`NdDevice`] that its driver's probe or remove holds
/// (the device lock, the device being bound or unbound): what registers
/// device-managed resources (devres) needs it. Only the [`Driver`] adapter
/// makes devices of this context, and only lends them.
pub(crate) struct Core;

/// The context of an [`NdDevice`] that its driver's other callbacks
/// (shutdown, notify) hold: the device lock, the device bound to the
/// driver, so what the bus lets change only while it is unbound (a btt
/// device's namespace) stays. Only the [`Driver`] adapter makes devices of
/// this context, and only lends them.
pub(crate) struct Locked;

/// The context of an [`NdDevice`] that anyone may hold.
pub(crate) struct Normal;

/// A device on the nd bus that rpmem is probing or has bound: a namespace,
/// or the pfn/btt/dax device that claims one.
///
/// # Invariants
///
/// `dev` is a `struct device` of the nd bus, of one of the types rpmem's
/// driver matches, and `_ref` holds a reference to it: it stays valid for
/// as long as this value exists. In context [`Core`], the caller of the
/// driver's probe or remove holds the device lock, for as long as this
/// value exists; in context [`Locked`], the caller of its shutdown or
/// notify, with the device bound to the driver.
pub(crate) struct NdDevice<Ctx = Normal> {
    dev: *mut sys::device,
    _ref: ARef<Device>,
    _ctx: PhantomData<Ctx>,
}

impl Clone for NdDevice<Normal> {
    fn clone(&self) -> Self {
        // INVARIANT: Another reference to the same device.
        Self {
            dev: self.dev,
            _ref: self._ref.clone(),
            _ctx: PhantomData,
        }
    }
}

// SAFETY: The device is reference counted (`_ref`), and the nd bus
// functions called through it may be called from any thread.
unsafe impl Send for NdDevice<Normal> {}
// SAFETY: See `Send`; every method takes `&self` and C does the locking.
unsafe impl<Ctx> Sync for NdDevice<Ctx> {}

/// What `nd_pfn_probe`/`nd_btt_probe`/`nd_dax_probe` found on a namespace.
pub(crate) enum Claim {
    /// The info block was found and a new device claims the namespace.
    Claimed,
    /// No info block of that kind: go on.
    None,
}

impl<Ctx> NdDevice<Ctx> {
    /// Takes a reference to `dev`.
    ///
    /// # Safety
    ///
    /// `dev` must be a valid nd bus device of a type rpmem's driver matches
    /// (namespace io/pmem, pfn, btt or dax), with a reference held by the
    /// caller for the duration of this call; for [`Core`], the caller is the
    /// device's probe or remove, for [`Locked`] its shutdown or notify of the
    /// driver that bound it, and the value does not outlive it.
    unsafe fn from_raw(dev: *mut sys::device) -> Self {
        // INVARIANT: By the safety requirements; `get_device` takes the
        // reference that keeps it valid.
        Self {
            dev,
            // SAFETY: By the safety requirements `dev` is valid and
            // referenced; nd devices are released from any thread.
            _ref: unsafe { Device::get_device(dev) },
            _ctx: PhantomData,
        }
    }

    pub(super) fn as_raw(&self) -> *mut sys::device {
        self.dev
    }

    /// The device in context [`Normal`], to keep.
    pub(crate) fn to_normal(&self) -> NdDevice<Normal> {
        // INVARIANT: Another reference to the same device.
        NdDevice {
            dev: self.dev,
            _ref: self._ref.clone(),
            _ctx: PhantomData,
        }
    }

    /// The generic device, for `dev_*!` messages.
    pub(crate) fn device(&self) -> &Device {
        // SAFETY: By the type invariant `dev` is valid and referenced.
        unsafe { Device::from_raw(self.dev) }
    }

    pub(crate) fn is_pfn(&self) -> bool {
        // SAFETY: By the type invariant `dev` is valid.
        unsafe { sys::is_nd_pfn(self.dev) }
    }

    pub(crate) fn is_btt(&self) -> bool {
        // SAFETY: By the type invariant `dev` is valid.
        unsafe { sys::is_nd_btt(self.dev) }
    }

    /// Whether a raw namespace gets struct pages (`memmap=` regions with
    /// `ND_REGION_PAGEMAP`).
    pub(crate) fn should_map_pages(&self) -> bool {
        // SAFETY: By the type invariant `dev` is valid.
        unsafe { sys::pmem_should_map_pages(self.dev) }
    }

    /// The pfn device (`pfnX.Y`), if this is one.
    pub(crate) fn pfn(&self) -> Option<Pfn<'_>> {
        if !self.is_pfn() {
            return None;
        }
        // INVARIANT: A pfn device embeds its `struct nd_pfn`, which lives
        // as long as the device, borrowed here.
        // SAFETY: By the type invariant `dev` is valid; it is a pfn device.
        Some(Pfn(unsafe { sys::to_nd_pfn(self.dev) }, PhantomData))
    }

    /// The region of the device, referenced.
    pub(crate) fn region(&self) -> Region {
        // SAFETY: By the type invariant `dev` is valid; nd namespace devices
        // are children of their region, which outlives them.
        unsafe { Region::parent_of(self.dev) }
    }

    pub(crate) fn numa_node(&self) -> i32 {
        // SAFETY: By the type invariant `dev` is valid.
        unsafe { sys::rpmem_dev_to_node(self.dev) }
    }

    /// The driver data (a `T::into_foreign` pointer) that
    /// [`DataSlot::set`] stored, null before.
    fn drvdata(&self) -> *mut kernel::ffi::c_void {
        // SAFETY: By the type invariant `dev` is valid.
        unsafe { sys::rpmem_get_drvdata(self.dev) }
    }
}

impl NdDevice<Locked> {
    /// For a btt device: reloads the bad blocks that the BTT driver checks
    /// on every read and write (its namespace's `nsio->bb`) from the bus's
    /// poison list, as `nd_pmem` does on `NVDIMM_REVALIDATE_POISON`, so
    /// that a machine check or a scrub that finds poison in the namespace
    /// fails the BTT's reads of it with `EIO` instead of reading the media.
    /// Nothing for any other device, or a btt device without a namespace.
    pub(crate) fn revalidate_btt_poison(&self) {
        if !self.is_btt() {
            return;
        }
        // SAFETY: By the type invariant `dev` is valid, and a btt device
        // (checked) embeds its `struct nd_btt`. It is bound (`Locked`): the
        // bus does not change the namespace of a bound btt device, and the
        // namespace, an io namespace, outlives the btt device that claims
        // it, a child of its region. `nvdimm_badblocks_populate` takes the
        // bus lock and the list's own, as in `nd_pmem`.
        unsafe {
            let ndns = (*sys::to_nd_btt(self.dev)).ndns;
            if ndns.is_null() {
                return;
            }
            let nsio = sys::rpmem_to_nd_namespace_io(ndns);
            let range = kernel::bindings::range {
                start: (*nsio).res.start,
                end: (*nsio).res.end,
            };
            sys::nvdimm_badblocks_populate(
                sys::rpmem_parent_region(&raw mut (*ndns).dev),
                &raw mut (*nsio).bb,
                &range,
            );
        }
    }
}

impl NdDevice<Core> {
    /// `nvdimm_namespace_common_probe`: the namespace this device uses.
    pub(crate) fn namespace(&self) -> Result<Namespace<'_>> {
        // SAFETY: By the type invariant `dev` is valid.
        let ndns = from_err_ptr(unsafe { sys::nvdimm_namespace_common_probe(self.dev) })?;
        // INVARIANT: The namespace outlives the device probing it, borrowed.
        Ok(Namespace(ndns, PhantomData))
    }

    /// Enables raw (info block) access to `ns` until the device is unbound
    /// or [`Self::disable_namespace`] is called.
    pub(crate) fn enable_namespace(&self, ns: &Namespace<'_>) -> Result {
        // SAFETY: By the type invariants both pointers are valid.
        to_result(unsafe {
            sys::devm_namespace_enable(self.dev, ns.0, sys::rpmem_info_block_reserve().into())
        })
    }

    pub(crate) fn disable_namespace(&self, ns: &Namespace<'_>) {
        // SAFETY: By the type invariants both pointers are valid.
        unsafe { sys::devm_namespace_disable(self.dev, ns.0) };
    }

    fn claim(rc: i32) -> Result<Claim> {
        match rc {
            0 => Ok(Claim::Claimed),
            rc if rc == EOPNOTSUPP.to_errno() => Err(EOPNOTSUPP),
            _ => Ok(Claim::None),
        }
    }

    /// Looks for a BTT info block on `ns` (creates the btt device if found).
    pub(crate) fn probe_btt(&self, ns: &Namespace<'_>) -> Claim {
        // SAFETY: By the type invariants both pointers are valid.
        match unsafe { sys::nd_btt_probe(self.dev, ns.0) } {
            0 => Claim::Claimed,
            _ => Claim::None,
        }
    }

    /// Looks for a pfn (fsdax) info block on `ns`.
    pub(crate) fn probe_pfn(&self, ns: &Namespace<'_>) -> Result<Claim> {
        // SAFETY: By the type invariants both pointers are valid.
        Self::claim(unsafe { sys::nd_pfn_probe(self.dev, ns.0) })
    }

    /// Looks for a device-dax info block on `ns`.
    pub(crate) fn probe_dax(&self, ns: &Namespace<'_>) -> Result<Claim> {
        // SAFETY: By the type invariants both pointers are valid.
        Self::claim(unsafe { sys::nd_dax_probe(self.dev, ns.0) })
    }

    /// Attaches the BTT driver (nd_btt.ko) to this btt device; `EINVAL`
    /// if it is not one, `EOPNOTSUPP` if nd_btt was not loaded when this
    /// module was (see [`btt_loaded`]). Then the BTT reaches its namespace's bytes through
    /// [`btt_rw_bytes`], which clears poison (with `T`'s policy) before a
    /// write over it, until [`Self::detach_btt`].
    pub(crate) fn attach_btt<T: Driver>(&self, ns: &Namespace<'_>) -> Result {
        if !self.is_btt() {
            return Err(EINVAL);
        }
        // SAFETY: By the type invariant `ns` is valid, the namespace of this
        // btt device (`nvdimm_namespace_common_probe`).
        to_result(unsafe { sys::rpmem_attach_btt(ns.0) })?;
        // SAFETY: `ns.0` is valid (above) and enabled by the attach
        // (`devm_namespace_enable`), which set `rw_bytes`; the BTT's I/O
        // may already call it, which the volatile accesses allow: a
        // pointer-sized store is single-copy atomic, and either function
        // serves a call.
        unsafe {
            let slot = &raw mut (*ns.0).rw_bytes;
            let Some(nsio) = slot.read_volatile() else {
                return Ok(());
            };
            let nsio = nsio as usize;
            match NSIO_RW_BYTES.compare_exchange(0, nsio, Ordering::Release, Ordering::Acquire) {
                Ok(_) => {}
                Err(saved) if saved == nsio => {}
                // Not the access of an io namespace (or hooked already).
                Err(_) => return Ok(()),
            }
            let hook: RwBytes = btt_rw_bytes::<T>;
            slot.write_volatile(Some(hook));
        }
        Ok(())
    }

    /// Detaches the BTT driver from this btt device and gives its namespace
    /// back its own byte access; nothing for any other device. The nd bus
    /// calls `remove` only for a device whose probe succeeded, so a btt
    /// device here has been attached.
    pub(crate) fn detach_btt(&self) {
        if !self.is_btt() {
            return;
        }
        // SAFETY: By the type invariant `dev` is valid; it is a btt device,
        // attached by a successful probe, whose namespace stays claimed by
        // it until after remove. Once `nvdimm_namespace_detach_btt` has
        // removed the BTT's disk, nothing calls `rw_bytes` until the
        // namespace is enabled again, which sets it anew.
        unsafe {
            let nd_btt = sys::to_nd_btt(self.dev);
            let ndns = (*nd_btt).ndns;
            sys::rpmem_detach_btt(nd_btt);
            if ndns.is_null() {
                return;
            }
            let slot = &raw mut (*ndns).rw_bytes;
            let nsio = NSIO_RW_BYTES.load(Ordering::Acquire);
            if nsio != 0 && slot.read_volatile().is_some_and(|f| f as usize != nsio) {
                // SAFETY: `nsio` came from a valid `RwBytes` (`attach_btt`).
                slot.write_volatile(Some(core::mem::transmute::<usize, RwBytes>(nsio)));
            }
        }
    }

    /// Reserves `range` for this device until it is unbound.
    pub(crate) fn request_mem_region(&self, range: &Range<u64>, ns: &Namespace<'_>) -> Result {
        // SAFETY: By the type invariants both pointers are valid.
        let ok = unsafe {
            sys::rpmem_devm_request_mem_region(self.dev, range.start, range.end - range.start, ns.0)
        };
        if ok {
            Ok(())
        } else {
            Err(EBUSY)
        }
    }

    /// Maps `range` write-back (ARCH_MEMREMAP_PMEM) until unbind.
    pub(crate) fn memremap(&self, range: &Range<u64>) -> Result<PmemMap> {
        let len = range.end - range.start;
        // SAFETY: By the type invariant `dev` is valid.
        let addr = unsafe {
            sys::devm_memremap(
                self.dev,
                range.start,
                usize::try_from(len)?,
                sys::ARCH_MEMREMAP_PMEM,
            )
        };
        // SAFETY: `devm_memremap` mapped `range` until unbind, in a devres
        // action registered after `reserve_data` (or the probe fails).
        unsafe { PmemMap::new(from_err_ptr(addr)?.cast(), range.start, len) }
    }

    /// Reserves the device's driver data (the adapter does, first in a
    /// probe). What [`DataSlot::set`] puts in the slot is dropped when the
    /// device is unbound (or its probe fails) after every devres action
    /// registered after this call: after the page map, the mappings and
    /// whatever else the driver sets up later are gone. That is how the
    /// data outlives every callback that can reach it (nd_pmem gets the
    /// same order by allocating its device first with `devm_kzalloc`).
    fn reserve_data<T: ForeignOwnable + Send + Sync>(&self) -> Result<DataSlot<'_, T>> {
        // Freed by devres after the action registered next has run.
        let cell = self.alloc_zeroed::<*mut kernel::ffi::c_void>()?;
        // SAFETY: By the type invariant `dev` is valid. `drop_data::<T>`
        // gets the zeroed cell, which is freed only after it ran (devres
        // releases in reverse order); it may run on any thread, as `T` is
        // `Send`.
        to_result(unsafe {
            sys::rpmem_devm_add_action_or_reset(self.dev, Some(drop_data::<T>), cell.cast())
        })?;
        // INVARIANT: `cell` is the zeroed cell of a registered `drop_data`.
        Ok(DataSlot {
            dev: self,
            cell,
            _data: PhantomData,
        })
    }

    /// Calls `reg.unbind()` when the device is unbound (or now, if that
    /// cannot be registered), before everything registered earlier is
    /// released; `reg` may end earlier too (its `unbind` runs once).
    pub(crate) fn unbind_with<U: Unbind>(&self, reg: Arc<U>) -> Result {
        self.drop_at_unbind(AtUnbind(reg))
    }

    /// Drops `value` when the device is unbound (or now, if that cannot be
    /// registered), before everything registered earlier is released.
    pub(crate) fn drop_at_unbind<U: Send + 'static>(&self, value: U) -> Result {
        let raw = KBox::into_raw(KBox::new(value, GFP_KERNEL)?);
        // SAFETY: By the type invariant `dev` is valid; `drop_box::<U>` gets
        // the box just leaked, once (now, if registering fails); `U` is
        // `Send`, so it may be dropped on the thread that unbinds.
        to_result(unsafe {
            sys::rpmem_devm_add_action_or_reset(self.dev, Some(drop_box::<U>), raw.cast())
        })
    }

    /// Zeroed memory freed at unbind, after everything registered later.
    pub(super) fn alloc_zeroed<T>(&self) -> Result<*mut T> {
        // SAFETY: By the type invariant `dev` is valid.
        let p = unsafe { sys::rpmem_devm_kzalloc(self.dev, core::mem::size_of::<T>()) };
        if p.is_null() {
            Err(ENOMEM)
        } else {
            Ok(p.cast())
        }
    }
}

/// The driver data slot of a device (see [`NdDevice::reserve_data`]).
///
/// # Invariants
///
/// `cell` is the device-managed, pointer-sized cell that a registered
/// `drop_data::<T>` action reads at unbind; it is null until [`Self::set`].
pub(crate) struct DataSlot<'a, T: ForeignOwnable> {
    dev: &'a NdDevice<Core>,
    cell: *mut *mut kernel::ffi::c_void,
    _data: PhantomData<T>,
}

impl<'a, T: ForeignOwnable> DataSlot<'a, T> {
    /// Stores `data` as the device's driver data until unbind, and returns
    /// it borrowed, for the registrations whose callbacks get it back (see
    /// [`Bound`]).
    pub(crate) fn set(self, data: T) -> Bound<'a, T> {
        let ptr = data.into_foreign();
        // SAFETY: By the type invariant `cell` is valid; the slot is
        // consumed, so it is set once. `drop_data` takes it back at unbind.
        unsafe { *self.cell = ptr };
        // SAFETY: By the type invariant of `NdDevice` `dev` is valid.
        unsafe { sys::rpmem_set_drvdata(self.dev.dev, ptr) };
        // INVARIANT: `ptr` came from `into_foreign` and is dropped by the
        // devres action registered before everything registered from now on.
        Bound {
            dev: self.dev,
            ptr,
            _data: PhantomData,
        }
    }
}

/// The driver data of a device, stored by [`DataSlot::set`]: the proof that
/// it stays valid until every devres action of the device registered after
/// [`NdDevice::reserve_data`] has run. Registrations (the DAX device, the
/// disk, the page map's owner) take it, so that their callbacks get the data
/// back for exactly as long as it lives.
///
/// # Invariants
///
/// `ptr` came from `T::into_foreign` and is released (`from_foreign`) only
/// by the devres action of [`NdDevice::reserve_data`], after the devres
/// actions registered later; `dev` is the device.
pub(crate) struct Bound<'a, T: ForeignOwnable> {
    dev: &'a NdDevice<Core>,
    ptr: *mut kernel::ffi::c_void,
    _data: PhantomData<T>,
}

impl<'a, T: ForeignOwnable> Bound<'a, T> {
    /// The data, borrowed for as long as the device's probe.
    pub(crate) fn data(&self) -> T::Borrowed<'a> {
        // SAFETY: By the type invariant `ptr` came from `into_foreign` and
        // is released only at unbind, after the probe that holds `'a`.
        unsafe { T::borrow(self.ptr) }
    }

    /// The device.
    pub(crate) fn device(&self) -> &'a NdDevice<Core> {
        self.dev
    }

    /// The foreign pointer, for C objects that hand it back to callbacks;
    /// those may `T::borrow` it while the registration that gets it is
    /// live, if that registration ends in a devres action registered after
    /// [`NdDevice::reserve_data`] (or before the device is unbound).
    pub(super) fn as_foreign(&self) -> *mut kernel::ffi::c_void {
        self.ptr
    }

    /// Runs `f(data)` when the device is unbound (or now, if registering
    /// fails), before the data and everything registered earlier are
    /// released: the place for what must end before the device goes.
    pub(crate) fn on_unbind(&self, f: fn(T::Borrowed<'_>)) -> Result
    where
        T: Send + Sync + 'static,
    {
        // INVARIANT: `ptr` is the data of this `Bound`, and the action is
        // registered after `reserve_data`.
        self.dev
            .drop_at_unbind(UnbindAction::<T> { f, ptr: self.ptr })
    }
}

/// What [`Bound::on_unbind`] registers: dropping it calls `f(data)`.
///
/// # Invariants
///
/// `ptr` is the foreign pointer of a [`Bound`], and the value is dropped by
/// a devres action registered after `reserve_data` (or while the probe
/// that made the `Bound` runs).
struct UnbindAction<T: ForeignOwnable> {
    f: fn(T::Borrowed<'_>),
    ptr: *mut kernel::ffi::c_void,
}

// SAFETY: It only borrows `T`, which is `Send + Sync`, at its drop.
unsafe impl<T: ForeignOwnable + Send + Sync> Send for UnbindAction<T> {}

impl<T: ForeignOwnable> Drop for UnbindAction<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the data is released after this.
        (self.f)(unsafe { T::borrow(self.ptr) });
    }
}

/// A registration of a device (its DAX device, disk, debugfs files) that
/// ends when the device is unbound, by [`NdDevice::unbind_with`], or before.
pub(crate) trait Unbind: Send + Sync + 'static {
    /// Ends the registration; later calls do nothing. May sleep.
    fn unbind(&self);
}

/// Calls `unbind` of its registration when dropped (at unbind).
struct AtUnbind<U: Unbind>(Arc<U>);

impl<U: Unbind> Drop for AtUnbind<U> {
    fn drop(&mut self) {
        self.0.unbind();
    }
}

/// The devres action of [`NdDevice::drop_at_unbind`].
///
/// # Safety
///
/// `value` must be the leaked box of a `U`; called once.
unsafe extern "C" fn drop_box<U>(value: *mut kernel::ffi::c_void) {
    // SAFETY: By the safety requirements the box is ours to take back.
    drop(unsafe { KBox::from_raw(value.cast::<U>()) });
}

/// The devres action of [`NdDevice::reserve_data`]: drops the data stored
/// in `cell`, if any.
///
/// # Safety
///
/// `cell` must be the cell of a [`DataSlot<T>`], still allocated; called
/// once.
unsafe extern "C" fn drop_data<T: ForeignOwnable>(cell: *mut kernel::ffi::c_void) {
    // SAFETY: By the safety requirements `cell` is valid.
    let ptr = unsafe { *cell.cast::<*mut kernel::ffi::c_void>() };
    if !ptr.is_null() {
        // SAFETY: `ptr` came from `into_foreign` in `DataSlot::set`, and
        // this action runs once, after every user of the data is gone.
        drop(unsafe { T::from_foreign(ptr) });
    }
}

/// A namespace (`struct nd_namespace_common`) of type io/pmem.
///
/// # Invariants
///
/// Points to a valid namespace that outlives the device probing it.
pub(crate) struct Namespace<'a>(
    *mut sys::nd_namespace_common,
    PhantomData<&'a NdDevice<Core>>,
);

impl Namespace<'_> {
    /// Physical address range of the namespace (`nsio->res`), end exclusive.
    pub(crate) fn resource(&self) -> Range<u64> {
        // SAFETY: By the type invariant `self.0` is valid; namespaces of
        // io/pmem type are embedded in a `struct nd_namespace_io`.
        let res = unsafe { (*sys::rpmem_to_nd_namespace_io(self.0)).res };
        res.start..res.end + 1
    }

    /// Logical block size of the namespace (512 or 4096).
    pub(crate) fn sector_size(&self) -> u32 {
        // SAFETY: By the type invariant `self.0` is valid.
        unsafe { sys::pmem_sector_size(self.0) }
    }

    /// Writes the block device name (`pmemN[.M][s]`) into `name`.
    ///
    /// # Safety
    ///
    /// `name` must be valid for writes of `DISK_NAME_LEN` bytes (a
    /// gendisk's `disk_name`) that no one else accesses meanwhile.
    pub(super) unsafe fn disk_name(&self, name: *mut kernel::ffi::c_char) {
        // SAFETY: By the type invariant `self.0` is valid; `name` by the
        // caller.
        unsafe { sys::nvdimm_namespace_disk_name(self.0, name) };
    }
}

/// A pfn (fsdax) device: the info block that places struct pages and data.
///
/// # Invariants
///
/// Points to the valid `struct nd_pfn` of a device borrowed for `'a`.
pub(crate) struct Pfn<'a>(*mut sys::nd_pfn, PhantomData<&'a NdDevice>);

/// Where a pfn device's info block puts the data, in bytes.
#[derive(Clone, Copy)]
pub(crate) struct PfnInfo {
    /// From the start of the namespace to the first data byte: a whole
    /// number of pages.
    pub(crate) data_offset: u64,
    /// Padding before the namespace to align it (not part of the data).
    pub(crate) start_pad: u64,
    /// Bytes cut off at the end for alignment.
    pub(crate) end_trunc: u64,
}

impl Pfn<'_> {
    /// Validates the info block and fills `pgmap` from it (range, altmap
    /// for map=dev); returns the layout it describes.
    ///
    /// # Safety
    ///
    /// `pgmap` must be valid for writes and zeroed.
    pub(super) unsafe fn setup(&self, pgmap: *mut sys::dev_pagemap) -> Result<PfnInfo> {
        // SAFETY: By the type invariant and the caller.
        to_result(unsafe { sys::nvdimm_setup_pfn(self.0, pgmap) })?;
        // SAFETY: By the type invariant `self.0` is valid; the successful
        // `nd_pfn_validate` inside `nvdimm_setup_pfn` set `pfn_sb`, which
        // lives as long as the device.
        let sb = unsafe { &*(*self.0).pfn_sb };
        let data_offset = u64::from_le(sb.dataoff);
        // `nd_pfn_validate` refused any other; the data's pages depend on it.
        if data_offset % u64::from(super::PAGE_SIZE_U32) != 0 {
            return Err(EINVAL);
        }
        Ok(PfnInfo {
            data_offset,
            start_pad: u64::from(u32::from_le(sb.start_pad)),
            end_trunc: u64::from(u32::from_le(sb.end_trunc)),
        })
    }
}

/// Whether the BTT driver's entry points were resolved when this module was
/// loaded: nd_btt.ko is referenced weakly (rust/rpmem_glue.c), so that the
/// module loads without it; modprobe loads it first (it is in `depends`).
pub(crate) fn btt_loaded() -> bool {
    // SAFETY: Compares two addresses the module loader set, with null.
    unsafe { sys::rpmem_has_btt() }
}

/// The type of `rw_bytes` in `struct nd_namespace_common`.
type RwBytes = unsafe extern "C" fn(
    *mut sys::nd_namespace_common,
    sys::resource_size_t,
    *mut c_void,
    usize,
    c_int,
    c_ulong,
) -> c_int;

/// The byte access that `devm_nsio_enable` gives every io namespace
/// (`nsio_rw_bytes`, static in drivers/nvdimm/claim.c), saved by the first
/// [`NdDevice::attach_btt`]: 0 before, then that one value for good.
static NSIO_RW_BYTES: AtomicUsize = AtomicUsize::new(0);

/// `READ` of include/linux/kernel.h: any other `rw` is a write.
const READ: c_int = 0;

/// The byte access (`rw_bytes`) of the namespace under a btt device while
/// rpmem drives it: `nsio_rw_bytes`, except that a write over known poison
/// first clears it, with the driver's policy, and drops its records from
/// the namespace's list; a clear that fails fails the write with `EIO`,
/// and nothing is written.
///
/// Why: `nsio_rw_bytes` compares a negative `long` (the clear's error) with
/// a `size_t` (`cleared < size`, false), so when the bus has no clear-error
/// command (QEMU's NVDIMMs: `-ENOTTY`) it writes over the poison, keeps the
/// record and reports success. The BTT zeroes a free block that is known
/// bad before it reuses it (`arena_clear_freelist_error`) and retries as
/// long as the block is still bad (`btt_write_pg`): with that success, for
/// ever on one CPU (the block belongs to the CPU's lane), and until the
/// writer migrates on several.
///
/// # Safety
///
/// Called by the BTT as `rw_bytes` of `ndns`, an enabled io namespace,
/// with `buf` valid for `size` bytes.
unsafe extern "C" fn btt_rw_bytes<T: Driver>(
    ndns: *mut sys::nd_namespace_common,
    offset: sys::resource_size_t,
    buf: *mut c_void,
    size: usize,
    rw: c_int,
    flags: c_ulong,
) -> c_int {
    let atomic: c_ulong = sys::NVDIMM_IO_ATOMIC.into_safe_cast();
    let atomic = flags & atomic != 0;
    if rw != READ && !atomic {
        // SAFETY: By the safety requirements.
        if let Err(err) = unsafe { clear_btt_poison::<T>(ndns, offset, size) } {
            return err.to_errno();
        }
    }
    // Set before this function was installed, so found at once; the loop
    // only covers a CPU that saw the hook before the saved value.
    let nsio = loop {
        match NSIO_RW_BYTES.load(Ordering::Acquire) {
            0 => core::hint::spin_loop(),
            nsio => break nsio,
        }
    };
    // SAFETY: `nsio` came from a valid `RwBytes` (`attach_btt`), called
    // with the caller's own arguments.
    unsafe { core::mem::transmute::<usize, RwBytes>(nsio)(ndns, offset, buf, size, rw, flags) }
}

/// Clears the known poison under a sleeping write of `size` bytes at
/// `offset` into the namespace `ndns` (as `nsio_rw_bytes` means to): all of
/// it and its records, or `EIO` with the records kept. Nothing for a
/// write without poison; unaligned or out-of-range writes are left to
/// `nsio_rw_bytes`, which refuses them.
///
/// # Safety
///
/// `ndns` is an enabled io namespace.
unsafe fn clear_btt_poison<T: Driver>(
    ndns: *mut sys::nd_namespace_common,
    offset: u64,
    size: usize,
) -> Result {
    const SECTOR: u64 = 512;
    // SAFETY: By the safety requirements `ndns` is an io namespace,
    // enabled: its `nsio` (`bb`, `addr`, `size`, `res`) is set up and stays
    // so while the BTT uses it.
    let nsio = unsafe { sys::rpmem_to_nd_namespace_io(ndns) };
    let len = u64::try_from(size).map_err(|_| EIO)?;
    let at = usize::try_from(offset).map_err(|_| EIO)?;
    // SAFETY: See above.
    let (ns_size, res_start, addr) = unsafe { ((*nsio).size, (*nsio).res.start, (*nsio).addr) };
    let aligned = offset % SECTOR == 0 && len % SECTOR == 0;
    if len == 0 || !aligned || offset.saturating_add(len) > ns_size {
        return Ok(());
    }
    let sectors = offset / SECTOR..(offset + len) / SECTOR;
    // SAFETY: See above; `nsio->bb` is initialised (`devm_init_badblocks`).
    let bb = unsafe { BadBlocks::from_raw(&raw mut (*nsio).bb) };
    if bb.check(sectors.clone()).is_none() {
        return Ok(());
    }
    let len32 = u32::try_from(len).map_err(|_| EIO)?;
    let phys = res_start + offset;
    // The clear-error command and the bus list allocate; this is the BTT's
    // write path.
    let _noio = NoIoScope::enter();
    // SAFETY: `ndns` is valid; its parent is its region.
    let region = unsafe { Region::parent_of(&raw mut (*ndns).dev) };
    if T::firmware_clears(&region) {
        // SAFETY: `ndns` is a valid nd device.
        unsafe { Region::clear_poison_of(&raw mut (*ndns).dev, phys, len32) }?;
    } else {
        region.forget_poison(phys, len32);
    }
    if !bb.clear(sectors) {
        return Err(EIO);
    }
    // SAFETY: `addr..addr + size` is the namespace's mapping (checked
    // range); stale cache lines of the poisoned range go.
    unsafe { sys::arch_invalidate_pmem(addr.byte_add(at), size) };
    Ok(())
}

/// The region a namespace lives in.
///
/// # Invariants
///
/// `region` points to a valid `struct nd_region`, kept so by the reference
/// to its device (`_ref`).
#[derive(Clone)]
pub(crate) struct Region {
    region: *mut sys::nd_region,
    _ref: ARef<Device>,
}

// SAFETY: The region functions used here may be called from any thread.
unsafe impl Send for Region {}
// SAFETY: See `Send`.
unsafe impl Sync for Region {}

impl Region {
    /// The region of `dev`, referenced.
    ///
    /// # Safety
    ///
    /// `dev` is a valid nd namespace device (or a pfn/btt/dax device), a
    /// child of its region.
    unsafe fn parent_of(dev: *mut sys::device) -> Self {
        // SAFETY: By the safety requirements; regions outlive their
        // children.
        let region = unsafe { sys::rpmem_parent_region(dev) };
        // INVARIANT: The reference to its device keeps the region (freed by
        // that device's release) valid.
        Region {
            region,
            // SAFETY: `region` is valid (above); its device is referenced
            // and released from any thread.
            _ref: unsafe { Device::get_device(&raw mut (*region).dev) },
        }
    }

    /// `nvdimm_flush`: the region's write-pending queues are flushed, data
    /// written before is durable.
    pub(crate) fn flush(&self) -> Result {
        // SAFETY: By the type invariant `self.region` is valid; no bio.
        match unsafe { sys::nvdimm_flush(self.region, core::ptr::null_mut()) } {
            0 => Ok(()),
            rc => Err(Error::from_errno(rc)),
        }
    }

    /// `nvdimm_flush` for a FUA `bio`: `Ok(Some(bio))` when the flush is
    /// done (the caller ends the bio), `Ok(None)` when the flush took the
    /// bio and completes it later (virtio-pmem), or the error (the caller
    /// ends the bio with it).
    pub(crate) fn flush_bio(&self, bio: Bio) -> Result<Option<Bio>, (Bio, Error)> {
        // SAFETY: By the type invariant `self.region` is valid; `bio` is a bio
        // being submitted, not ended; if the flush goes asynchronous it
        // completes the bio, which is then not used here again.
        let rc = unsafe { sys::nvdimm_flush(self.region, bio.as_raw()) };
        match rc {
            0 => Ok(Some(bio)),
            rc if rc == sys::NVDIMM_FLUSH_ASYNC as i32 => Ok(None),
            rc => Err((bio, Error::from_errno(rc))),
        }
    }

    /// `nvdimm_has_flush`: 1 with flush hints, 0 without, <0 if unknown.
    pub(crate) fn has_flush(&self) -> i32 {
        // SAFETY: By the type invariant `self.region` is valid.
        unsafe { sys::nvdimm_has_flush(self.region) }
    }

    pub(crate) fn has_cache(&self) -> bool {
        // SAFETY: By the type invariant `self.region` is valid.
        unsafe { sys::nvdimm_has_cache(self.region) != 0 }
    }

    pub(crate) fn is_sync(&self) -> bool {
        // SAFETY: By the type invariant `self.region` is valid.
        unsafe { sys::is_nvdimm_sync(self.region) }
    }

    /// The bus's known poison (its badrange list: scrub results, machine
    /// checks) that overlaps `range` (physical, end exclusive), clipped to
    /// it. Unlike `nvdimm_badblocks_populate()`, which drops what a full
    /// `struct badblocks` cannot take, this hands every range to the
    /// caller.
    pub(crate) fn known_poison(&self, range: &Range<u64>) -> Result<KVec<Range<u64>>> {
        let bus = self.bus();
        let mut out = KVec::new();
        let mut status = Ok(());
        // SAFETY: The bus lives as long as the region. Its lock serialises
        // with bus reconfiguration, as in `nvdimm_badblocks_populate()`;
        // the list's own spinlock with `badrange_add()`/`badrange_forget()`.
        // Under both, the list and its entries are stable; nothing here
        // sleeps (GFP_ATOMIC).
        unsafe {
            sys::nvdimm_bus_lock(&raw mut (*bus).dev);
            let br = &raw mut (*bus).badrange;
            sys::spin_lock(&raw mut (*br).lock);
            let head = &raw mut (*br).list;
            let mut pos = (*head).next;
            while pos != head {
                let entry = pos
                    .byte_sub(core::mem::offset_of!(sys::badrange_entry, list))
                    .cast::<sys::badrange_entry>();
                let start = (*entry).start.max(range.start);
                let end = (*entry)
                    .start
                    .saturating_add((*entry).length)
                    .min(range.end);
                if start < end && out.push(start..end, GFP_ATOMIC).is_err() {
                    status = Err(ENOMEM);
                    break;
                }
                pos = (*pos).next;
            }
            sys::spin_unlock(&raw mut (*br).lock);
            sys::nvdimm_bus_unlock(&raw mut (*bus).dev);
        }
        status.map(|()| out)
    }

    /// The nvdimm bus of the region (its parent device).
    fn bus(&self) -> *mut sys::nvdimm_bus {
        // SAFETY: By the type invariant `self.region` is valid; a region's parent
        // is the bus device it was created on, which outlives it.
        unsafe { sys::to_nvdimm_bus((*self.region).dev.parent) }
    }

    /// Whether the bus has a firmware clear-error command: an NFIT bus whose
    /// root offers ARS and Clear Error (QEMU's offers neither), not the e820
    /// bus, where the kernel's clear pretends to succeed.
    pub(crate) fn can_clear_errors(&self) -> bool {
        let need = (1 << sys::ND_CMD_ARS_CAP) | (1 << sys::ND_CMD_CLEAR_ERROR);
        // SAFETY: The bus and its descriptor live as long as the region.
        unsafe {
            let desc = (*self.bus()).nd_desc;
            (*desc).ndctl.is_some() && (*desc).cmd_mask & need == need
        }
    }

    /// Forgets `len` bytes at `phys` in the bus's list of known poison and
    /// in the region's own list (`regionN/badblocks`, which `ndctl list
    /// --media-errors` reads), as a firmware clear does
    /// (`nvdimm_account_cleared_poison`), so that neither a later
    /// revalidation nor ndctl brings back a record cleared in software.
    pub(crate) fn forget_poison(&self, phys: u64, len: u32) {
        // SAFETY: The bus lives as long as the region; `badrange_forget`
        // takes the list's own lock.
        unsafe { sys::badrange_forget(&raw mut (*self.bus()).badrange, phys, len) };
        // SAFETY: By the type invariant `self.region` is valid; its `bb` is
        // initialised while it exists (`nd_region_probe` sets it up before
        // its namespaces appear) and takes its own lock, and its `bb_state`
        // is set then or null.
        let (start, size, bb, bb_state) = unsafe {
            let r = self.region;
            (
                (*r).ndr_start,
                (*r).ndr_size,
                &raw mut (*r).bb,
                (*r).bb_state,
            )
        };
        let end = phys.saturating_add(len.into());
        if phys < start || end > start.saturating_add(size) || len < 512 {
            return;
        }
        // SAFETY: See above.
        let bb = unsafe { BadBlocks::from_raw(bb) };
        let sector = (phys - start) / 512;
        bb.clear(sector..sector + u64::from(len) / 512);
        if !bb_state.is_null() {
            // SAFETY: A non-null `bb_state` is the region's referenced
            // sysfs node, released only when the region goes.
            unsafe { sys::rpmem_sysfs_notify_dirent(bb_state) };
        }
    }

    /// Firmware clear-error over all of `phys..phys + len` via the bus of
    /// `dev`; `EIO` if the command failed (QEMU's NVDIMMs have none) or
    /// cleared less than all of it.
    pub(crate) fn clear_poison<C>(dev: &NdDevice<C>, phys: u64, len: u32) -> Result {
        // SAFETY: By the type invariant `dev` is a valid nd device.
        unsafe { Self::clear_poison_of(dev.as_raw(), phys, len) }
    }

    /// [`Self::clear_poison`] for a raw device pointer.
    ///
    /// # Safety
    ///
    /// `dev` is a valid nd device.
    unsafe fn clear_poison_of(dev: *mut sys::device, phys: u64, len: u32) -> Result {
        // SAFETY: By the safety requirements; the command takes the bus's
        // locks.
        let cleared = unsafe { sys::nvdimm_clear_poison(dev, phys, len) };
        match u64::try_from(cleared) {
            Ok(c) if c >= u64::from(len) => Ok(()),
            _ => Err(EIO),
        }
    }
}
