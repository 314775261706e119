//! Records of wismo's topics as JSON, by their schema: what `replay` prints and
//! `wismoctl read` shows.

use serde_json::{json, Value};
use wismo_codec::{subjects, Codec, DeadLetter};
use wismo_config::Topics;
use wismo_core::model::{
    CarrierScan, DelayApologyCommand, NotificationCommand, OrderEvent, ReviewRequestCommand,
    RoutedScan, ShipmentRegistered,
};

/// A record's value on `topic` in its schema's JSON shape; an undecodable one
/// says why.
pub fn value(topics: &Topics, topic: &str, payload: &[u8]) -> Value {
    let codec = Codec::default();
    let result = if topic == topics.notifications {
        as_json::<NotificationCommand>(&codec, subjects::NOTIFICATION_COMMAND, payload)
    } else if topic == topics.review_requests {
        as_json::<ReviewRequestCommand>(&codec, subjects::REVIEW_REQUEST_COMMAND, payload)
    } else if topic == topics.delay_apologies {
        as_json::<DelayApologyCommand>(&codec, subjects::DELAY_APOLOGY_COMMAND, payload)
    } else if topic == topics.orders {
        as_json::<OrderEvent>(&codec, subjects::ORDER_EVENT, payload)
    } else if topic == topics.carrier_scans {
        as_json::<CarrierScan>(&codec, subjects::CARRIER_SCAN, payload)
    } else if topic == topics.routed_scans {
        as_json::<RoutedScan>(&codec, subjects::ROUTED_SCAN, payload)
    } else if topic == topics.shipment_registrations {
        as_json::<ShipmentRegistered>(&codec, subjects::SHIPMENT_REGISTERED, payload)
    } else if topic == topics.dead_letter {
        codec
            .decode::<DeadLetter>(subjects::DEAD_LETTER, payload)
            .map(|d| dead_letter(&d))
    } else if [
        &topics.tracker_changelog,
        &topics.matcher_changelog,
        &topics.dispatcher_changelog,
    ]
    .contains(&&topic.to_string())
    {
        return state(payload);
    } else {
        return json!({ "undecoded_bytes": payload.len() });
    };
    result.unwrap_or_else(|e| json!({ "decode_error": e.to_string() }))
}

pub fn dead_letter(d: &DeadLetter) -> Value {
    json!({
        "reason": d.reason,
        "error_kind": d.error_kind,
        "source_topic": d.source_topic,
        "source_partition": d.source_partition,
        "source_offset": d.source_offset,
        "original_key": d.original_key.as_ref().map(|k| String::from_utf8_lossy(k).into_owned()),
        "original_value": d.original_value.as_ref().map(|v| String::from_utf8_lossy(v).into_owned()),
        // Set when only the first bytes of a large value were kept.
        "original_size": d.original_size,
        "original_sha256": d.original_sha256,
        "service": d.service,
        "failed_at": d.failed_at.timestamp_millis(),
    })
}

/// A changelog entry: its state as JSON, after the format byte.
fn state(payload: &[u8]) -> Value {
    match payload.split_first() {
        Some((1, body)) => serde_json::from_slice(body)
            .unwrap_or_else(|e| json!({ "decode_error": e.to_string() })),
        Some((format, _)) => json!({ "state_format": format }),
        None => Value::Null,
    }
}

/// A record of `subject` in its schema's JSON shape.
fn as_json<T: serde::de::DeserializeOwned + serde::Serialize>(
    codec: &Codec,
    subject: &str,
    payload: &[u8],
) -> Result<Value, wismo_codec::CodecError> {
    codec
        .decode::<T>(subject, payload)
        .and_then(|v| codec.encode_json(subject, &v))
}
