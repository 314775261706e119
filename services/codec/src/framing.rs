//! Confluent wire format: magic byte `0`, 4-byte big-endian schema id, Avro binary body.
//!
//! Decoding reads the writer schema by the framed id and resolves it to the current
//! schema of the subject, so records written with an older schema version still decode.

use crate::catalog::{SchemaCatalog, SchemaRegistry};
use crate::error::CodecError;
use crate::plan::{record_name, DecodePlan};
use crate::{fast, wire};
use apache_avro::types::Value;
use apache_avro::Schema;
use serde::{de::DeserializeOwned, Serialize};
use std::collections::HashMap;

/// The first byte of every Confluent-framed record.
pub const MAGIC_BYTE: u8 = 0;
/// Magic byte plus schema id.
pub const HEADER_LEN: usize = 5;

/// Prefixes an Avro body with the Confluent header for schema `id`.
pub fn frame(id: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.push(MAGIC_BYTE);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Splits a Confluent-framed record into its schema id and Avro body.
pub fn unframe(bytes: &[u8]) -> Result<(u32, &[u8]), CodecError> {
    let Some((header, body)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(CodecError::TooShort { len: bytes.len() });
    };
    let [magic, id @ ..] = *header;
    if magic != MAGIC_BYTE {
        return Err(CodecError::BadMagic { found: magic });
    }
    Ok((u32::from_be_bytes(id), body))
}

/// Encodes and decodes wismo records: serde structs ⇄ Confluent-framed Avro.
#[derive(Debug, Clone)]
pub struct Codec<R = &'static SchemaCatalog> {
    registry: R,
}

impl Default for Codec {
    /// A codec over the schemas embedded in this crate.
    fn default() -> Self {
        Codec::new(SchemaCatalog::builtin())
    }
}

impl<R: SchemaRegistry> Codec<R> {
    pub fn new(registry: R) -> Self {
        Codec { registry }
    }

    pub fn registry(&self) -> &R {
        &self.registry
    }

