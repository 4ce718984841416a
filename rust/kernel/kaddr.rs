// SPDX-License-Identifier: GPL-2.0

//! The DAX access mode carried in the low bits of a kernel address.
//!
//! rpmem's `direct_access` core takes one value that is both the request's
//! mode and, once answered, the address handed out: the convention proposed
//! in the 2021 "Dax poison recovery" series, where the caller's `*kaddr`
//! says what it wants (`NULL`: failfast, [`RECOVERY_FLAG`]: recovery) and
//! the driver writes the address back. The two halves are two types: a
//! [`KaddrRequest`] carries only a mode and has no address to give, and a
//! [`Kaddr`] answer carries a non-null address that only [`Kaddr::addr`]
//! yields, with the flag stripped, so a flagged value is never used as an
//! address by mistake.
//!
//! Pure code: the host crate tests it with `cargo test`.

/// The flag bit that asks for recovery mode. Kernel addresses handed out by
/// `direct_access` are page aligned, so bit 0 is always free.
pub const RECOVERY_FLAG: usize = 1;

/// Every bit that may carry a mode.
const MODE_MASK: usize = RECOVERY_FLAG;

/// How `direct_access` is asked to hand out a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessMode {
    /// Refuse poisoned pages: hand out only the clean pages before the first
    /// poisoned one, `-EHWPOISON` if the first page is poisoned.
    Failfast,
    /// Hand out the range up to the first poisoned page, at least one page,
    /// so that a recovery write can repair it.
    Recovery,
}

/// What a caller asks `direct_access` for: a mode in the low bits and no
/// address. It has no accessor that yields an address, so a request can
/// never be handed out (or dereferenced) as one.
///
/// # Invariants
///
/// Only mode bits are set, and they hold a valid mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub struct KaddrRequest(usize);

/// A raw value that is not a valid request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidTag;

impl KaddrRequest {
    /// A request for `mode` (`*kaddr` as a caller sets it).
    pub const fn new(mode: AccessMode) -> Self {
        // INVARIANT: No address bits; the mode bits encode `mode`.
        Self(mode_bits(mode))
    }

    /// Decodes a caller's input `*kaddr`: exactly `0` (failfast) or exactly
    /// [`RECOVERY_FLAG`] (recovery). Anything else is refused: an input
    /// with address bits is uninitialised memory, not a request.
    pub const fn from_raw(raw: usize) -> Result<Self, InvalidTag> {
        match raw {
            0 => Ok(Self::new(AccessMode::Failfast)),
            RECOVERY_FLAG => Ok(Self::new(AccessMode::Recovery)),
            _ => Err(InvalidTag),
        }
    }

    /// The access mode asked for.
    pub const fn mode(self) -> AccessMode {
        mode_of(self.0)
    }

    /// The raw value (mode bits only), for the C side of the convention.
    pub const fn into_raw(self) -> usize {
        self.0
    }
}

/// What `direct_access` answers: a non-null kernel address with the mode
/// it was handed out for in its low bits. [`Kaddr::addr`] strips them, so
/// the tagged value is never used as an address by mistake.
///
/// # Invariants
///
/// The address part (`self.0 & !MODE_MASK`) is not null and the mode bits
/// hold a valid mode.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Kaddr(core::num::NonZeroUsize);

impl core::fmt::Debug for Kaddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never prints the raw value: kernel addresses stay hidden (%p).
        write!(f, "Kaddr({:?})", self.mode())
    }
}

impl Kaddr {
    /// `addr` handed out for `mode`; `None` if `addr` is null or uses a
    /// mode bit (it is not even 2-byte aligned, so it is no address that
    /// `direct_access` makes).
    pub const fn new(addr: usize, mode: AccessMode) -> Option<Self> {
        if addr == 0 || addr & MODE_MASK != 0 {
            return None;
        }
        match core::num::NonZeroUsize::new(addr | mode_bits(mode)) {
            // INVARIANT: Checked above.
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// The mode it was handed out for.
    pub const fn mode(self) -> AccessMode {
        mode_of(self.0.get())
    }

    /// The address, with the mode bits stripped: never null.
    pub const fn addr(self) -> usize {
        self.0.get() & !MODE_MASK
    }

    /// The raw value, mode bits included, for the C side of the convention.
    pub const fn into_raw(self) -> usize {
        self.0.get()
    }
}

const fn mode_bits(mode: AccessMode) -> usize {
    match mode {
        AccessMode::Failfast => 0,
        AccessMode::Recovery => RECOVERY_FLAG,
    }
}

const fn mode_of(raw: usize) -> AccessMode {
    if raw & RECOVERY_FLAG != 0 {
        AccessMode::Recovery
    } else {
        AccessMode::Failfast
    }
}
