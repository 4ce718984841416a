// SPDX-License-Identifier: GPL-2.0

//! The tagged kaddr: encode/decode round trips and alignment invariants.

use crate::kaddr::{AccessMode, InvalidTag, TaggedKaddr, RECOVERY_FLAG};
use proptest::prelude::*;

fn mode() -> impl Strategy<Value = AccessMode> {
    prop_oneof![Just(AccessMode::Failfast), Just(AccessMode::Recovery)]
}

proptest! {
    #[test]
    fn round_trip(page in 0usize..1 << 40, mode in mode()) {
        let addr = page << 12;
        let t = TaggedKaddr::new(addr, mode).unwrap();
        prop_assert_eq!(t.addr(), addr);
        prop_assert_eq!(t.mode(), mode);
        prop_assert_eq!(t.into_raw() & !RECOVERY_FLAG, addr);
    }

    #[test]
    fn odd_addresses_are_refused(addr in any::<usize>(), mode in mode()) {
        prop_assert_eq!(TaggedKaddr::new(addr, mode).is_some(), addr & 1 == 0);
    }

    #[test]
    fn with_addr_keeps_mode(page in 0usize..1 << 40, mode in mode()) {
        let t = TaggedKaddr::request(mode).with_addr(page << 12).unwrap();
        prop_assert_eq!(t.mode(), mode);
        prop_assert_eq!(t.addr(), page << 12);
    }

    #[test]
    fn only_two_requests_decode(raw in any::<usize>()) {
        let ok = TaggedKaddr::from_request(raw);
        match raw {
            0 => prop_assert_eq!(ok.unwrap().mode(), AccessMode::Failfast),
            RECOVERY_FLAG => prop_assert_eq!(ok.unwrap().mode(), AccessMode::Recovery),
            _ => prop_assert_eq!(ok, Err(InvalidTag)),
        }
    }
}

#[test]
fn requests_have_no_address() {
    assert_eq!(TaggedKaddr::request(AccessMode::Failfast).addr(), 0);
    assert_eq!(TaggedKaddr::request(AccessMode::Recovery).addr(), 0);
    assert_eq!(TaggedKaddr::request(AccessMode::Recovery).into_raw(), RECOVERY_FLAG);
}

#[test]
fn debug_hides_the_address() {
    let t = TaggedKaddr::new(0xffff_8880_1234_5000, AccessMode::Recovery).unwrap();
    assert_eq!(format!("{t:?}"), "TaggedKaddr(Recovery)");
}
