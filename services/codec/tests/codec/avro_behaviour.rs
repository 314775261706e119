//! Pins the apache-avro 0.21 serde behaviours wismo relies on, so an upgrade that
//! changes one fails here with a clear name rather than somewhere downstream.

use apache_avro::types::Value;
use apache_avro::{from_avro_datum, from_value, to_avro_datum, to_value, Schema};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Kind {
    Email,
    OutForDelivery,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Probe {
    opt: Option<String>,
    kind: Kind,
    at: i64,
    day: Option<i32>,
    vars: BTreeMap<String, String>,
    #[serde(with = "apache_avro::serde_avro_bytes_opt")]
    raw: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PlainBytes {
    raw: Option<Vec<u8>>,
}

const PROBE: &str = r#"{"type": "record", "name": "Probe", "fields": [
  {"name": "opt", "type": ["null", "string"], "default": null},
  {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["EMAIL", "OUT_FOR_DELIVERY"]}},
  {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "day", "type": ["null", {"type": "int", "logicalType": "date"}], "default": null},
  {"name": "vars", "type": {"type": "map", "values": "string"}},
  {"name": "raw", "type": ["null", "bytes"], "default": null}
]}"#;

fn probe() -> Probe {
    Probe {
        opt: Some("x".into()),
        kind: Kind::OutForDelivery,
        at: 1_709_896_200_789,
        day: Some(19_790),
        vars: BTreeMap::from([("k".into(), "v".into())]),
        raw: Some(vec![0, 0xff]),
    }
}

/// Serde output before resolution: Option → `Union(1, _)`, unit variant → `String`,
/// i64 → `Long`, i32 → `Int`, BTreeMap → `Map`, serde_avro_bytes_opt → `Bytes`.
/// Resolution against the schema turns them into `Enum`, `TimestampMillis`, `Date`.
#[test]
fn serde_values_resolve_to_logical_types_and_enums() {
    let schema = Schema::parse_str(PROBE).unwrap();
    let raw = to_value(probe()).unwrap();
    let Value::Record(fields) = &raw else {
        panic!()
    };
    assert_eq!(fields[1].1, Value::String("OUT_FOR_DELIVERY".into()));
    assert_eq!(fields[2].1, Value::Long(1_709_896_200_789));
    assert_eq!(fields[3].1, Value::Union(1, Box::new(Value::Int(19_790))));
    assert_eq!(
        fields[5].1,
        Value::Union(1, Box::new(Value::Bytes(vec![0, 0xff])))
    );
    assert!(
        raw.validate(&schema),
        "Long validates against timestamp-millis as is"
    );

    let resolved = raw.resolve(&schema).unwrap();
    let Value::Record(fields) = &resolved else {
        panic!()
    };
    assert_eq!(fields[1].1, Value::Enum(1, "OUT_FOR_DELIVERY".into()));
    assert_eq!(fields[2].1, Value::TimestampMillis(1_709_896_200_789));
    assert_eq!(fields[3].1, Value::Union(1, Box::new(Value::Date(19_790))));

    let body = to_avro_datum(&schema, resolved).unwrap();
    let back = from_avro_datum(&schema, &mut &body[..], Some(&schema)).unwrap();
    assert_eq!(from_value::<Probe>(&back).unwrap(), probe());

    let none = Probe {
        opt: None,
        day: None,
        raw: None,
        vars: BTreeMap::new(),
        ..probe()
    };
    let body = to_avro_datum(&schema, to_value(&none).unwrap().resolve(&schema).unwrap()).unwrap();
    let back = from_avro_datum(&schema, &mut &body[..], Some(&schema)).unwrap();
    assert_eq!(from_value::<Probe>(&back).unwrap(), none);
}

/// Without `serde_avro_bytes_opt`, `Option<Vec<u8>>` serializes as an array of ints
/// (which does not validate as `bytes`) and cannot be deserialized from Avro `bytes`.
#[test]
fn plain_vec_u8_is_not_avro_bytes() {
    let schema = Schema::parse_str(
        r#"{"type": "record", "name": "PlainBytes", "fields": [
            {"name": "raw", "type": ["null", "bytes"], "default": null}]}"#,
    )
    .unwrap();
    let raw = to_value(PlainBytes {
        raw: Some(vec![1, 2]),
    })
    .unwrap();
    assert!(!raw.validate(&schema));
    let decoded = Value::Record(vec![(
        "raw".into(),
        Value::Union(1, Box::new(Value::Bytes(vec![1, 2]))),
    )]);
    assert!(from_value::<PlainBytes>(&decoded).is_err());
}

/// The reason for `wire.rs`: apache-avro decodes a string cut off by the end of the
/// input as `null`, so without a check a truncated record can decode "successfully".
/// If this starts failing, apache-avro fixed it; `wire.rs` stays useful for the
/// allocation bound and the error messages.
#[test]
fn apache_avro_decodes_truncated_strings_as_null() {
    let schema = Schema::parse_str(
        r#"{"type": "record", "name": "T", "fields": [
            {"name": "s", "type": ["null", "string"], "default": null}]}"#,
    )
    .unwrap();
    // Branch 1 (string), length 3, but only one byte of text.
    let value = from_avro_datum(&schema, &mut &[2u8, 6, b'a'][..], None).unwrap();
    assert_eq!(
        value,
        Value::Record(vec![("s".into(), Value::Union(1, Box::new(Value::Null)))])
    );
}
