// SPDX-License-Identifier: GPL-2.0

//! Strict parsing of what user space writes to rpmem's sysfs and debugfs
//! files. Pure code: the host crate tests it with `cargo test`.

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

/// Parses `SECTOR COUNT` (one space, an optional trailing newline, as the
/// kernel's `badblocks_store` accepts) into a sector range that must lie
/// inside a device of `capacity` sectors.
pub fn sector_range(input: &[u8], capacity: u64) -> Result<Range<u64>, ParseError> {
    let s = core::str::from_utf8(input).map_err(|_| ParseError::Syntax)?;
    let s = s.strip_suffix('\n').unwrap_or(s);
    let (start, count) = s.split_once(' ').ok_or(ParseError::Syntax)?;
    let (start, count) = (number(start)?, number(count)?);
    if count == 0 {
        return Err(ParseError::Empty);
    }
    let end = start.checked_add(count).ok_or(ParseError::OutOfRange)?;
    if end > capacity {
        return Err(ParseError::OutOfRange);
    }
    Ok(start..end)
}
