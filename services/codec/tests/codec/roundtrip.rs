//! Every model struct survives encode → decode unchanged, and the Rust structs have
//! exactly the fields of the schemas, in schema order.

use crate::fixtures::*;
use apache_avro::schema::{NamesRef, ResolvedSchema};
use apache_avro::types::Value;
use apache_avro::Schema;
use serde::{de::DeserializeOwned, Serialize};
use std::collections::BTreeSet;
use std::fmt::Debug;
use wismo_codec::{subjects, Codec, SchemaCatalog, SchemaRegistry};
use wismo_core::model::{ChannelKind, Milestone};

fn roundtrip<T: Serialize + DeserializeOwned + PartialEq + Debug>(subject: &str, value: &T) {
    let codec = Codec::default();
    let bytes = codec.encode(subject, value).expect("encodes");
    let id = codec.registry().id_of(subject).unwrap();
    assert_eq!(bytes[0], 0, "magic byte");
    assert_eq!(bytes[1..5], id.to_be_bytes(), "schema id, big-endian");
    let back: T = codec.decode(subject, &bytes).expect("decodes");
    assert_eq!(&back, value);
}

/// The direct encoder writes the bytes apache-avro's serializer writes.
fn same_bytes<T: Serialize>(subject: &str, value: &T) {
    let codec = Codec::default();
    let direct = codec.encode(subject, value).expect("encodes");
    let general = codec.encode_general(subject, value).expect("encodes");
    assert_eq!(direct, general, "{subject}");
}

#[test]
fn both_encoders_write_the_same_bytes() {
    for e in order_events() {
        same_bytes(subjects::ORDER_EVENT, &e);
    }
    same_bytes(subjects::CARRIER_SCAN, &scan_full());
    same_bytes(subjects::CARRIER_SCAN, &scan_minimal());
    same_bytes(subjects::NOTIFICATION_COMMAND, &command());
    same_bytes(subjects::NOTIFICATION_COMMAND, &command_minimal());
    same_bytes(subjects::DEAD_LETTER, &dead_letter());
    same_bytes(subjects::DEAD_LETTER, &dead_letter_tombstone());
    same_bytes(subjects::SHIPMENT_REGISTERED, &shipment_registered());
    same_bytes(subjects::ROUTED_SCAN, &routed_scan());
    same_bytes(subjects::DELAY_APOLOGY_COMMAND, &delay_apology());
    same_bytes(subjects::REVIEW_REQUEST_COMMAND, &review_request());
    for s in order_states() {
        same_bytes(subjects::ORDER_STATE, &s);
    }
    for s in tracking_states() {
        same_bytes(subjects::TRACKING_STATE, &s);
    }
    for s in recipient_holds() {
        same_bytes(subjects::RECIPIENT_HOLD, &s);
    }
}

#[test]
fn states_roundtrip() {
    for state in order_states() {
        roundtrip(subjects::ORDER_STATE, &state);
    }
    for state in tracking_states() {
        roundtrip(subjects::TRACKING_STATE, &state);
    }
    for state in recipient_holds() {
        roundtrip(subjects::RECIPIENT_HOLD, &state);
    }
}

#[test]
fn order_events_roundtrip() {
    for event in order_events() {
        roundtrip(subjects::ORDER_EVENT, &event);
    }
}

#[test]
fn carrier_scans_roundtrip() {
    roundtrip(subjects::CARRIER_SCAN, &scan_full());
    roundtrip(subjects::CARRIER_SCAN, &scan_minimal());
}

