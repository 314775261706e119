//! The "natural JSON" form of records, for the replay CLI and for printing: the schema's
//! field names, unions as the bare value or `null`, enums as their symbol, timestamps as
//! epoch milliseconds, dates as days since the epoch, bytes as arrays of numbers.
//!
//! Reading is checked against the schema before serde sees the value, because serde
//! alone ignores misspelled fields and reports type errors without saying where.

use crate::catalog::SchemaRegistry;
use crate::error::CodecError;
use crate::framing::Codec;
use crate::wire::{DATE_DAYS_RANGE, TIMESTAMP_MILLIS_RANGE};
use apache_avro::schema::{
    ArraySchema, EnumSchema, MapSchema, NamesRef, Namespace, RecordSchema, ResolvedSchema,
};
use apache_avro::Schema;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value as Json};

impl<R: SchemaRegistry> Codec<R> {
    /// Reads the natural JSON form of a `subject` record.
    ///
    /// Unknown fields are refused, fields the schema gives a default (every optional
    /// field) may be left out, and the result is checked against the Avro schema, so
    /// anything accepted here also encodes.
    pub fn decode_json<T: DeserializeOwned + Serialize>(
        &self,
        subject: &str,
        json: &Json,
    ) -> Result<T, CodecError> {
        let schema = self.current_schema(subject)?;
        let normalized = normalize(schema, json).map_err(|m| CodecError::json(subject, m))?;
        let value: T = serde_json::from_value(normalized)
            .map_err(|e| CodecError::json(subject, e.to_string()))?;
        self.to_avro_value(subject, schema, &value)?;
        Ok(value)
    }

    /// Writes `value` in the natural JSON form, after checking it fits the current
    /// schema of `subject` (so the output is something [`Codec::decode_json`] accepts).
    pub fn encode_json<T: Serialize>(&self, subject: &str, value: &T) -> Result<Json, CodecError> {
        let schema = self.current_schema(subject)?;
        self.to_avro_value(subject, schema, value)?;
        serde_json::to_value(value).map_err(|e| CodecError::json(subject, e.to_string()))
    }
}

/// Checks `json` against `schema` and fills in defaults for missing fields.
fn normalize(schema: &Schema, json: &Json) -> Result<Json, String> {
    let resolved = ResolvedSchema::try_from(schema).map_err(|e| e.to_string())?;
    let mut walker = Normalizer {
        names: resolved.get_names(),
        path: Vec::new(),
    };
    walker.value(schema, &None, json)
}

struct Normalizer<'a, 's> {
    names: &'a NamesRef<'s>,
    path: Vec<String>,
}

impl Normalizer<'_, '_> {
    fn fail<T>(&self, what: impl std::fmt::Display) -> Result<T, String> {
        if self.path.is_empty() {
            Err(what.to_string())
        } else {
            Err(format!(
                "at `{}`: {what}",
                self.path.join(".").replace(".[", "[")
            ))
        }
    }

    fn expect(&self, ok: bool, expected: &str, json: &Json) -> Result<Json, String> {
        if ok {
            Ok(json.clone())
        } else {
            self.fail(format_args!("expected {expected}, got {}", short(json)))
        }
    }

