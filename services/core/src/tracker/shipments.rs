//! An order's shipments by tracking number.
//!
//! An order has one or two parcels, so a `Vec` sorted by tracking number holds
//! them with no slack: a `BTreeMap` allocates an 11-slot leaf (several KB of
//! shipments) for the first one. The tracking number is stored once, in the
//! shipment. On the wire it is the map from tracking number to shipment it was
//! before, so the changelog's schema and JSON views are unchanged.

use super::state::Shipment;
use super::vec_set::insert_exact;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shipments {
    /// Sorted by `tracking_number`, each number once.
    by_tracking: Vec<Shipment>,
}

impl Shipments {
    pub fn len(&self) -> usize {
        self.by_tracking.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_tracking.is_empty()
    }

    fn position(&self, tracking: &str) -> Result<usize, usize> {
        self.by_tracking
            .binary_search_by(|s| s.tracking_number.as_str().cmp(tracking))
    }

    pub fn contains_key(&self, tracking: &str) -> bool {
        self.position(tracking).is_ok()
    }

    pub fn get(&self, tracking: &str) -> Option<&Shipment> {
        let i = self.position(tracking).ok()?;
        self.by_tracking.get(i)
    }

    /// The shipment to change in place; its tracking number must stay as it is.
    pub fn get_mut(&mut self, tracking: &str) -> Option<&mut Shipment> {
        let i = self.position(tracking).ok()?;
        self.by_tracking.get_mut(i)
    }

    /// Adds `shipment` under its tracking number, replacing one already there.
    pub fn insert(&mut self, shipment: Shipment) {
        match self.position(&shipment.tracking_number) {
            Ok(i) => self.by_tracking[i] = shipment,
            Err(i) => insert_exact(&mut self.by_tracking, i, shipment),
        }
    }

    /// In tracking-number order.
    pub fn values(&self) -> std::slice::Iter<'_, Shipment> {
        self.by_tracking.iter()
    }

    /// In tracking-number order; tracking numbers must stay as they are.
    pub fn values_mut(&mut self) -> std::slice::IterMut<'_, Shipment> {
        self.by_tracking.iter_mut()
    }
}

impl Serialize for Shipments {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for shipment in self.values() {
            map.serialize_entry(&shipment.tracking_number, shipment)?;
        }
        map.end()
    }
}

/// Reads the map; the key is the tracking number the shipment is found by.
impl<'de> Deserialize<'de> for Shipments {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Shipments;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map from tracking number to shipment")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Shipments, A::Error> {
                let hint = entries.size_hint().unwrap_or(0).min(64);
                let mut read = Shipments {
                    by_tracking: Vec::with_capacity(hint),
                };
                while let Some((tracking, mut shipment)) =
                    entries.next_entry::<String, Shipment>()?
                {
                    shipment.tracking_number = tracking;
                    read.insert(shipment);
                }
                read.by_tracking.shrink_to_fit();
                Ok(read)
            }
        }
        d.deserialize_map(Entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ShipmentCreated;
    use chrono::{TimeZone, Utc};

    fn shipment(tracking: &str, carrier: &str) -> Shipment {
        let created = ShipmentCreated {
            shipment_id: format!("s-{tracking}"),
            tracking_number: tracking.into(),
            carrier: carrier.into(),
            service_level: None,
            origin_country: None,
            skus: vec![],
        };
        Shipment::created(
            &created,
            Utc.timestamp_millis_opt(0).single().expect("epoch"),
        )
    }

    fn trackings(s: &Shipments) -> Vec<&str> {
        s.values().map(|s| s.tracking_number.as_str()).collect()
    }

    proptest::proptest! {
        /// Any inserts, in any order and with repeats, leave what a
        /// `BTreeMap<String, Shipment>` would: the same lookups, order and JSON.
        #[test]
        fn behaves_as_the_map_it_replaces(
            inserts in proptest::collection::vec((0u8..12, 0u8..3), 0..30),
            probe in 0u8..12,
        ) {
            let mut s = Shipments::default();
            let mut model = std::collections::BTreeMap::new();
            for (t, c) in inserts {
                let shipment = shipment(&format!("1Z{t}"), &format!("carrier-{c}"));
                model.insert(shipment.tracking_number.clone(), shipment.clone());
                s.insert(shipment);
            }
            let probe = format!("1Z{probe}");
            proptest::prop_assert_eq!(s.len(), model.len());
            proptest::prop_assert_eq!(s.get(&probe), model.get(&probe));
            proptest::prop_assert_eq!(s.contains_key(&probe), model.contains_key(&probe));
            proptest::prop_assert!(s.values().eq(model.values()));
            let json = serde_json::to_value(&model).expect("map to json");
            proptest::prop_assert_eq!(&serde_json::to_value(&s).expect("to json"), &json);
            let read: Shipments = serde_json::from_value(json).expect("from json");
            proptest::prop_assert_eq!(read, s);
        }
    }

    #[test]
    fn kept_in_tracking_order_and_found_by_number() {
        let mut s = Shipments::default();
        for t in ["1Z3", "1Z1", "1Z2"] {
            s.insert(shipment(t, "ups"));
        }
        assert_eq!(trackings(&s), ["1Z1", "1Z2", "1Z3"]);
        assert_eq!(s.get("1Z2").map(|s| s.shipment_id.as_str()), Some("s-1Z2"));
        assert!(s.get("1Z4").is_none());
        assert!(s.contains_key("1Z3") && !s.contains_key("1Z"));
    }

    #[test]
    fn inserting_a_known_number_replaces_it() {
        let mut s = Shipments::default();
        s.insert(shipment("1Z1", "ups"));
        s.insert(shipment("1Z1", "dhl"));
        assert_eq!(s.len(), 1);
        assert_eq!(s.get("1Z1").map(|s| s.carrier.as_str()), Some("dhl"));
    }

    #[test]
    fn holds_its_parcels_without_slack() {
        let mut s = Shipments::default();
        s.insert(shipment("1Z1", "ups"));
        assert_eq!(s.by_tracking.capacity(), 1);
        s.insert(shipment("1Z2", "ups"));
        assert_eq!(s.by_tracking.capacity(), 2);
    }

    /// The JSON a `BTreeMap<String, Shipment>` wrote reads back, and is written again.
    #[test]
    fn reads_and_writes_the_map_shape() {
        let mut before = std::collections::BTreeMap::new();
        for t in ["1Z2", "1Z1"] {
            before.insert(t.to_string(), shipment(t, "ups"));
        }
        let json = serde_json::to_value(&before).expect("map to json");
        let read: Shipments = serde_json::from_value(json.clone()).expect("shipments from json");
        assert_eq!(trackings(&read), ["1Z1", "1Z2"]);
        assert_eq!(
            serde_json::to_value(&read).expect("shipments to json"),
            json
        );
    }

    /// The key is what the shipment is found by, whatever the value says.
    #[test]
    fn the_key_names_the_shipment() {
        let json = serde_json::json!({ "1Z9": shipment("other", "ups") });
        let read: Shipments = serde_json::from_value(json).expect("shipments from json");
        assert_eq!(trackings(&read), ["1Z9"]);
    }
}
