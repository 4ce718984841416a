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

#[test]
fn clear_policy_names() {
    use crate::parse::{clear_policy, ClearPolicy};
    assert_eq!(clear_policy(b"auto"), Ok(ClearPolicy::Auto));
    assert_eq!(clear_policy(b"firmware\n"), Ok(ClearPolicy::Firmware));
    assert_eq!(clear_policy(b"software"), Ok(ClearPolicy::Software));
    for bad in [&b""[..], b"\n", b"Auto", b"soft", b"software\n\n", b" auto", b"auto ", b"1"] {
        assert_eq!(clear_policy(bad), Err(Syntax), "{:?}", core::str::from_utf8(bad));
    }
    for p in ClearPolicy::ALL {
        assert_eq!(ClearPolicy::try_from(p as u8), Ok(p));
    }
    assert_eq!(ClearPolicy::try_from(3), Err(Syntax));
    assert_eq!(ClearPolicy::try_from(u8::MAX), Err(Syntax));
}

#[test]
fn poison_range_forms() {
    use crate::parse::poison_range;
    assert_eq!(poison_range(b"8 1\n", CAP), Ok(8..9));
    assert_eq!(poison_range(b"sectors 8 1\n", CAP), Ok(8..9));
    assert_eq!(poison_range(b"bytes 4096 4096\n", CAP), Ok(8..16));
    assert_eq!(poison_range(b"bytes 4097 1", CAP), Ok(8..9));
    assert_eq!(poison_range(b"bytes 511 2", CAP), Ok(0..2));
    assert_eq!(poison_range(b"bytes 0 0", CAP), Err(Empty));
    assert_eq!(poison_range(b"bytes 1073741824 1", CAP), Err(OutOfRange));
    assert_eq!(poison_range(b"bytes 18446744073709551615 2", CAP), Err(OutOfRange));
    for bad in [&b"bytes"[..], b"bytes 1", b"byte 1 1", b"sectors", b"Sectors 1 1", b"bytes -1 1"] {
        assert_eq!(poison_range(bad, CAP), Err(Syntax), "{:?}", core::str::from_utf8(bad));
    }
}

#[test]
fn counts_in_bounds() {
    use crate::parse::count;
    assert_eq!(count(b"1000\n", 1, 100), Err(OutOfRange));
    assert_eq!(count(b"100\n", 1, 100), Ok(100));
    assert_eq!(count(b"1", 1, 100), Ok(1));
    assert_eq!(count(b"0", 1, 100), Err(OutOfRange));
    for bad in [&b""[..], b"\n", b"1 ", b"-1", b"1e3", b"0x10"] {
        assert_eq!(count(bad, 1, 100), Err(Syntax), "{:?}", core::str::from_utf8(bad));
    }
}

#[test]
fn booleans_as_kstrtobool() {
    use crate::parse::boolean;
    for t in ["1", "1\n", "y", "Y", "yes", "t", "true", "on", "ON\n", "oN"] {
        assert_eq!(boolean(t.as_bytes()), Ok(true), "{t:?}");
    }
    for f in ["0", "0\n", "n", "N", "no", "f", "false", "off", "OFF\n", "oF"] {
        assert_eq!(boolean(f.as_bytes()), Ok(false), "{f:?}");
    }
    for bad in ["", "\n", "2", "o", "ox", " 1", "-1", "x"] {
        assert_eq!(boolean(bad.as_bytes()), Err(Syntax), "{bad:?}");
    }
}
