//! The natural JSON form used by the replay CLI.

use crate::fixtures::*;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::json;
use std::fmt::Debug;
use wismo_codec::{subjects, Codec, CodecError};
use wismo_core::model::{CarrierScan, NotificationCommand, OrderEvent};

fn json_roundtrip<T: Serialize + DeserializeOwned + PartialEq + Debug>(subject: &str, value: &T) {
    let codec = Codec::default();
    let json = codec.encode_json(subject, value).unwrap();
    let back: T = codec.decode_json(subject, &json).unwrap();
    assert_eq!(&back, value, "{json}");
}

#[test]
fn every_fixture_roundtrips_through_json() {
    for event in order_events() {
        json_roundtrip(subjects::ORDER_EVENT, &event);
    }
    json_roundtrip(subjects::CARRIER_SCAN, &scan_full());
    json_roundtrip(subjects::CARRIER_SCAN, &scan_minimal());
    json_roundtrip(subjects::NOTIFICATION_COMMAND, &command());
    json_roundtrip(subjects::DEAD_LETTER, &dead_letter());
    json_roundtrip(subjects::DEAD_LETTER, &dead_letter_tombstone());
    json_roundtrip(subjects::SHIPMENT_REGISTERED, &shipment_registered());
    json_roundtrip(subjects::ROUTED_SCAN, &routed_scan());
    json_roundtrip(subjects::DELAY_APOLOGY_COMMAND, &delay_apology());
    json_roundtrip(subjects::REVIEW_REQUEST_COMMAND, &review_request());
}

#[test]
fn natural_form_of_a_scan() {
    let json = Codec::default()
        .encode_json(subjects::CARRIER_SCAN, &scan_full())
        .unwrap();
    assert_eq!(
        json,
        json!({
            "scan_id": "ep-trk-evt-778",
            "tracking_number": "1Z999AA10123456784",
            "carrier": "easypost",
            "raw_status": "out_for_delivery",
            "raw_status_detail": "arrived_at_destination",
            "description": "Out for delivery — Chicago, IL",
            "occurred_at": 1_709_896_200_789_i64,
            "location": {"city": "Chicago", "postal_code": "60601", "country": "US"},
            "carrier_edd": 19_790,
            "order_id": "ord-1001"
        })
    );
}

#[test]
fn natural_form_of_a_command_uses_enum_symbols() {
    let json = Codec::default()
        .encode_json(subjects::NOTIFICATION_COMMAND, &command())
        .unwrap();
    assert_eq!(json["milestone"], "OUT_FOR_DELIVERY");
    assert_eq!(json["channel"], "SMS");
    assert_eq!(json["variables"]["carrier"], "UPS");
    assert_eq!(json["send_at"], 1_709_899_200_000_i64);
}

/// Fields with a schema default may be left out, as an Avro reader would allow; even
/// those the core's serde adapters would otherwise require (`carrier_edd`).
#[test]
fn optional_fields_may_be_omitted() {
    let scan: CarrierScan = Codec::default()
        .decode_json(
            subjects::CARRIER_SCAN,
            &json!({
                "scan_id": "ups-0001",
                "tracking_number": "1Z999AA10123456784",
                "carrier": "ups",
                "raw_status": "M",
                "occurred_at": 1_709_740_000_001_i64
            }),
        )
        .unwrap();
    assert_eq!(scan, scan_minimal());
}

fn scan_json_error(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let codec = Codec::default();
    let mut json = codec
        .encode_json(subjects::CARRIER_SCAN, &scan_full())
        .unwrap();
    edit(&mut json);
    let err = codec
        .decode_json::<CarrierScan>(subjects::CARRIER_SCAN, &json)
        .unwrap_err();
    assert!(matches!(err, CodecError::Json { .. }), "{err:?}");
    err.to_string()
}

#[test]
fn misspelled_fields_are_refused_not_ignored() {
    let text = scan_json_error(|j| {
        j["location"]["cty"] = json!("Chicago");
    });
    assert_eq!(
        text,
        "subject `carrier_scan`: JSON record is invalid: at `location`: unknown field `cty`; \
         record `ScanLocation` has fields [\"city\", \"postal_code\", \"country\"]"
    );
}

#[test]
fn type_errors_say_where() {
    assert_eq!(
        scan_json_error(|j| j["occurred_at"] = json!("2024-03-08T10:30:00Z")),
        "subject `carrier_scan`: JSON record is invalid: at `occurred_at`: expected a timestamp \
         as whole milliseconds since the Unix epoch, got \"2024-03-08T10:30:00Z\""
    );
    assert_eq!(
        scan_json_error(|j| j["carrier_edd"] = json!("2024-03-08")),
        "subject `carrier_scan`: JSON record is invalid: at `carrier_edd`: expected a date as \
         whole days since 1970-01-01, got \"2024-03-08\""
    );
    assert_eq!(
        scan_json_error(|j| {
            j.as_object_mut().unwrap().remove("raw_status");
        }),
        "subject `carrier_scan`: JSON record is invalid: at `raw_status`: missing field, and it \
         has no default"
    );
}

#[test]
fn nested_errors_in_order_events() {
    let codec = Codec::default();
    let mut json = codec
        .encode_json(subjects::ORDER_EVENT, &order_placed())
        .unwrap();
    json["placed"]["customer"]["channels"][1]["kind"] = json!("FAX");
    let err = codec
        .decode_json::<OrderEvent>(subjects::ORDER_EVENT, &json)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "subject `order_event`: JSON record is invalid: at `placed.customer.channels[1].kind`: \
         expected one of the `ChannelKind` symbols [\"EMAIL\", \"SMS\", \"PUSH\"], got \"FAX\""
    );

    json["placed"]["customer"]["channels"][1]["kind"] = json!("SMS");
    json["placed"]["items"][0]["quantity"] = json!(3_000_000_000_i64);
    let err = codec
        .decode_json::<OrderEvent>(subjects::ORDER_EVENT, &json)
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("at `placed.items[0].quantity`: expected a whole number that fits 32 bits, got 3000000000"),
        "{err}"
    );
}

#[test]
fn records_of_the_wrong_subject_are_refused() {
    let codec = Codec::default();
    let json = codec
        .encode_json(subjects::NOTIFICATION_COMMAND, &command())
        .unwrap();
    let err = codec
        .decode_json::<CarrierScan>(subjects::CARRIER_SCAN, &json)
        .unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");
    assert!(codec
        .decode_json::<NotificationCommand>(subjects::NOTIFICATION_COMMAND, &json!([1, 2]))
        .unwrap_err()
        .to_string()
        .ends_with("expected an object for record `NotificationCommand`, got [1,2]"));
}

#[test]
fn dead_letter_bytes_are_number_arrays_in_json() {
    let json = Codec::default()
        .encode_json(subjects::DEAD_LETTER, &dead_letter())
        .unwrap();
    assert_eq!(
        json["original_value"],
        json!([0x7b, 0, 0xff, 0xfe, 0x80, 0x0a])
    );
}
