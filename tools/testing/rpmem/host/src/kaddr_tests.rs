// SPDX-License-Identifier: GPL-2.0

//! The kaddr convention: requests decode from exactly two raw values and
//! carry no address; answers round-trip their address and mode and are
//! never null or odd.

use crate::kaddr::{AccessMode, InvalidTag, Kaddr, KaddrRequest, RECOVERY_FLAG};
use proptest::prelude::*;

fn mode() -> impl Strategy<Value = AccessMode> {
    prop_oneof![Just(AccessMode::Failfast), Just(AccessMode::Recovery)]
}

proptest! {
    #[test]
    fn round_trip(page in 1usize..1 << 40, mode in mode()) {
        let addr = page << 12;
        let k = Kaddr::new(addr, mode).unwrap();
        prop_assert_eq!(k.addr(), addr);
        prop_assert_eq!(k.mode(), mode);
        prop_assert_eq!(k.into_raw() & !RECOVERY_FLAG, addr);
    }

    #[test]
    fn odd_or_null_addresses_are_refused(addr in any::<usize>(), mode in mode()) {
        prop_assert_eq!(Kaddr::new(addr, mode).is_some(), addr != 0 && addr & 1 == 0);
    }

    #[test]
    fn only_two_requests_decode(raw in any::<usize>()) {
        let ok = KaddrRequest::from_raw(raw);
        match raw {
            0 => prop_assert_eq!(ok.unwrap().mode(), AccessMode::Failfast),
            RECOVERY_FLAG => prop_assert_eq!(ok.unwrap().mode(), AccessMode::Recovery),
            _ => prop_assert_eq!(ok, Err(InvalidTag)),
        }
    }

    #[test]
    fn requests_round_trip(mode in mode()) {
        let req = KaddrRequest::new(mode);
        prop_assert_eq!(KaddrRequest::from_raw(req.into_raw()), Ok(req));
    }
}

#[test]
fn requests_carry_only_mode_bits() {
    assert_eq!(KaddrRequest::new(AccessMode::Failfast).into_raw(), 0);
    assert_eq!(KaddrRequest::new(AccessMode::Recovery).into_raw(), RECOVERY_FLAG);
}

#[test]
fn null_is_no_answer() {
    assert!(Kaddr::new(0, AccessMode::Failfast).is_none());
    assert!(Kaddr::new(0, AccessMode::Recovery).is_none());
}

#[test]
fn debug_hides_the_address() {
    let k = Kaddr::new(0xffff_8880_1234_5000, AccessMode::Recovery).unwrap();
    assert_eq!(format!("{k:?}"), "Kaddr(Recovery)");
}