    /// Encodes `value` with the current schema of `subject`, framed with its id.
    /// Serde writes straight into Avro binary (no value tree), so a map's entries
    /// come out in the order the value holds them: the same bytes every time.
    /// The direct encoder ([`crate::fast`]'s `encode`) writes it; what it refuses
    /// goes through apache-avro's serializer, which words the error.
    pub fn encode<T: Serialize>(&self, subject: &str, value: &T) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(1024);
        self.encode_into(subject, value, &mut out)?;
        Ok(out)
    }

    /// [`Codec::encode`], appended to what `out` holds (a changelog entry's
    /// position, say), so the record is built in one buffer.
    pub fn encode_into<T: Serialize>(
        &self,
        subject: &str,
        value: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        let id = self.current_id(subject)?;
        let start = out.len();
        out.push(MAGIC_BYTE);
        out.extend_from_slice(&id.to_be_bytes());
        if let Some(schema) = self.registry.plan(id).and_then(|p| p.inlined.as_ref()) {
            if fast::encode::write(schema, value, out).is_ok() {
                return Ok(());
            }
            out.truncate(start + HEADER_LEN);
        }
        self.encode_with_apache_avro(subject, id, value, out)
    }

    /// [`Codec::encode`] by apache-avro's serializer only, as every record was
    /// encoded before the direct path: for benchmarks and for tests that compare
    /// the two.
    #[doc(hidden)]
    pub fn encode_general<T: Serialize>(
        &self,
        subject: &str,
        value: &T,
    ) -> Result<Vec<u8>, CodecError> {
        let id = self.current_id(subject)?;
        let mut out = frame(id, &[]);
        self.encode_with_apache_avro(subject, id, value, &mut out)?;
        Ok(out)
    }

    /// Appends `value` to `out` (its header written) by apache-avro's serializer,
    /// which looks no names up: a schema that uses a named type twice is written
    /// with its references inlined.
    fn encode_with_apache_avro<T: Serialize>(
        &self,
        subject: &str,
        id: u32,
        value: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        let schema = match self.registry.plan(id).and_then(|p| p.inlined.as_ref()) {
            Some(inlined) => inlined,
            None => self.schema(id)?,
        };
        apache_avro::write_avro_datum_ref(schema, value, out)
            .map(|_| ())
            .map_err(|e| CodecError::avro(subject, "encoding", e))
    }

    /// Decodes a framed record of `subject`, resolving whichever schema version wrote
    /// it to the current one. Never panics, whatever the bytes.
    ///
    /// What each schema needs is prepared once ([`DecodePlan`]). A record written
    /// with the current schema is decoded straight into `T`, in one pass that also
    /// makes the structural checks. One written with an older version, or one the
    /// direct way refuses, is checked structurally and goes through apache-avro's
    /// schema resolution, which words every error.
    pub fn decode<T: DeserializeOwned>(
        &self,
        subject: &str,
        bytes: &[u8],
    ) -> Result<T, CodecError> {
        let (writer_id, body) = unframe(bytes)?;
        let writer = self.schema(writer_id)?;
        let reader_id = self.current_id(subject)?;
        let reader = self.schema(reader_id)?;
        let (built_writer, built_reader);
        let writer_plan = match self.registry.plan(writer_id) {
            Some(plan) => plan,
            None => {
                built_writer = DecodePlan::new(writer);
                &built_writer
            }
        };
        let reader_plan = match self.registry.plan(reader_id) {
            Some(plan) => plan,
            None if reader_id == writer_id => writer_plan,
            None => {
                built_reader = DecodePlan::new(reader);
                &built_reader
            }
        };
        if writer_plan.record != reader_plan.record {
            return Err(CodecError::WrongSubject {
                subject: subject.to_owned(),
                id: writer_id,
                writer_record: writer_plan.record.clone(),
                reader_record: reader_plan.record.clone(),
            });
        }
        let malformed = |reason| CodecError::Malformed {
            subject: subject.to_owned(),
            id: writer_id,
            reason,
        };
        match &writer_plan.inlined {
            Some(inlined) => {
                if reader_id == writer_id || writer_plan.same_as(reader_plan) {
                    // Refuses whatever the check refuses: on failure, the check
                    // and the general way say why.
                    if let Ok(value) = fast::from_slice(inlined, body) {
                        return Ok(value);
                    }
                }
                wire::check_with(inlined, &HashMap::new(), body).map_err(malformed)?;
            }
            None => wire::check(writer, body).map_err(malformed)?,
        }
        self.decode_resolving(subject, writer_id, writer, reader, body)
    }

    /// The general way: apache-avro decodes `body` with the writer schema into a
    /// value tree, resolves it to the reader schema and converts it to `T`.
    fn decode_resolving<T: DeserializeOwned>(
        &self,
        subject: &str,
        writer_id: u32,
        writer: &Schema,
        reader: &Schema,
        body: &[u8],
    ) -> Result<T, CodecError> {
        let value =
            apache_avro::from_avro_datum(writer, &mut &body[..], Some(reader)).map_err(|e| {
                CodecError::avro(
                    subject,
                    format!("resolving schema id {writer_id} to the current schema"),
                    e,
                )
            })?;
        apache_avro::from_value(&value)
            .map_err(|e| CodecError::avro(subject, "converting to the Rust type", e))
    }

    /// [`Codec::decode`] the general way only, as every record was decoded before
    /// the direct path: for benchmarks and for tests that compare the two.
    #[doc(hidden)]
    pub fn decode_general<T: DeserializeOwned>(
        &self,
        subject: &str,
        bytes: &[u8],
    ) -> Result<T, CodecError> {
        let (writer_id, body) = unframe(bytes)?;
        let writer = self.schema(writer_id)?;
        let reader = self.current_schema(subject)?;
        let (writer_record, reader_record) = (record_name(writer), record_name(reader));
        if writer_record != reader_record {
            return Err(CodecError::WrongSubject {
                subject: subject.to_owned(),
                id: writer_id,
                writer_record,
                reader_record,
            });
        }
        wire::check(writer, body).map_err(|reason| CodecError::Malformed {
            subject: subject.to_owned(),
            id: writer_id,
            reason,
        })?;
        self.decode_resolving(subject, writer_id, writer, reader, body)
    }

    fn current_id(&self, subject: &str) -> Result<u32, CodecError> {
        self.registry
            .id_of(subject)
            .ok_or_else(|| CodecError::UnknownSubject {
                subject: subject.to_owned(),
            })
    }

    fn schema(&self, id: u32) -> Result<&Schema, CodecError> {
        self.registry
            .schema_by_id(id)
            .ok_or(CodecError::UnknownSchemaId { id })
    }

    pub(crate) fn current_schema(&self, subject: &str) -> Result<&Schema, CodecError> {
        self.schema(self.current_id(subject)?)
    }

    /// Serializes `value` to an Avro value shaped by `schema` (logical types, enum
    /// indexes, union branches). Resolution rather than `Value::validate`, because
    /// resolution says what is wrong and validation only says that something is.
    pub(crate) fn to_avro_value<T: Serialize>(
        &self,
        subject: &str,
        schema: &Schema,
        value: &T,
    ) -> Result<Value, CodecError> {
        let raw = apache_avro::to_value(value)
            .map_err(|e| CodecError::avro(subject, "serializing to an Avro value", e))?;
        raw.resolve(schema)
            .map_err(|e| CodecError::avro(subject, "checking against the schema", e))
    }
}
