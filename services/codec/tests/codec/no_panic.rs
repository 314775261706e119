//! Whatever the bytes, decoding returns an error or a value; it never panics.

use crate::fixtures::*;
use proptest::prelude::*;
use wismo_codec::{frame, subjects, Codec, DeadLetter, SchemaCatalog};
use wismo_core::model::{
    CarrierScan, DelayApologyCommand, NotificationCommand, OrderEvent, ReviewRequestCommand,
};

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
        codec
            .decode::<DelayApologyCommand>(subjects::DELAY_APOLOGY_COMMAND, bytes)
            .is_ok(),
        codec
            .decode::<ReviewRequestCommand>(subjects::REVIEW_REQUEST_COMMAND, bytes)
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

/// Bug (memory and time amplification), found measuring what the `codec` fuzz
/// target's malloc limit guards against: apache-avro builds a value tree of ~1 KiB
/// per array item or map entry, so a 1 MB `OrderEvent` of 330 000 three-byte
/// channels took ~390 MB and half a second to decode. Now refused before decoding.
#[test]
fn records_with_too_many_items_are_refused_before_decoding() {
    use wismo_codec::{CodecError, MAX_RECORD_ITEMS};
    let codec = Codec::default();
    let order = |channels: usize, items: usize| {
        let mut e = order_placed();
        let placed = e.placed.as_mut().unwrap();
        let (channel, item) = (placed.customer.channels[0].clone(), placed.items[0].clone());
        placed.customer.channels = vec![channel; channels];
        placed.items = vec![item; items];
        codec.encode(subjects::ORDER_EVENT, &e).unwrap()
    };
    let decode = |bytes: &[u8]| codec.decode::<OrderEvent>(subjects::ORDER_EVENT, bytes);
    let too_many = |r: Result<OrderEvent, CodecError>| match r {
        Err(CodecError::Malformed { reason, .. }) => reason.contains("array items"),
        _ => false,
    };

    decode(&order(MAX_RECORD_ITEMS - 1, 1)).expect("at the limit");
    assert!(too_many(decode(&order(MAX_RECORD_ITEMS + 1, 0))));
    // The limit is per record, across its arrays.
    assert!(too_many(decode(&order(
        MAX_RECORD_ITEMS / 2 + 1,
        MAX_RECORD_ITEMS / 2
    ))));

    let mut command = command();
    command.variables = (0..=MAX_RECORD_ITEMS)
        .map(|i| (i.to_string(), String::new()))
        .collect();
    let bytes = codec
        .encode(subjects::NOTIFICATION_COMMAND, &command)
        .unwrap();
    assert!(matches!(
        codec.decode::<NotificationCommand>(subjects::NOTIFICATION_COMMAND, &bytes),
        Err(CodecError::Malformed { reason, .. }) if reason.contains("map entries")
    ));
}

/// Bug (a panic in the decision core): a scan or shipment whose `occurred_at` is a
/// day before chrono's last instant, or an order promised for chrono's last date,
/// decoded fine and then panicked the order-tracker in `calendar::next_day`
/// (`services/core/tests/hostile_times.rs` pins the core side). The codec now
/// refuses times and dates outside years 0000 to 9999, in Avro and in JSON.
#[test]
fn times_outside_years_0000_to_9999_are_refused() {
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use wismo_codec::CodecError;
    let codec = Codec::default();
    let first = ts(Utc
        .with_ymd_and_hms(0, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp_millis());
    let last = ts(Utc
        .with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .unwrap()
        .timestamp_millis()
        + 999);
    let scan_at = |t: DateTime<Utc>| {
        let scan = CarrierScan {
            occurred_at: t,
            ..scan_full()
        };
        let bytes = codec.encode(subjects::CARRIER_SCAN, &scan).unwrap();
        let json = codec.encode_json(subjects::CARRIER_SCAN, &scan).unwrap();
        (
            codec.decode::<CarrierScan>(subjects::CARRIER_SCAN, &bytes),
            codec.decode_json::<CarrierScan>(subjects::CARRIER_SCAN, &json),
        )
    };
    let refused = |(avro, json): (Result<CarrierScan, CodecError>, Result<_, CodecError>)| {
        matches!(avro, Err(CodecError::Malformed { reason, .. }) if reason.contains("outside years"))
            && matches!(json, Err(CodecError::Json { message, .. }) if message.contains("0000 to 9999"))
    };
    for t in [first, last] {
        let (avro, json) = scan_at(t);
        assert_eq!(avro.unwrap().occurred_at, t);
        assert_eq!(json.unwrap().occurred_at, t);
    }
    let ms = Duration::milliseconds(1);
    for t in [
        first - ms,
        last + ms,
        DateTime::<Utc>::MAX_UTC - Duration::days(1),
    ] {
        assert!(refused(scan_at(t)), "{t}");
    }

    let promised = |d: chrono::NaiveDate| {
        let mut e = order_placed();
        e.placed.as_mut().unwrap().promised_delivery_date = Some(d);
        let bytes = codec.encode(subjects::ORDER_EVENT, &e).unwrap();
        codec.decode::<OrderEvent>(subjects::ORDER_EVENT, &bytes)
    };
    promised(date(0, 1, 1)).expect("the first date");
    promised(date(9999, 12, 31)).expect("the last date");
    for d in [date(-1, 12, 31), date(10000, 1, 1), chrono::NaiveDate::MAX] {
        assert!(
            matches!(
                promised(d),
                Err(CodecError::Malformed { reason, .. }) if reason.contains("outside years")
            ),
            "{d}"
        );
    }
}
