// SPDX-License-Identifier: GPL-2.0

//! Strict parsing of what user space writes to rpmem's sysfs and debugfs
//! files. Pure code: the host crate tests it with `cargo test`.

use crate::range::SECTOR_SIZE;
use core::ops::Range;

/// Why an input was refused (all of them become `-EINVAL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Not `SECTOR COUNT` in decimal.
    Syntax,
    /// A count of zero.
    Empty,
    /// A range that does not fit in the device (or overflows).
    OutOfRange,
}

/// Parses an unsigned decimal number: digits only, no sign, no overflow.
fn number(s: &str) -> Result<u64, ParseError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::Syntax);
    }
    s.parse::<u64>().map_err(|_| ParseError::OutOfRange)
}

/// Parses a boolean as the kernel's `kstrtobool()` does (what sysfs
/// boolean attributes take): `y`, `Y`, `t`, `T`, `1`, `on` are true; `n`,
/// `N`, `f`, `F`, `0`, `off` are false (case-insensitive `on`/`off`); only
/// the first one or two bytes count.
pub fn boolean(input: &[u8]) -> Result<bool, ParseError> {
    match input {
        [b'y' | b'Y' | b't' | b'T' | b'1', ..] => Ok(true),
        [b'n' | b'N' | b'f' | b'F' | b'0', ..] => Ok(false),
        [b'o' | b'O', b'n' | b'N', ..] => Ok(true),
        [b'o' | b'O', b'f' | b'F', ..] => Ok(false),
        _ => Err(ParseError::Syntax),
    }
}

/// Parses `START COUNT` (decimal, one space, an optional trailing newline)
/// with a non-zero count into `start..start + count`.
fn start_count(input: &[u8]) -> Result<Range<u64>, ParseError> {
    let s = core::str::from_utf8(input).map_err(|_| ParseError::Syntax)?;
    let s = s.strip_suffix('\n').unwrap_or(s);
    let (start, count) = s.split_once(' ').ok_or(ParseError::Syntax)?;
    let (start, count) = (number(start)?, number(count)?);
    if count == 0 {
        return Err(ParseError::Empty);
    }
    let end = start.checked_add(count).ok_or(ParseError::OutOfRange)?;
    Ok(start..end)
}

/// Parses `SECTOR COUNT` (one space, an optional trailing newline, as the
/// kernel's `badblocks_store` accepts) into a sector range that must lie
/// inside a device of `capacity` sectors.
pub fn sector_range(input: &[u8], capacity: u64) -> Result<Range<u64>, ParseError> {
    let sectors = start_count(input)?;
    if sectors.end > capacity {
        return Err(ParseError::OutOfRange);
    }
    Ok(sectors)
}

/// Parses a decimal count in `min..=max` (an optional trailing newline).
pub fn count(input: &[u8], min: u64, max: u64) -> Result<u64, ParseError> {
    let s = core::str::from_utf8(input).map_err(|_| ParseError::Syntax)?;
    let n = number(s.strip_suffix('\n').unwrap_or(s))?;
    if n < min || n > max {
        return Err(ParseError::OutOfRange);
    }
    Ok(n)
}

/// How poison is cleared before a recovery write (module parameter
/// `clear_poison`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ClearPolicy {
    /// The firmware clear where the bus has one, otherwise software.
    Auto = 0,
    /// Only the bus's firmware clear-error command (nd_pmem's behaviour).
    Firmware = 1,
    /// Drop the record without a firmware command.
    Software = 2,
}

impl ClearPolicy {
    /// Every policy, in the order of their values.
    pub const ALL: [Self; 3] = [Self::Auto, Self::Firmware, Self::Software];

    /// The name written to and read from the parameter.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Firmware => "firmware",
            Self::Software => "software",
        }
    }
}

impl TryFrom<u8> for ClearPolicy {
    type Error = ParseError;

    /// The policy stored as `value`; `Syntax` for any other number.
    fn try_from(value: u8) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|p| *p as u8 == value)
            .ok_or(ParseError::Syntax)
    }
}

/// Parses a clearing policy name (an optional trailing newline, as from
/// `echo`); anything else is refused.
pub fn clear_policy(input: &[u8]) -> Result<ClearPolicy, ParseError> {
    let s = input.strip_suffix(b"\n").unwrap_or(input);
    ClearPolicy::ALL
        .into_iter()
        .find(|p| p.name().as_bytes() == s)
        .ok_or(ParseError::Syntax)
}

/// Parses a poison range written to debugfs: `SECTOR COUNT` (as sysfs),
/// `sectors SECTOR COUNT`, or `bytes OFFSET LENGTH`, whose sectors are every
/// sector the bytes touch. The range must lie inside a device of `capacity`
/// sectors.
pub fn poison_range(input: &[u8], capacity: u64) -> Result<Range<u64>, ParseError> {
    if let Some(rest) = input.strip_prefix(b"sectors ") {
        return sector_range(rest, capacity);
    }
    let Some(rest) = input.strip_prefix(b"bytes ") else {
        return sector_range(input, capacity);
    };
    let bytes = start_count(rest)?;
    let sectors = bytes.start / SECTOR_SIZE..bytes.end.div_ceil(SECTOR_SIZE);
    if sectors.end > capacity {
        return Err(ParseError::OutOfRange);
    }
    Ok(sectors)
}
