//! The direct decoding of records written with the current schema gives exactly
//! what the general way (apache-avro's value tree and resolution) gives: the same
//! values, and the same errors, whatever the bytes.

use crate::fixtures::*;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use wismo_codec::{subjects, Codec, CodecError, DeadLetter, DecodePlan, SchemaRegistry};
use wismo_core::model::{
    CarrierScan, DelayApologyCommand, NotificationCommand, OrderEvent, ReviewRequestCommand,
};

/// The catalog without prepared plans: the codec prepares them per record.
struct Unprepared;

impl SchemaRegistry for Unprepared {
    fn schema_by_id(&self, id: u32) -> Option<&apache_avro::Schema> {
        wismo_codec::SchemaCatalog::builtin().schema_by_id(id)
    }
    fn id_of(&self, subject: &str) -> Option<u32> {
        wismo_codec::SchemaCatalog::builtin().id_of(subject)
    }
}

fn same_as_general<T: DeserializeOwned + PartialEq + Debug>(
    subject: &str,
    bytes: &[u8],
) -> Result<Option<T>, TestCaseError> {
    let codec = Codec::default();
    let fast: Result<T, CodecError> = codec.decode(subject, bytes);
    let general: Result<T, CodecError> = codec.decode_general(subject, bytes);
    let unprepared: Result<T, CodecError> = Codec::new(Unprepared).decode(subject, bytes);
    prop_assert_eq!(&fast, &general, "subject {}", subject);
    prop_assert_eq!(&unprepared, &general, "subject {}", subject);
    Ok(fast.ok())
}

/// Every subject tried on the same bytes.
fn all_same_as_general(bytes: &[u8]) -> Result<usize, TestCaseError> {
    Ok([
        same_as_general::<OrderEvent>(subjects::ORDER_EVENT, bytes)?.is_some(),
        same_as_general::<CarrierScan>(subjects::CARRIER_SCAN, bytes)?.is_some(),
        same_as_general::<NotificationCommand>(subjects::NOTIFICATION_COMMAND, bytes)?.is_some(),
        same_as_general::<DeadLetter>(subjects::DEAD_LETTER, bytes)?.is_some(),
        same_as_general::<ShipmentRegistered>(subjects::SHIPMENT_REGISTERED, bytes)?.is_some(),
        same_as_general::<RoutedScan>(subjects::ROUTED_SCAN, bytes)?.is_some(),
        same_as_general::<DelayApologyCommand>(subjects::DELAY_APOLOGY_COMMAND, bytes)?.is_some(),
        same_as_general::<ReviewRequestCommand>(subjects::REVIEW_REQUEST_COMMAND, bytes)?.is_some(),
        same_as_general::<OrderState>(subjects::ORDER_STATE, bytes)?.is_some(),
        same_as_general::<TrackingState>(subjects::TRACKING_STATE, bytes)?.is_some(),
        same_as_general::<RecipientHold>(subjects::RECIPIENT_HOLD, bytes)?.is_some(),
    ]
    .into_iter()
    .filter(|ok| *ok)
    .count())
}

fn records() -> Vec<Vec<u8>> {
    let codec = Codec::default();
    let mut out: Vec<Vec<u8>> = order_events()
        .iter()
        .map(|e| codec.encode(subjects::ORDER_EVENT, e).unwrap())
        .collect();
    for scan in [scan_full(), scan_minimal()] {
        out.push(codec.encode(subjects::CARRIER_SCAN, &scan).unwrap());
    }
    for c in [command(), command_minimal()] {
        out.push(codec.encode(subjects::NOTIFICATION_COMMAND, &c).unwrap());
    }
    for d in [dead_letter(), dead_letter_tombstone()] {
        out.push(codec.encode(subjects::DEAD_LETTER, &d).unwrap());
    }
    out.push(
        codec
            .encode(subjects::SHIPMENT_REGISTERED, &shipment_registered())
            .unwrap(),
    );
    out.push(codec.encode(subjects::ROUTED_SCAN, &routed_scan()).unwrap());
    out.push(
        codec
            .encode(subjects::DELAY_APOLOGY_COMMAND, &delay_apology())
            .unwrap(),
    );
    out.push(
        codec
            .encode(subjects::REVIEW_REQUEST_COMMAND, &review_request())
            .unwrap(),
    );
    for s in order_states() {
        out.push(codec.encode(subjects::ORDER_STATE, &s).unwrap());
    }
    for s in tracking_states() {
        out.push(codec.encode(subjects::TRACKING_STATE, &s).unwrap());
    }
    for s in recipient_holds() {
        out.push(codec.encode(subjects::RECIPIENT_HOLD, &s).unwrap());
    }
    out
}

#[test]
fn every_fixture_decodes_the_same_both_ways() {
    for bytes in records() {
        let decoded = all_same_as_general(&bytes).unwrap();
        assert_eq!(decoded, 1, "each record decodes as its own subject only");
    }
}

#[test]
fn every_schema_gets_a_plan_that_inlines_its_references() {
    let catalog = wismo_codec::SchemaCatalog::builtin();
    for entry in catalog.entries() {
        let plan: &DecodePlan = catalog.plan(entry.id).expect("a plan per entry");
        assert_eq!(
            format!("{:?}", DecodePlan::new(&entry.schema)),
            format!("{plan:?}")
        );
        assert!(
            !format!("{plan:?}").contains("Ref {"),
            "schema {} still refers by name",
            entry.id
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Changed and cut records, so both ways meet every kind of bad input.
    #[test]
    fn mutated_records_decode_the_same_both_ways(
        record in proptest::sample::select(records()),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = record.clone();
        for (at, byte) in edits {
            let at = 5 + at.index(bytes.len() - 5);
            bytes[at] = byte;
        }
        all_same_as_general(&bytes)?;
        all_same_as_general(&bytes[..cut.index(bytes.len())])?;
    }
}
