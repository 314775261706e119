//! Confluent framing plus the Avro decode of every subject a service or tool
//! decodes: the inputs from shops and 3PLs, the internal topics, the outbox
//! commands the dispatcher reads, dead letters.
//!
//! The framed schema id picks the writer schema, so one input reaches one subject's
//! decoder; the others must refuse it before touching the body. Asserted:
//! - no panic, abort or huge allocation, whatever the bytes;
//! - at most one subject accepts a record (record names differ);
//! - what decodes re-encodes, decodes back to an equal value, and encodes to the
//!   same bytes again; its natural JSON form reads back equal too;
//! - no strict prefix of a record that decodes also decodes (Avro is prefix-free,
//!   so a truncated record must be refused, not read with fields missing);
//! - errors stay short enough for a dead-letter reason.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;
use wismo_codec::{subjects, unframe, Codec, DeadLetter, SchemaCatalog};
use wismo_core::model::{
    CarrierScan, DelayApologyCommand, NotificationCommand, OrderEvent, ReviewRequestCommand,
    RoutedScan, ShipmentRegistered,
};

fuzz_target!(|bytes: &[u8]| {
    let accepted = [
        check::<OrderEvent>(subjects::ORDER_EVENT, bytes, |e| drop(e.validate())),
        check::<CarrierScan>(subjects::CARRIER_SCAN, bytes, |s| drop(s.validate())),
        check::<ShipmentRegistered>(subjects::SHIPMENT_REGISTERED, bytes, |_| {}),
        check::<RoutedScan>(subjects::ROUTED_SCAN, bytes, |r| drop(r.scan.validate())),
        check::<NotificationCommand>(subjects::NOTIFICATION_COMMAND, bytes, |_| {}),
        check::<DelayApologyCommand>(subjects::DELAY_APOLOGY_COMMAND, bytes, |_| {}),
        check::<ReviewRequestCommand>(subjects::REVIEW_REQUEST_COMMAND, bytes, |_| {}),
        check::<DeadLetter>(subjects::DEAD_LETTER, bytes, |_| {}),
    ];
    let subjects_accepting = accepted.iter().filter(|ok| **ok).count();
    assert!(
        subjects_accepting <= 1,
        "{subjects_accepting} subjects accepted one record"
    );
});

/// Decodes `bytes` as `subject`; returns whether it decoded.
fn check<T>(subject: &str, bytes: &[u8], use_it: impl FnOnce(&T)) -> bool
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    let codec = Codec::default();
    let value: T = match codec.decode(subject, bytes) {
        Ok(value) => value,
        Err(e) => {
            // Dead-letter reasons and logs carry this message.
            let shown = e.to_string();
            assert!(
                shown.len() <= 1024 + 8 * bytes.len(),
                "{subject}: a {}-byte input gave a {}-byte error",
                bytes.len(),
                shown.len()
            );
            return false;
        }
    };
    let (id, _) = unframe(bytes).expect("decoded, so framed");
    let entry = SchemaCatalog::builtin()
        .entry(id)
        .expect("decoded, so a known id");
    assert_eq!(
        entry.subject, subject,
        "schema id {id} decoded as another subject"
    );
    use_it(&value);

    let encoded = codec
        .encode(subject, &value)
        .unwrap_or_else(|e| panic!("{subject}: decoded {value:?} does not encode: {e}"));
    let again: T = codec
        .decode(subject, &encoded)
        .unwrap_or_else(|e| panic!("{subject}: re-encoded {value:?} does not decode: {e}"));
    assert_eq!(again, value, "{subject}: decode(encode(v)) != v");
    let encoded_again = codec.encode(subject, &again).expect("encoded once");
    assert_eq!(
        encoded_again, encoded,
        "{subject}: encoding is not deterministic"
    );

    let json = codec
        .encode_json(subject, &value)
        .unwrap_or_else(|e| panic!("{subject}: {value:?} has no JSON form: {e}"));
    let from_json: T = codec
        .decode_json(subject, &json)
        .unwrap_or_else(|e| panic!("{subject}: JSON form {json} does not read back: {e}"));
    assert_eq!(
        from_json, value,
        "{subject}: JSON round trip changed the value"
    );

    // Cuts inside the body (the header alone is covered by the framing checks).
    for cut in [bytes.len() - 1, 5 + (bytes.len() - 5) / 2] {
        if cut < bytes.len() {
            assert!(
                codec.decode::<T>(subject, &bytes[..cut]).is_err(),
                "{subject}: the first {cut} of {} bytes decoded too",
                bytes.len()
            );
        }
    }
    true
}
