//! Framing and decoding errors: precise, human-readable, never a panic.

use crate::fixtures::*;
use wismo_codec::{frame, subjects, unframe, Codec, CodecError};
use wismo_core::model::{CarrierScan, OrderEvent};

fn decode_scan(bytes: &[u8]) -> Result<CarrierScan, CodecError> {
    Codec::default().decode(subjects::CARRIER_SCAN, bytes)
}

#[test]
fn too_short() {
    for len in 0..5 {
        let err = decode_scan(&vec![0; len]).unwrap_err();
        assert_eq!(err, CodecError::TooShort { len });
    }
    assert_eq!(
        decode_scan(&[0, 0, 0]).unwrap_err().to_string(),
        "record is 3 bytes long; a Confluent-framed record needs at least 5 \
         (magic byte 0 + 4-byte schema id) before the Avro body"
    );
}

#[test]
fn bad_magic_byte() {
    // A JSON record on an Avro topic is the classic case.
    let err = decode_scan(br#"{"scan_id":"x"}"#).unwrap_err();
    assert_eq!(err, CodecError::BadMagic { found: b'{' });
    assert_eq!(
        err.to_string(),
        "bad magic byte 0x7b; Confluent-framed records start with 0x00"
    );
}

#[test]
fn unknown_schema_id() {
    let err = decode_scan(&frame(4242, &[])).unwrap_err();
    assert_eq!(err, CodecError::UnknownSchemaId { id: 4242 });
    assert_eq!(
        err.to_string(),
        "unknown schema id 4242: no schema with that id is registered"
    );
}

#[test]
fn unknown_subject() {
    let codec = Codec::default();
    let expected = CodecError::UnknownSubject {
        subject: "carrier-scans-value".into(),
    };
    assert_eq!(
        codec
            .encode("carrier-scans-value", &scan_full())
            .unwrap_err(),
        expected
    );
    let bytes = codec.encode(subjects::CARRIER_SCAN, &scan_full()).unwrap();
    assert_eq!(
        codec
            .decode::<CarrierScan>("carrier-scans-value", &bytes)
            .unwrap_err(),
        expected
    );
}

#[test]
fn schema_id_of_another_subject() {
    let codec = Codec::default();
    let bytes = codec
        .encode(subjects::ORDER_EVENT, &order_placed())
        .unwrap();
    let err = codec
        .decode::<CarrierScan>(subjects::CARRIER_SCAN, &bytes)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "schema id 1 belongs to another subject: it describes record `io.wismo.OrderEvent`, \
         but subject `carrier_scan` expects `io.wismo.CarrierScan`"
    );
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = Codec::default()
        .encode(subjects::CARRIER_SCAN, &scan_minimal())
        .unwrap();
    bytes.push(0);
    let err = decode_scan(&bytes).unwrap_err();
    assert!(
        matches!(&err, CodecError::Malformed { id: 2, reason, .. } if reason.contains("1 trailing byte")),
        "{err}"
    );
}

/// apache-avro 0.21 turns end-of-input inside a string into `null`, which would decode
/// a truncated scan with `order_id: None`. Every truncation must be an error.
#[test]
fn every_truncation_is_an_error() {
    let codec = Codec::default();
    for event in order_events() {
        let bytes = codec.encode(subjects::ORDER_EVENT, &event).unwrap();
        for cut in 0..bytes.len() {
            let result = codec.decode::<OrderEvent>(subjects::ORDER_EVENT, &bytes[..cut]);
            assert!(
                result.is_err(),
                "cut at {cut}/{} decoded: {result:?}",
                bytes.len()
            );
        }
    }
    for scan in [scan_full(), scan_minimal()] {
        let bytes = codec.encode(subjects::CARRIER_SCAN, &scan).unwrap();
        for cut in 0..bytes.len() {
            let result = decode_scan(&bytes[..cut]);
            assert!(
                result.is_err(),
                "cut at {cut}/{} decoded: {result:?}",
                bytes.len()
            );
        }
    }
    let bytes = codec.encode(subjects::DEAD_LETTER, &dead_letter()).unwrap();
    for cut in 0..bytes.len() {
        let result = codec.decode::<wismo_codec::DeadLetter>(subjects::DEAD_LETTER, &bytes[..cut]);
        assert!(
            result.is_err(),
            "cut at {cut}/{} decoded: {result:?}",
            bytes.len()
        );
    }
}

#[test]
fn truncation_error_says_where() {
    let bytes = Codec::default()
        .encode(subjects::CARRIER_SCAN, &scan_full())
        .unwrap();
    let err = decode_scan(&bytes[..bytes.len() - 3]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "record with schema id 2 is not valid Avro for subject `carrier_scan`: at `order_id`"
        ),
        "{text}"
    );
    assert!(text.contains("record truncated?"), "{text}");
}

/// A few bytes claiming half a billion array items must fail fast, not make
/// apache-avro reserve gigabytes.
#[test]
fn absurd_item_counts_are_refused_before_allocation() {
    // OrderEvent: event_id "", order_id "", occurred_at 0, placed = branch 1,
    // customer: three empty strings, then channels with a huge block count.
    let mut body = vec![0, 0, 0, 2, 0, 0, 0];
    body.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x04]); // zig-zag 536_870_912
    let err = Codec::default()
        .decode::<OrderEvent>(subjects::ORDER_EVENT, &frame(1, &body))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "record with schema id 1 is not valid Avro for subject `order_event`: at \
         `placed.customer.channels` (byte 12): block claims 536870912 items but only 0 byte(s) remain"
    );
}

#[test]
fn bad_enum_index_and_bad_boolean_are_refused() {
    let cmd = Codec::default()
        .encode(subjects::NOTIFICATION_COMMAND, &command_minimal())
        .unwrap();
    // command_minimal: three strings, two null unions, then the milestone enum index.
    let (_, body) = unframe(&cmd).unwrap();
    let mut pos = 0;
    for _ in 0..3 {
        pos += 1 + usize::from(body[pos] / 2);
    }
    pos += 2;
    assert_eq!(body[pos], 0, "ORDER_CONFIRMED is index 0");
    let mut bad = cmd.clone();
    bad[5 + pos] = 40; // index 20
    let err = Codec::default()
        .decode::<wismo_core::model::NotificationCommand>(subjects::NOTIFICATION_COMMAND, &bad)
        .unwrap_err();
    assert!(
        err.to_string().contains("at `milestone`") && err.to_string().contains("enum index 20"),
        "{err}"
    );
}

#[test]
fn unframe_splits_header_and_body() {
    assert_eq!(
        unframe(&[0, 0, 0, 1, 2, 9, 9]).unwrap(),
        (258, &[9u8, 9][..])
    );
    assert_eq!(frame(258, &[9, 9]), [0, 0, 0, 1, 2, 9, 9]);
}
