//! Schema history and compatibility. `schemas/history/<subject>/v<N>.avsc` holds every
//! version ever published; the newest is a copy of `schemas/<subject>.avsc`. These tests
//! scan the directory, so a new version is checked without code changes (registering
//! its schema id in `catalog.rs` is the one manual step, and a test says so).

use crate::fixtures::*;
use apache_avro::schema::{NamesRef, ResolvedSchema};
use apache_avro::schema_compatibility::SchemaCompatibility;
use apache_avro::types::Value;
use apache_avro::{from_avro_datum, to_avro_datum, Schema};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;
use wismo_codec::{frame, history_id, subjects, Codec, SchemaCatalog, SchemaRegistry};
use wismo_core::model::{
    CarrierScan, DelayApologyCommand, NotificationCommand, OrderEvent, ReviewRequestCommand,
    ScanLocation,
};

struct Version {
    subject: String,
    version: u32,
    path: PathBuf,
    text: String,
    schema: Schema,
}

/// Every `schemas/history/*/v*.avsc`, sorted by subject and version.
fn history() -> Vec<Version> {
    let mut out = Vec::new();
    for dir in fs::read_dir(schemas_dir().join("history")).unwrap() {
        let dir = dir.unwrap().path();
        let subject = dir.file_name().unwrap().to_str().unwrap().to_owned();
        for file in fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap();
            let version = name
                .strip_prefix('v')
                .and_then(|n| n.strip_suffix(".avsc"))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{}: history files are named v<N>.avsc", path.display()));
            let text = fs::read_to_string(&path).unwrap();
            let schema = Schema::parse_str(&text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
            out.push(Version {
                subject: subject.clone(),
                version,
                path,
                text,
                schema,
            });
        }
    }
    out.sort_by(|a, b| (&a.subject, a.version).cmp(&(&b.subject, b.version)));
    assert!(!out.is_empty());
    out
}

fn current_text(subject: &str) -> String {
    fs::read_to_string(schemas_dir().join(format!("{subject}.avsc")))
        .unwrap_or_else(|e| panic!("history/{subject}/ has no schemas/{subject}.avsc: {e}"))
}

/// The CI compatibility gate: every historical version and the current schema can read
/// each other's data (full compatibility), checked statically by apache-avro's
/// compatibility checker and dynamically by writing a datum with one and reading it
/// with the other, down to the Rust type.
#[test]
fn all_history_versions_resolve() {
    let codec = Codec::default();
    for old in history() {
        let current = Schema::parse_str(&current_text(&old.subject)).unwrap();
        let what = format!("{} v{} ({})", old.subject, old.version, old.path.display());

        SchemaCompatibility::can_read(&old.schema, &current)
            .unwrap_or_else(|e| panic!("current {} cannot read {what}: {e}", old.subject));
        SchemaCompatibility::can_read(&current, &old.schema)
            .unwrap_or_else(|e| panic!("{what} cannot read current {}: {e}", old.subject));

        // Old writer, current reader.
        let datum = to_avro_datum(&old.schema, sample(&old.schema)).unwrap();
        let value = from_avro_datum(&old.schema, &mut &datum[..], Some(&current))
            .unwrap_or_else(|e| panic!("current cannot resolve data written by {what}: {e}"));
        into_rust_type(&old.subject, &value)
            .unwrap_or_else(|e| panic!("data written by {what} does not fit the Rust type: {e}"));

        // The same through the codec, framed with the version's registered id.
        let entry = SchemaCatalog::builtin()
            .entries()
            .iter()
            .find(|e| e.subject == old.subject && e.version == Some(old.version))
            .unwrap_or_else(|| panic!("{what} is not registered in services/codec/src/catalog.rs"));
        decode_with_codec(&codec, &old.subject, &frame(entry.id, &datum))
            .unwrap_or_else(|e| panic!("codec cannot decode data written by {what}: {e}"));

        // Current writer, old reader (consumers that have not upgraded yet).
        let datum = to_avro_datum(&current, sample(&current)).unwrap();
        from_avro_datum(&current, &mut &datum[..], Some(&old.schema)).unwrap_or_else(|e| {
            panic!("{what} cannot resolve data written by the current schema: {e}")
        });
    }
}

