//! Conventions the `.avsc` files must follow.

use crate::fixtures::schemas_dir;
use serde_json::Value;
use std::fs;
use wismo_codec::{subjects, SchemaCatalog};

fn all_avsc_files() -> Vec<(String, Value)> {
    let mut files = Vec::new();
    let mut dirs = vec![schemas_dir()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "avsc") {
                let json = serde_json::from_str(&fs::read_to_string(&path).unwrap())
                    .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
                files.push((path.display().to_string(), json));
            }
        }
    }
    assert!(files.len() >= subjects::ALL.len());
    files
}

/// Every record, enum and field says what it is for: the schemas are the contract
/// other teams read.
#[test]
fn every_record_enum_and_field_has_a_doc() {
    for (path, json) in all_avsc_files() {
        let mut missing = Vec::new();
        check_docs(&json, &mut missing);
        assert!(missing.is_empty(), "{path}: no `doc` on {missing:?}");
    }
}

fn check_docs(json: &Value, missing: &mut Vec<String>) {
    match json {
        Value::Object(o) => {
            let kind = o.get("type").and_then(Value::as_str);
            if matches!(kind, Some("record" | "enum" | "fixed")) {
                let name = o["name"].as_str().unwrap_or("?");
                if !has_doc(json) {
                    missing.push(format!("{kind:?} {name}", kind = kind.unwrap()));
                }
                for field in o
                    .get("fields")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let path = format!("{name}.{}", field["name"].as_str().unwrap_or("?"));
                    if !has_doc(field) {
                        missing.push(format!("field {path}"));
                    }
                    check_docs(&field["type"], missing);
                }
            } else {
                for v in o.values() {
                    check_docs(v, missing);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| check_docs(v, missing)),
        _ => {}
    }
}

fn has_doc(json: &Value) -> bool {
    json.get("doc")
        .and_then(Value::as_str)
        .is_some_and(|d| !d.trim().is_empty())
}

#[test]
fn top_level_records_are_in_the_io_wismo_namespace() {
    for (path, json) in all_avsc_files() {
        assert_eq!(json["type"], "record", "{path}");
        assert_eq!(json["namespace"], "io.wismo", "{path}");
    }
}

/// Optional fields are `["null", T]` with `"default": null`, so adding one is a
/// compatible change and readers of older data get `None`. A union without
/// `null` is a choice of records (a Rust enum, one branch per variant).
#[test]
fn unions_put_null_first_and_default_to_null() {
    for (path, json) in all_avsc_files() {
        let mut bad = Vec::new();
        check_unions(&json, &mut bad);
        assert!(bad.is_empty(), "{path}: {bad:?}");
    }
}

fn check_unions(json: &Value, bad: &mut Vec<String>) {
    match json {
        Value::Object(o) => {
            for field in o
                .get("fields")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(branches) = field["type"].as_array() {
                    let name = field["name"].as_str().unwrap_or("?").to_owned();
                    let choice = !branches.iter().any(|b| b == "null")
                        && branches.iter().all(|b| b["type"] == "record");
                    if choice {
                        continue;
                    }
                    if branches.len() != 2 || branches[0] != "null" {
                        bad.push(format!("{name}: union is not [\"null\", T]"));
                    }
                    if field.get("default") != Some(&Value::Null) {
                        bad.push(format!("{name}: optional field without \"default\": null"));
                    }
                }
            }
            o.values().for_each(|v| check_unions(v, bad));
        }
        Value::Array(items) => items.iter().for_each(|v| check_unions(v, bad)),
        _ => {}
    }
}

#[test]
fn every_current_schema_file_is_a_subject() {
    for entry in fs::read_dir(schemas_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "avsc") {
            let stem = path.file_stem().unwrap().to_str().unwrap();
            assert!(
                subjects::ALL.contains(&stem),
                "{} has no subject in wismo_codec::subjects",
                path.display()
            );
        }
    }
}

#[test]
fn embedded_schemas_parse() {
    let catalog = SchemaCatalog::load().unwrap();
    for subject in subjects::ALL {
        assert!(catalog.current(subject).is_some(), "{subject}");
    }
}
