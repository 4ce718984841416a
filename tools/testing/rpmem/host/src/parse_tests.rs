// SPDX-License-Identifier: GPL-2.0

//! The sysfs/debugfs input grammar: what is accepted, what is refused.

use crate::parse::{sector_range, ParseError::*};
use proptest::prelude::*;

const CAP: u64 = 2_097_152; // 1 GiB in sectors

#[test]
fn accepts_sector_count() {
    assert_eq!(sector_range(b"8 1\n", CAP), Ok(8..9));
    assert_eq!(sector_range(b"0 8", CAP), Ok(0..8));
    assert_eq!(sector_range(b"2097144 8\n", CAP), Ok(2_097_144..CAP));
}

#[test]
fn refuses_malformed() {
    for bad in [
        &b""[..], b"\n", b"8", b"8\n", b"abc 1", b"8 x", b"-8 1", b"8 -1", b"+8 1", b"8  1",
        b" 8 1", b"8 1 2", b"8 1\n\n", b"0x8 1", b"8\t1", b"8 1\r\n", b"\xff 1",
    ] {
        assert_eq!(sector_range(bad, CAP), Err(Syntax), "{:?}", core::str::from_utf8(bad));
    }
}

#[test]
fn refuses_zero_and_out_of_range() {
    assert_eq!(sector_range(b"8 0\n", CAP), Err(Empty));
    assert_eq!(sector_range(b"2097152 1\n", CAP), Err(OutOfRange));
    assert_eq!(sector_range(b"2097151 2\n", CAP), Err(OutOfRange));
    assert_eq!(sector_range(b"0 99999999999999999999\n", CAP), Err(OutOfRange));
    assert_eq!(sector_range(b"18446744073709551615 1\n", CAP), Err(OutOfRange));
}

proptest! {
    #[test]
    fn accepted_ranges_fit(start in 0u64..CAP * 2, count in 0u64..CAP, nl in any::<bool>()) {
        let s = format!("{start} {count}{}", if nl { "\n" } else { "" });
        match sector_range(s.as_bytes(), CAP) {
            Ok(r) => {
                prop_assert_eq!(r.clone(), start..start + count);
                prop_assert!(count > 0 && r.end <= CAP);
            }
            Err(_) => prop_assert!(count == 0 || start + count > CAP),
        }
    }

    #[test]
    fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        let _ = sector_range(&bytes, CAP);
    }
}