#[test]
fn newest_history_version_is_the_current_schema() {
    let mut newest: HashMap<String, Version> = HashMap::new();
    for v in history() {
        newest.insert(v.subject.clone(), v); // sorted, so the last one wins
    }
    for subject in subjects::ALL {
        let v = newest
            .get(subject)
            .unwrap_or_else(|| panic!("schemas/history/{subject}/ is missing"));
        assert!(
            v.text == current_text(subject),
            "schemas/{subject}.avsc changed: copy it to schemas/history/{subject}/v{}.avsc \
             (or, if v{} was never published, update that file)",
            v.version + 1,
            v.version
        );
    }
    assert_eq!(
        newest.len(),
        subjects::ALL.len(),
        "history for an unknown subject"
    );
}

#[test]
fn every_history_file_is_registered_with_the_same_text() {
    let catalog = SchemaCatalog::builtin();
    for v in history() {
        let entry = catalog
            .entries()
            .iter()
            .find(|e| e.subject == v.subject && e.version == Some(v.version))
            .unwrap_or_else(|| {
                panic!(
                    "{} is not registered: add ({}, schema_file!(\"history/{}/v{}.avsc\")) \
                     to the `{}` entry in services/codec/src/catalog.rs",
                    v.path.display(),
                    v.version,
                    v.subject,
                    v.version,
                    v.subject
                )
            });
        assert_eq!(entry.text, v.text);
        let base = catalog.base_id(&v.subject).unwrap();
        assert_eq!(entry.id, history_id(base, v.version));
    }
}

#[test]
fn schema_ids_are_fixed_and_unique() {
    let catalog = SchemaCatalog::builtin();
    let ids: Vec<(&str, u32)> = subjects::ALL
        .iter()
        .map(|s| (*s, catalog.base_id(s).unwrap()))
        .collect();
    assert_eq!(
        ids,
        [
            ("order_event", 1),
            ("carrier_scan", 2),
            ("notification_command", 3),
            ("dead_letter", 4),
            ("shipment_registered", 5),
            ("routed_scan", 6),
            ("delay_apology_command", 7),
            ("review_request_command", 8),
            ("order_state", 9),
            ("tracking_state", 10),
            ("recipient_hold", 11),
        ]
    );
    // The topics are framed with the base id; the states with their version's id,
    // and their base id reads what releases framing with it wrote (version 1).
    let framed: Vec<(&str, u32)> = subjects::ALL
        .iter()
        .map(|s| (*s, catalog.id_of(s).unwrap()))
        .filter(|(s, id)| *id != catalog.base_id(s).unwrap())
        .collect();
    assert_eq!(
        framed,
        [
            ("order_state", 209),
            ("tracking_state", 110),
            ("recipient_hold", 111)
        ]
    );
    for (base, v1) in [(9, 109), (10, 110), (11, 111)] {
        assert_eq!(
            catalog.entry(base).unwrap().text,
            catalog.entry(v1).unwrap().text
        );
    }
    assert_eq!(catalog.entry(102).unwrap().version, Some(1));
    assert_eq!(catalog.entry(102).unwrap().subject, subjects::CARRIER_SCAN);
    let mut all: Vec<u32> = catalog.entries().iter().map(|e| e.id).collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), catalog.entries().len(), "duplicate schema id");
}

/// A scan published by an older publisher, before `raw_status_detail` existed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CarrierScanV1 {
    scan_id: String,
    tracking_number: String,
    carrier: String,
    raw_status: String,
    description: Option<String>,
    occurred_at: i64,
    location: Option<ScanLocation>,
    carrier_edd: Option<i32>,
    order_id: Option<String>,
}

fn v1_schema() -> Schema {
    Schema::parse_str(
        &fs::read_to_string(schemas_dir().join("history/carrier_scan/v1.avsc")).unwrap(),
    )
    .unwrap()
}

#[test]
fn carrier_scan_v1_decodes_into_the_current_struct() {
    let full = scan_full();
    let old = CarrierScanV1 {
        scan_id: full.scan_id.clone(),
        tracking_number: full.tracking_number.clone(),
        carrier: full.carrier.clone(),
        raw_status: full.raw_status.clone(),
        description: full.description.clone(),
        occurred_at: full.occurred_at.timestamp_millis(),
        location: full.location.clone(),
        carrier_edd: Some(19_790), // 2024-03-08
        order_id: full.order_id.clone(),
    };
    let v1 = v1_schema();
    let value = apache_avro::to_value(&old).unwrap().resolve(&v1).unwrap();
    let body = to_avro_datum(&v1, value).unwrap();
    let bytes = frame(history_id(2, 1), &body);
    assert_eq!(bytes[..5], [0, 0, 0, 0, 102]);

    let scan: CarrierScan = Codec::default()
        .decode(subjects::CARRIER_SCAN, &bytes)
        .unwrap();
    assert_eq!(
        scan,
        CarrierScan {
            raw_status_detail: None,
            ..full
        }
    );
}

