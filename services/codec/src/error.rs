//! One error type for everything that can go wrong between bytes and model structs.
//!
//! Messages name the subject and schema id involved because they end up in dead-letter
//! records and logs, where they are read by people, not code.

/// Why a record could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error(
        "record is {len} bytes long; a Confluent-framed record needs at least 5 \
         (magic byte 0 + 4-byte schema id) before the Avro body"
    )]
    TooShort { len: usize },

    #[error("bad magic byte 0x{found:02x}; Confluent-framed records start with 0x00")]
    BadMagic { found: u8 },

    #[error("unknown schema id {id}: no schema with that id is registered")]
    UnknownSchemaId { id: u32 },

    #[error("unknown subject `{subject}`: no schema is registered under that name")]
    UnknownSubject { subject: String },

    #[error(
        "schema id {id} belongs to another subject: it describes record `{writer_record}`, \
         but subject `{subject}` expects `{reader_record}`"
    )]
    WrongSubject {
        subject: String,
        id: u32,
        writer_record: String,
        reader_record: String,
    },

    #[error("record with schema id {id} is not valid Avro for subject `{subject}`: {reason}")]
    Malformed {
        subject: String,
        id: u32,
        reason: String,
    },

    #[error("subject `{subject}`: {action} failed: {message}")]
    Avro {
        subject: String,
        action: String,
        message: String,
    },

    #[error("subject `{subject}`: JSON record is invalid: {message}")]
    Json { subject: String, message: String },

    #[error("schema `{name}` does not parse: {message}")]
    Schema { name: String, message: String },
}

impl CodecError {
    pub(crate) fn avro(subject: &str, action: impl Into<String>, err: impl ToString) -> Self {
        CodecError::Avro {
            subject: subject.to_owned(),
            action: action.into(),
            message: err.to_string(),
        }
    }

    pub(crate) fn json(subject: &str, message: impl Into<String>) -> Self {
        CodecError::Json {
            subject: subject.to_owned(),
            message: message.into(),
        }
    }
}