#[test]
fn notification_commands_roundtrip_with_every_milestone_and_channel() {
    let milestones = [
        Milestone::OrderConfirmed,
        Milestone::Shipped,
        Milestone::OutForDelivery,
        Milestone::AvailableForPickup,
        Milestone::FailedAttempt,
        Milestone::Exception,
        Milestone::Delivered,
        Milestone::ReturnedToSender,
    ];
    let channels = [ChannelKind::Email, ChannelKind::Sms, ChannelKind::Push];
    roundtrip(subjects::NOTIFICATION_COMMAND, &command_minimal());
    for milestone in milestones {
        for channel in channels {
            let cmd = wismo_core::model::NotificationCommand {
                milestone,
                channel,
                ..command()
            };
            roundtrip(subjects::NOTIFICATION_COMMAND, &cmd);
        }
    }
}

#[test]
fn dead_letters_roundtrip_with_raw_bytes() {
    roundtrip(subjects::DEAD_LETTER, &dead_letter());
    roundtrip(subjects::DEAD_LETTER, &dead_letter_tombstone());
    let no_key = wismo_codec::DeadLetter {
        original_key: None,
        ..dead_letter()
    };
    roundtrip(subjects::DEAD_LETTER, &no_key);
}

#[test]
fn internal_records_roundtrip() {
    roundtrip(subjects::SHIPMENT_REGISTERED, &shipment_registered());
    roundtrip(subjects::ROUTED_SCAN, &routed_scan());
    roundtrip(subjects::DELAY_APOLOGY_COMMAND, &delay_apology());
    roundtrip(subjects::REVIEW_REQUEST_COMMAND, &review_request());
    roundtrip(
        subjects::ROUTED_SCAN,
        &RoutedScan {
            order_id: "ord-2".into(),
            scan: scan_minimal(),
        },
    );
}

/// Pins the wire bytes: Confluent header, then Avro strings as zig-zag length + UTF-8.
#[test]
fn wire_bytes_are_confluent_framed_avro() {
    let record = ShipmentRegistered {
        tracking_number: "T1".into(),
        carrier: "ups".into(),
        order_id: "o".into(),
        shipment_id: "s".into(),
    };
    let bytes = Codec::default()
        .encode(subjects::SHIPMENT_REGISTERED, &record)
        .unwrap();
    assert_eq!(
        bytes,
        [0, 0, 0, 0, 5, 4, b'T', b'1', 6, b'u', b'p', b's', 2, b'o', 2, b's']
    );
}

/// Dead-letter bytes are Avro `bytes` (length + raw), not an array of ints.
#[test]
fn dead_letter_bytes_are_avro_bytes() {
    let dl = wismo_codec::DeadLetter {
        reason: String::new(),
        error_kind: String::new(),
        source_topic: String::new(),
        source_partition: 0,
        source_offset: 0,
        original_key: None,
        original_value: Some(vec![0xff, 0x00]),
        original_size: None,
        original_sha256: None,
        service: String::new(),
        failed_at: ts(0),
    };
    let bytes = Codec::default().encode(subjects::DEAD_LETTER, &dl).unwrap();
    // reason, error_kind, source_topic: empty strings; partition 0; offset 0;
    // key: union branch 0 (null); value: branch 1 (zig-zag 2), length 2 (zig-zag 4), bytes;
    // size and hash: branch 0 (null).
    assert_eq!(
        bytes[5..],
        [0, 0, 0, 0, 0, 0, 2, 4, 0xff, 0x00, 0, 0, 0, 0],
        "{bytes:?}"
    );
}