#[test]
fn v1_consumers_read_current_scans() {
    let bytes = Codec::default()
        .encode(subjects::CARRIER_SCAN, &scan_full())
        .unwrap();
    let current = SchemaCatalog::builtin()
        .current(subjects::CARRIER_SCAN)
        .unwrap();
    let value = from_avro_datum(current, &mut &bytes[5..], Some(&v1_schema())).unwrap();
    let old: CarrierScanV1 = apache_avro::from_value(&value).unwrap();
    assert_eq!(old.order_id.as_deref(), Some("ord-1001"));
    assert_eq!(old.carrier_edd, Some(19_790));
}

/// `routed_scan.avsc` inlines the carrier scan; it must not drift from `carrier_scan.avsc`.
#[test]
fn routed_scan_embeds_the_current_carrier_scan() {
    let routed: serde_json::Value =
        serde_json::from_str(&current_text(subjects::ROUTED_SCAN)).unwrap();
    let scan: serde_json::Value =
        serde_json::from_str(&current_text(subjects::CARRIER_SCAN)).unwrap();
    assert_eq!(routed["fields"][1]["name"], "scan");
    assert_eq!(routed["fields"][1]["type"], scan);
}

fn into_rust_type(subject: &str, value: &Value) -> Result<(), apache_avro::Error> {
    match subject {
        subjects::ORDER_EVENT => apache_avro::from_value::<OrderEvent>(value).map(drop),
        subjects::CARRIER_SCAN => apache_avro::from_value::<CarrierScan>(value).map(drop),
        subjects::NOTIFICATION_COMMAND => {
            apache_avro::from_value::<NotificationCommand>(value).map(drop)
        }
        subjects::DEAD_LETTER => {
            apache_avro::from_value::<wismo_codec::DeadLetter>(value).map(drop)
        }
        subjects::SHIPMENT_REGISTERED => {
            apache_avro::from_value::<ShipmentRegistered>(value).map(drop)
        }
        subjects::ROUTED_SCAN => apache_avro::from_value::<RoutedScan>(value).map(drop),
        subjects::DELAY_APOLOGY_COMMAND => {
            apache_avro::from_value::<DelayApologyCommand>(value).map(drop)
        }
        subjects::REVIEW_REQUEST_COMMAND => {
            apache_avro::from_value::<ReviewRequestCommand>(value).map(drop)
        }
        subjects::ORDER_STATE => apache_avro::from_value::<OrderState>(value).map(drop),
        subjects::TRACKING_STATE => apache_avro::from_value::<TrackingState>(value).map(drop),
        subjects::RECIPIENT_HOLD => apache_avro::from_value::<RecipientHold>(value).map(drop),
        other => panic!("no Rust type for subject `{other}`; add it to into_rust_type"),
    }
}

fn decode_with_codec(
    codec: &Codec,
    subject: &str,
    bytes: &[u8],
) -> Result<(), wismo_codec::CodecError> {
    match subject {
        subjects::ORDER_EVENT => codec.decode::<OrderEvent>(subject, bytes).map(drop),
        subjects::CARRIER_SCAN => codec.decode::<CarrierScan>(subject, bytes).map(drop),
        subjects::NOTIFICATION_COMMAND => codec
            .decode::<NotificationCommand>(subject, bytes)
            .map(drop),
        subjects::DEAD_LETTER => codec
            .decode::<wismo_codec::DeadLetter>(subject, bytes)
            .map(drop),
        subjects::SHIPMENT_REGISTERED => {
            codec.decode::<ShipmentRegistered>(subject, bytes).map(drop)
        }
        subjects::ROUTED_SCAN => codec.decode::<RoutedScan>(subject, bytes).map(drop),
        subjects::DELAY_APOLOGY_COMMAND => codec
            .decode::<DelayApologyCommand>(subject, bytes)
            .map(drop),
        subjects::REVIEW_REQUEST_COMMAND => codec
            .decode::<ReviewRequestCommand>(subject, bytes)
            .map(drop),
        subjects::ORDER_STATE => codec.decode::<OrderState>(subject, bytes).map(drop),
        subjects::TRACKING_STATE => codec.decode::<TrackingState>(subject, bytes).map(drop),
        subjects::RECIPIENT_HOLD => codec.decode::<RecipientHold>(subject, bytes).map(drop),
        other => panic!("no Rust type for subject `{other}`; add it to decode_with_codec"),
    }
}

