// SPDX-License-Identifier: GPL-2.0

//! The overflow list against a bitmap model: after any sequence of inserts
//! and removes the list is sorted, disjoint and non-adjacent, holds exactly
//! the model's sectors, and `first_overlap` finds the first bad extent.

use crate::extents::*;
use core::ops::Range;
use proptest::prelude::*;

const SECTORS: u64 = 256;

fn apply(list: &mut Vec<Extent>, s: Splice) {
    list.splice(s.at, s.with.into_iter().flatten());
}

fn insert(list: &mut Vec<Extent>, r: Range<u64>) {
    let s = plan_insert(list, &r);
    apply(list, s);
}

fn remove(list: &mut Vec<Extent>, r: Range<u64>) {
    let s = plan_remove(list, &r);
    apply(list, s);
}

fn sectors_of(list: &[Extent]) -> Vec<bool> {
    let mut bits = vec![false; SECTORS as usize];
    for &(s, e) in list {
        for b in &mut bits[s as usize..e as usize] {
            *b = true;
        }
    }
    bits
}

fn well_formed(list: &[Extent]) -> bool {
    list.iter().all(|e| e.0 < e.1) && list.windows(2).all(|w| w[0].1 < w[1].0)
}

#[test]
fn insert_merges_neighbours() {
    let mut l = vec![(0, 4), (8, 12), (20, 24)];
    insert(&mut l, 4..8);
    assert_eq!(l, vec![(0, 12), (20, 24)]);
    insert(&mut l, 14..16);
    assert_eq!(l, vec![(0, 12), (14, 16), (20, 24)]);
}

#[test]
fn remove_splits() {
    let mut l = vec![(0, 16)];
    let s = plan_remove(&l, &(4..8));
    assert_eq!(s.added(), 2);
    apply(&mut l, s);
    assert_eq!(l, vec![(0, 4), (8, 16)]);
    remove(&mut l, 0..100);
    assert!(l.is_empty());
}

#[test]
fn sub_page_coverage() {
    let page = 0..8;
    // Sector 2 poisoned; a write of bytes 1024..1536 fills exactly it.
    assert!(covers(&(2..3), &page, &full_sectors(1024, 512)));
    // Starting one byte late leaves it partly unwritten.
    assert!(!covers(&(2..3), &page, &full_sectors(1025, 512)));
    // A bad range reaching into the next page only counts inside `page`.
    assert!(covers(&(6..12), &page, &full_sectors(3072, 1024)));
    assert_eq!(full_sectors(100, 200), 1..1);
}

proptest! {
    #[test]
    fn list_matches_model(ops in prop::collection::vec((any::<bool>(), 0..SECTORS, 1..16u64), 1..60)) {
        let mut list: Vec<Extent> = Vec::new();
        let mut model = vec![false; SECTORS as usize];
        for (add, start, len) in ops {
            let r = start..(start + len).min(SECTORS);
            if add {
                insert(&mut list, r.clone());
            } else {
                let s = plan_remove(&list, &r);
                prop_assert!(s.added() <= 2);
                apply(&mut list, s);
            }
            for b in &mut model[r.start as usize..r.end as usize] {
                *b = add;
            }
            prop_assert!(well_formed(&list), "{:?}", list);
            prop_assert_eq!(&sectors_of(&list), &model);
        }
        for q in 0..SECTORS {
            let r = q..(q + 5).min(SECTORS);
            let first = model[r.start as usize..r.end as usize].iter().position(|&b| b);
            let got = first_overlap(&list, &r);
            prop_assert_eq!(got.as_ref().map(|g| g.start.max(r.start)), first.map(|i| q + i as u64));
        }
    }
}