    fn value(&mut self, schema: &Schema, ns: &Namespace, json: &Json) -> Result<Json, String> {
        match schema {
            Schema::Null => self.expect(json.is_null(), "null", json),
            Schema::Boolean => self.expect(json.is_boolean(), "a boolean", json),
            Schema::Int | Schema::TimeMillis => self.expect(
                json.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
                "a whole number that fits 32 bits",
                json,
            ),
            Schema::Date => match json.as_i64().and_then(|n| i32::try_from(n).ok()) {
                Some(days) if !DATE_DAYS_RANGE.contains(&days) => self.fail(format_args!(
                    "date {days} (days since 1970-01-01) is outside years 0000 to 9999"
                )),
                days => self.expect(
                    days.is_some(),
                    "a date as whole days since 1970-01-01",
                    json,
                ),
            },
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => {
                self.expect(json.is_i64(), "a whole number that fits 64 bits", json)
            }
            Schema::TimestampMillis => match json.as_i64() {
                Some(ms) if !TIMESTAMP_MILLIS_RANGE.contains(&ms) => self.fail(format_args!(
                    "timestamp {ms} (ms since 1970-01-01) is outside years 0000 to 9999"
                )),
                ms => self.expect(
                    ms.is_some(),
                    "a timestamp as whole milliseconds since the Unix epoch",
                    json,
                ),
            },
            Schema::Float | Schema::Double => self.expect(json.is_number(), "a number", json),
            Schema::String | Schema::Uuid => self.expect(json.is_string(), "a string", json),
            Schema::Enum(EnumSchema { name, symbols, .. }) => {
                let ok = json
                    .as_str()
                    .is_some_and(|s| symbols.iter().any(|x| x == s));
                let expected = format!("one of the `{}` symbols {symbols:?}", name.name);
                self.expect(ok, &expected, json)
            }
            Schema::Union(union) => {
                if json.is_null() {
                    return match union.variants().iter().any(|v| matches!(v, Schema::Null)) {
                        true => Ok(Json::Null),
                        false => self.fail("null is not allowed here"),
                    };
                }
                let depth = self.path.len();
                let mut first_error = None;
                for variant in union
                    .variants()
                    .iter()
                    .filter(|v| !matches!(v, Schema::Null))
                {
                    match self.value(variant, ns, json) {
                        Ok(v) => return Ok(v),
                        Err(e) => first_error = first_error.or(Some(e)),
                    }
                    self.path.truncate(depth);
                }
                Err(first_error.unwrap_or_else(|| "union has no non-null branch".to_owned()))
            }
            Schema::Array(ArraySchema { items, .. }) => {
                let Some(elements) = json.as_array() else {
                    return self.fail(format_args!("expected an array, got {}", short(json)));
                };
                let mut out = Vec::with_capacity(elements.len());
                for (i, element) in elements.iter().enumerate() {
                    self.path.push(format!("[{i}]"));
                    out.push(self.value(items, ns, element)?);
                    self.path.pop();
                }
                Ok(Json::Array(out))
            }
            Schema::Map(MapSchema { types, .. }) => {
                let Some(entries) = json.as_object() else {
                    return self.fail(format_args!("expected an object, got {}", short(json)));
                };
                let mut out = Map::new();
                for (key, v) in entries {
                    self.path.push(key.clone());
                    out.insert(key.clone(), self.value(types, ns, v)?);
                    self.path.pop();
                }
                Ok(Json::Object(out))
            }
            Schema::Record(record) => self.record(record, ns, json),
            Schema::Ref { name } => {
                let full = name.fully_qualified_name(ns);
                match self.names.get(&full) {
                    Some(&schema) => self.value(schema, &full.namespace, json),
                    None => self.fail(format_args!("unknown type `{}`", full.fullname(None))),
                }
            }
            // Bytes, fixed, decimals, durations: left to serde, whose forms for them vary.
            _ => Ok(json.clone()),
        }
    }

    fn record(
        &mut self,
        record: &RecordSchema,
        ns: &Namespace,
        json: &Json,
    ) -> Result<Json, String> {
        let Some(object) = json.as_object() else {
            return self.fail(format_args!(
                "expected an object for record `{}`, got {}",
                record.name.name,
                short(json)
            ));
        };
        if let Some(unknown) = object.keys().find(|k| !record.lookup.contains_key(*k)) {
            let known: Vec<&str> = record.fields.iter().map(|f| f.name.as_str()).collect();
            return self.fail(format_args!(
                "unknown field `{unknown}`; record `{}` has fields {known:?}",
                record.name.name
            ));
        }
        let inner_ns = record.name.fully_qualified_name(ns).namespace;
        let mut out = Map::new();
        for field in &record.fields {
            self.path.push(field.name.clone());
            let value = match (object.get(&field.name), &field.default) {
                (Some(v), _) => self.value(&field.schema, &inner_ns, v)?,
                (None, Some(default)) => default.clone(),
                (None, None) => return self.fail("missing field, and it has no default"),
            };
            self.path.pop();
            out.insert(field.name.clone(), value);
        }
        Ok(Json::Object(out))
    }
}

/// A JSON value cut short for an error message.
fn short(json: &Json) -> String {
    let text = json.to_string();
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}