/// A datum exercising every field of `schema`: optional fields set, one item per
/// array and map, so nested records are written too.
pub fn sample(schema: &Schema) -> Value {
    let resolved = ResolvedSchema::try_from(schema).unwrap();
    sample_of(schema, resolved.get_names())
}

fn sample_of(schema: &Schema, names: &NamesRef<'_>) -> Value {
    match schema {
        Schema::Null => Value::Null,
        Schema::Boolean => Value::Boolean(true),
        Schema::Int => Value::Int(7),
        Schema::Long => Value::Long(7),
        Schema::Float => Value::Float(1.5),
        Schema::Double => Value::Double(1.5),
        Schema::String => Value::String("sample".into()),
        Schema::Bytes => Value::Bytes(vec![0, 1, 0xff]),
        Schema::Date => Value::Date(19_790),
        Schema::TimestampMillis => Value::TimestampMillis(1_709_896_200_789),
        // The last symbol, as the last union branch below: an enum naming which
        // branch a union holds (a tagged command) then agrees with it.
        Schema::Enum(e) => {
            let last = e.symbols.len() - 1;
            Value::Enum(last as u32, e.symbols[last].clone())
        }
        Schema::Union(u) => {
            let (i, branch) = u
                .variants()
                .iter()
                .enumerate()
                .rfind(|(_, v)| !matches!(v, Schema::Null))
                .unwrap();
            Value::Union(i as u32, Box::new(sample_of(branch, names)))
        }
        Schema::Array(a) => Value::Array(vec![sample_of(&a.items, names)]),
        Schema::Map(m) => Value::Map(HashMap::from([(
            "key".to_string(),
            sample_of(&m.types, names),
        )])),
        Schema::Record(r) => Value::Record(
            r.fields
                .iter()
                .map(|f| (f.name.clone(), sample_of(&f.schema, names)))
                .collect(),
        ),
        Schema::Ref { name } => {
            let schema = names.iter().find(|(n, _)| n.name == name.name).unwrap().1;
            sample_of(schema, names)
        }
        other => panic!("sample(): add a sample value for {other:?}"),
    }
}

/// An order's state as version 1 of its schema wrote it: each note carried the
/// order id, and the status changes were the order's, each naming its order,
/// tracking number and carrier. The current version reads its notes as they were
/// and starts each shipment's timeline empty.
#[test]
fn order_state_v1_reads_with_its_notes_and_without_its_timeline() {
    let state = order_states()
        .into_iter()
        .find(|s| !s.held_back.is_empty() && !s.shipments.is_empty())
        .expect("a fixture with notes and a shipment");
    let mut json = serde_json::to_value(&state).unwrap();
    let tracking = state
        .shipments
        .values()
        .next()
        .unwrap()
        .tracking_number
        .clone();
    for note in json["held_back"].as_array_mut().unwrap() {
        note["order_id"] = state.order_id.clone().into();
    }
    for shipment in json["shipments"].as_object_mut().unwrap().values_mut() {
        shipment.as_object_mut().unwrap().remove("timeline");
    }
    json["timeline"] = serde_json::json!([{
        "order_id": state.order_id, "tracking_number": tracking, "carrier": "ups",
        "occurred_at": 1_772_613_000_000_i64, "status": "in_transit",
        "sub_status": "generic", "raw_status": "DP", "mapped": true
    }]);
    let v1 = Schema::parse_str(
        &fs::read_to_string(schemas_dir().join("history/order_state/v1.avsc")).unwrap(),
    )
    .unwrap();
    let value = apache_avro::to_value(&json).unwrap().resolve(&v1).unwrap();
    let bytes = frame(
        history_id(9, 1),
        &to_avro_datum(&v1, value).expect("a version-1 datum"),
    );

    let read: OrderState = Codec::default()
        .decode(subjects::ORDER_STATE, &bytes)
        .unwrap();
    assert_eq!(read.held_back, state.held_back);
    assert_eq!(read.held_back_decisions()[0].order_id, state.order_id);
    assert!(read.timeline().is_empty());
    let mut expected = state.clone();
    expected
        .shipments
        .values_mut()
        .for_each(|s| s.timeline.clear());
    assert_eq!(read, expected);
}
