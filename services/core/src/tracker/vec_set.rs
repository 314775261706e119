//! A small set kept as a sorted `Vec`.
//!
//! The sets in an order's state hold a few items (an incident's parcels, a
//! shipment's milestones), and a `BTreeSet` allocates an 11-slot node for the
//! first. This one holds exactly its items. It is written as the sorted sequence
//! a `BTreeSet` wrote, so the changelog's schema and bytes are unchanged.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VecSet<T> {
    /// Sorted, each item once.
    items: Vec<T>,
}

impl<T> Default for VecSet<T> {
    fn default() -> Self {
        VecSet { items: Vec::new() }
    }
}

impl<T: Ord> VecSet<T> {
    pub fn new() -> Self {
        VecSet::default()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn contains<Q: Ord + ?Sized>(&self, item: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.items
            .binary_search_by(|i| i.borrow().cmp(item))
            .is_ok()
    }

    /// Adds `item`; false if it was there already.
    pub fn insert(&mut self, item: T) -> bool {
        match self.items.binary_search(&item) {
            Ok(_) => false,
            Err(i) => {
                insert_exact(&mut self.items, i, item);
                true
            }
        }
    }

    /// In order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    fn from_vec(mut items: Vec<T>) -> Self {
        items.sort();
        items.dedup();
        items.shrink_to_fit();
        VecSet { items }
    }
}

/// Inserts `item` at `index`, growing `items` by one: the lists of an order's
/// state are short, and `Vec` would reserve four or eight at a time.
pub(super) fn insert_exact<T>(items: &mut Vec<T>, index: usize, item: T) {
    items.reserve_exact(1);
    items.insert(index, item);
}

impl<T: Ord> FromIterator<T> for VecSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        VecSet::from_vec(iter.into_iter().collect())
    }
}

impl<T: Ord> Extend<T> for VecSet<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for item in iter {
            self.insert(item);
        }
    }
}

impl<'a, T> IntoIterator for &'a VecSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<T: Serialize> Serialize for VecSet<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.items.serialize(s)
    }
}

/// Reads any sequence, as a `BTreeSet` did: sorted, duplicates dropped.
impl<'de, T: Deserialize<'de> + Ord> Deserialize<'de> for VecSet<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::deserialize(d).map(VecSet::from_vec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    proptest! {
        /// Whatever is inserted, in any order and with repeats, it holds and
        /// writes what a `BTreeSet` would, and reads a `BTreeSet`'s JSON back.
        #[test]
        fn behaves_as_a_btree_set(items in prop::collection::vec(0u8..20, 0..40), probe in 0u8..20) {
            let mut set = VecSet::new();
            let mut model = BTreeSet::new();
            for &i in &items {
                prop_assert_eq!(set.insert(i), model.insert(i));
            }
            prop_assert_eq!(set.len(), model.len());
            prop_assert_eq!(set.contains(&probe), model.contains(&probe));
            prop_assert!(set.iter().eq(model.iter()));
            prop_assert_eq!(&items.iter().copied().collect::<VecSet<_>>(), &set);
            let json = serde_json::to_string(&model).expect("set to json");
            prop_assert_eq!(serde_json::to_string(&set).expect("vec set to json"), json.clone());
            let unsorted = serde_json::to_string(&items).expect("items to json");
            prop_assert_eq!(serde_json::from_str::<VecSet<u8>>(&unsorted).expect("read"), set);
        }
    }

    #[test]
    fn holds_its_items_without_slack() {
        let mut set = VecSet::new();
        set.insert("1Z1".to_string());
        assert_eq!(set.items.capacity(), 1);
        assert!(set.contains("1Z1"));
    }
}