/// The serde shape of each fixture has the same fields, in the same order, as the
/// schema, at every nesting level; and together the fixtures cover every record type.
#[test]
fn rust_structs_match_schemas_field_for_field() {
    let catalog = SchemaCatalog::builtin();
    let cases: Vec<(&str, Vec<Value>)> = vec![
        (
            subjects::ORDER_EVENT,
            order_events().iter().map(to_avro).collect(),
        ),
        (
            subjects::CARRIER_SCAN,
            vec![to_avro(&scan_full()), to_avro(&scan_minimal())],
        ),
        (subjects::NOTIFICATION_COMMAND, vec![to_avro(&command())]),
        (subjects::DEAD_LETTER, vec![to_avro(&dead_letter())]),
        (
            subjects::SHIPMENT_REGISTERED,
            vec![to_avro(&shipment_registered())],
        ),
        (subjects::ROUTED_SCAN, vec![to_avro(&routed_scan())]),
        (
            subjects::DELAY_APOLOGY_COMMAND,
            vec![to_avro(&delay_apology())],
        ),
        (
            subjects::REVIEW_REQUEST_COMMAND,
            vec![to_avro(&review_request())],
        ),
        (
            subjects::ORDER_STATE,
            order_states().iter().map(to_avro).collect(),
        ),
        (
            subjects::TRACKING_STATE,
            tracking_states().iter().map(to_avro).collect(),
        ),
        (
            subjects::RECIPIENT_HOLD,
            recipient_holds().iter().map(to_avro).collect(),
        ),
    ];
    assert_eq!(cases.len(), subjects::ALL.len());
    for (subject, values) in cases {
        let schema = catalog.current(subject).unwrap();
        let resolved = ResolvedSchema::try_from(schema).unwrap();
        let mut seen = BTreeSet::new();
        for value in &values {
            compare_shape(value, schema, resolved.get_names(), subject, &mut seen);
        }
        let all_records: BTreeSet<String> = resolved
            .get_names()
            .iter()
            .filter(|(_, s)| matches!(s, Schema::Record(_)))
            .map(|(n, _)| n.fullname(None))
            .collect();
        assert_eq!(
            seen, all_records,
            "{subject}: fixtures must cover every record"
        );
    }
}

fn to_avro<T: Serialize>(value: &T) -> Value {
    apache_avro::to_value(value).unwrap()
}

fn compare_shape(
    value: &Value,
    schema: &Schema,
    names: &NamesRef<'_>,
    path: &str,
    seen: &mut BTreeSet<String>,
) {
    match (value, schema) {
        (_, Schema::Ref { name }) => {
            let schema = names
                .iter()
                .find(|(n, _)| n.name == name.name)
                .map(|(_, s)| *s)
                .unwrap();
            compare_shape(value, schema, names, path, seen);
        }
        (Value::Record(fields), Schema::Record(record)) => {
            seen.insert(record.name.fullname(None));
            let rust: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            let avro: Vec<&str> = record.fields.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(rust, avro, "field names and order differ at `{path}`");
            for ((name, v), field) in fields.iter().zip(&record.fields) {
                compare_shape(v, &field.schema, names, &format!("{path}.{name}"), seen);
            }
        }
        (Value::Union(_, inner), Schema::Union(_)) if **inner == Value::Null => {}
        (Value::Union(_, inner), Schema::Union(union)) => {
            let branch = union
                .variants()
                .iter()
                .find(|v| !matches!(v, Schema::Null))
                .unwrap();
            compare_shape(inner, branch, names, path, seen);
        }
        // A choice of records (an enum's content): the branch with its fields.
        (Value::Record(fields), Schema::Union(union)) => {
            let rust: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            let branch = union
                .variants()
                .iter()
                .find(|v| matches!(v, Schema::Record(r) if r.fields.iter().map(|f| f.name.as_str()).eq(rust.iter().copied())))
                .unwrap_or_else(|| panic!("`{path}`: no branch has the fields {rust:?}"));
            compare_shape(value, branch, names, path, seen);
        }
        (Value::Array(items), Schema::Array(array)) => {
            for (i, item) in items.iter().enumerate() {
                compare_shape(item, &array.items, names, &format!("{path}[{i}]"), seen);
            }
        }
        (Value::Map(entries), Schema::Map(map)) => {
            for (k, v) in entries {
                compare_shape(v, &map.types, names, &format!("{path}.{k}"), seen);
            }
        }
        (Value::Union(..), other) | (Value::Record(_), other) => {
            panic!("`{path}`: Rust has a union/record where the schema has {other:?}")
        }
        _ => {}
    }
}
