// SPDX-License-Identifier: GPL-2.0

//! The DAX access mode carried in the low bits of a kernel address.
//!
//! rpmem's `direct_access` core takes one value that is both the request's
//! mode and, once answered, the address handed out: the convention proposed
//! in the 2021 "Dax poison recovery" series, where the caller's `*kaddr`
//! says what it wants (`NULL`: failfast, [`RECOVERY_FLAG`]: recovery) and
//! the driver writes the address back. A [`TaggedKaddr`] can only be turned
//! into an address through [`TaggedKaddr::addr`], which strips the flag, so
//! a flagged value is never used as an address by mistake.
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

/// A kernel address with an [`AccessMode`] in its low bits.
///
/// # Invariants
///
/// The address part (`self.0 & !MODE_MASK`) has no mode bits set, and the
/// mode bits hold a valid mode.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct TaggedKaddr(usize);

impl core::fmt::Debug for TaggedKaddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never prints the raw value: kernel addresses stay hidden (%p).
        write!(f, "TaggedKaddr({:?})", self.mode())
    }
}

/// A raw value that is not a valid tagged request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidTag;

impl TaggedKaddr {
    /// A request without an address yet (`*kaddr` as a caller sets it).
    pub const fn request(mode: AccessMode) -> Self {
        // INVARIANT: No address bits; the mode bits encode `mode`.
        Self(Self::bits(mode))
    }

    /// `addr` tagged with `mode`; `None` if `addr` uses a mode bit (it is
    /// not even 2-byte aligned, so it is no address `direct_access` makes).
    pub const fn new(addr: usize, mode: AccessMode) -> Option<Self> {
        if addr & MODE_MASK != 0 {
            return None;
        }
        // INVARIANT: Checked above.
        Some(Self(addr | Self::bits(mode)))
    }

    /// Decodes a caller's input `*kaddr`: exactly `0` (failfast) or exactly
    /// [`RECOVERY_FLAG`] (recovery). Anything else is refused: an input
    /// with address bits is uninitialised memory, not a request.
    pub const fn from_request(raw: usize) -> Result<Self, InvalidTag> {
        match raw {
            0 => Ok(Self::request(AccessMode::Failfast)),
            RECOVERY_FLAG => Ok(Self::request(AccessMode::Recovery)),
            _ => Err(InvalidTag),
        }
    }

    const fn bits(mode: AccessMode) -> usize {
        match mode {
            AccessMode::Failfast => 0,
            AccessMode::Recovery => RECOVERY_FLAG,
        }
    }

    /// The access mode.
    pub const fn mode(self) -> AccessMode {
        if self.0 & RECOVERY_FLAG != 0 {
            AccessMode::Recovery
        } else {
            AccessMode::Failfast
        }
    }

    /// The address, with the mode bits stripped.
    pub const fn addr(self) -> usize {
        self.0 & !MODE_MASK
    }

    /// The same mode with `addr` as the address (`None` as in [`Self::new`]).
    pub const fn with_addr(self, addr: usize) -> Option<Self> {
        Self::new(addr, self.mode())
    }

    /// The raw value, flag bits included, for the C side of the convention.
    pub const fn into_raw(self) -> usize {
        self.0
    }
}
