//! wismo wire format.
//!
//! The Avro schemas in `schemas/` are the contract with the shop, the carriers and the
//! messaging service; this crate embeds them, frames records the Confluent way
//! (magic byte, schema id, Avro body) and maps them to the serde structs of
//! `wismo_core::model`, resolving older schema versions to the current one.
//!
//! ```
//! use wismo_codec::{subjects, Codec};
//! use wismo_core::model::ScanLocation;
//! # use wismo_codec::CodecError;
//! let codec = Codec::default();
//! let err = codec.decode::<ScanLocation>(subjects::CARRIER_SCAN, &[1, 2]).unwrap_err();
//! assert_eq!(err, CodecError::TooShort { len: 2 });
//! ```

mod catalog;
mod dead_letter;
mod error;
mod fast;
mod framing;
mod json;
mod plan;
pub mod subjects;
mod wire;

pub use catalog::{history_id, SchemaCatalog, SchemaEntry, SchemaRegistry};
pub use dead_letter::{kind as dead_letter_kind, DeadLetter};
pub use error::CodecError;
pub use framing::{frame, unframe, Codec, HEADER_LEN, MAGIC_BYTE};
pub use plan::DecodePlan;
pub use wire::{DATE_DAYS_RANGE, MAX_RECORD_ITEMS, TIMESTAMP_MILLIS_RANGE};

/// The Avro library this crate is built on, for callers that need its types.
pub use apache_avro;
