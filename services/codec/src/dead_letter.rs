//! The dead-letter record. It lives here rather than in `wismo-core` because it is
//! about the wire (raw bytes, topics, offsets), not about orders.

use serde::{Deserialize, Serialize};
use wismo_core::model::{serde_time, Timestamp};

/// Values for [`DeadLetter::error_kind`]. A string on the wire so new kinds need no
/// schema change; these are the ones wismo writes today.
pub mod kind {
    /// The bytes could not be decoded (framing, schema id, Avro body).
    pub const DECODE: &str = "decode";
    /// The record decoded but failed the model's own validation.
    pub const INVALID: &str = "invalid";
    /// A scan whose tracking number matches no known shipment.
    pub const UNMATCHED: &str = "unmatched";
    /// Deciding the record (or a timer) failed, more than once.
    pub const PROCESSING: &str = "processing";
    /// An output the broker refused for good (too large, invalid).
    pub const UNDELIVERABLE: &str = "undeliverable";
}

/// An input record a service could not use (`schemas/dead_letter.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Human-readable explanation, e.g. a [`crate::CodecError`] message.
    pub reason: String,
    /// One of [`kind`], or a newer kind.
    pub error_kind: String,
    pub source_topic: String,
    pub source_partition: i32,
    pub source_offset: i64,
    /// The key exactly as consumed. `serde_avro_bytes_opt` is required: a plain
    /// `Option<Vec<u8>>` serializes as an array of ints and does not fit Avro `bytes`.
    #[serde(with = "apache_avro::serde_avro_bytes_opt")]
    pub original_key: Option<Vec<u8>>,
    /// The value exactly as consumed; `None` for a tombstone.
    #[serde(with = "apache_avro::serde_avro_bytes_opt")]
    pub original_value: Option<Vec<u8>>,
    /// Set when the value was cut to what a dead letter keeps: its whole size.
    #[serde(default)]
    pub original_size: Option<i64>,
    /// Set with `original_size`: SHA-256 of the whole value, lowercase hex.
    #[serde(default)]
    pub original_sha256: Option<String>,
    /// The service that refused the record, e.g. `scan-matcher`.
    pub service: String,
    #[serde(with = "serde_time::millis")]
    pub failed_at: Timestamp,
}
