//! Whatever the bytes, decoding returns an error or a value; it never panics.

use crate::fixtures::*;
use proptest::prelude::*;
use wismo_codec::{frame, subjects, Codec, DeadLetter, SchemaCatalog};
use wismo_core::model::{CarrierScan, NotificationCommand, OrderEvent};

/// Tries the bytes as every subject; returns how many decoded.
fn decode_all(bytes: &[u8]) -> usize {
    let codec = Codec::default();
    [
        codec
            .decode::<OrderEvent>(subjects::ORDER_EVENT, bytes)
            .is_ok(),
        codec
            .decode::<CarrierScan>(subjects::CARRIER_SCAN, bytes)
            .is_ok(),
        codec
            .decode::<NotificationCommand>(subjects::NOTIFICATION_COMMAND, bytes)
            .is_ok(),
        codec
            .decode::<DeadLetter>(subjects::DEAD_LETTER, bytes)
            .is_ok(),
        codec
            .decode::<ShipmentRegistered>(subjects::SHIPMENT_REGISTERED, bytes)
            .is_ok(),
        codec
            .decode::<RoutedScan>(subjects::ROUTED_SCAN, bytes)
            .is_ok(),
    ]
    .into_iter()
    .filter(|ok| *ok)
    .count()
}

fn known_ids() -> Vec<u32> {
    SchemaCatalog::builtin()
        .entries()
        .iter()
        .map(|e| e.id)
        .collect()
}

fn valid_records() -> Vec<Vec<u8>> {
    let codec = Codec::default();
    let mut out: Vec<Vec<u8>> = order_events()
        .iter()
        .map(|e| codec.encode(subjects::ORDER_EVENT, e).unwrap())
        .collect();
    out.push(codec.encode(subjects::CARRIER_SCAN, &scan_full()).unwrap());
    out.push(
        codec
            .encode(subjects::NOTIFICATION_COMMAND, &command())
            .unwrap(),
    );
    out.push(codec.encode(subjects::DEAD_LETTER, &dead_letter()).unwrap());
    out.push(codec.encode(subjects::ROUTED_SCAN, &routed_scan()).unwrap());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        decode_all(&bytes);
    }

    /// A valid header, so the Avro body decoder itself is what gets the random bytes.
    #[test]
    fn random_bodies_never_panic(
        id in proptest::sample::select(known_ids()),
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        decode_all(&frame(id, &body));
    }

    /// Small changes to real records reach much deeper than random bytes do.
    #[test]
    fn mutated_records_never_panic(
        record in proptest::sample::select(valid_records()),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = record.clone();
        for (at, byte) in edits {
            let at = 5 + at.index(bytes.len() - 5);
            bytes[at] = byte;
        }
        decode_all(&bytes);
        let cut = cut.index(record.len());
        prop_assert_eq!(decode_all(&record[..cut]), 0, "a truncated record decoded");
    }
}
