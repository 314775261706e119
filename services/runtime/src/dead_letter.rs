//! Building records for the dead-letter topic: the reason, where the record came
//! from, and its original bytes, so nothing refused is lost.

use crate::config::RuntimeConfig;
use crate::processor::{InputRecord, OutRecord};
use wismo_codec::{subjects, Codec, DeadLetter};
use wismo_core::model::{Origin, Timestamp};

/// A dead-letter record for an input record the service could not use.
pub fn for_input(
    config: &RuntimeConfig,
    record: &InputRecord<'_>,
    kind: &str,
    reason: &str,
    now: Timestamp,
) -> OutRecord {
    let letter = DeadLetter {
        reason: reason.to_string(),
        error_kind: kind.to_string(),
        source_topic: record.topic.to_string(),
        source_partition: record.partition,
        source_offset: record.offset,
        original_key: record.key.map(<[u8]>::to_vec),
        original_value: record.payload.map(<[u8]>::to_vec),
        service: config.service.clone(),
        failed_at: now,
    };
    let key = format!("{}/{}/{}", record.topic, record.partition, record.offset);
    encode(config, key, &letter)
}

/// A dead-letter record for something a decision sent away (e.g. a scan that never
/// matched a shipment); `value` is the record re-encoded in its own schema.
pub fn for_decision(
    config: &RuntimeConfig,
    origin: &Origin,
    key: Option<&str>,
    value: Vec<u8>,
    kind: &str,
    reason: &str,
    now: Timestamp,
) -> OutRecord {
    let letter = DeadLetter {
        reason: reason.to_string(),
        error_kind: kind.to_string(),
        source_topic: origin.topic.clone(),
        source_partition: origin.partition,
        source_offset: origin.offset,
        original_key: key.map(|k| k.as_bytes().to_vec()),
        original_value: Some(value),
        service: config.service.clone(),
        failed_at: now,
    };
    let key = format!("{}/{}/{}", origin.topic, origin.partition, origin.offset);
    encode(config, key, &letter)
}

fn encode(config: &RuntimeConfig, key: String, letter: &DeadLetter) -> OutRecord {
    let payload = match Codec::default().encode(subjects::DEAD_LETTER, letter) {
        Ok(bytes) => bytes,
        Err(e) => {
            // Only a bug in the dead-letter schema gets here; still keep the record.
            tracing::error!(error = %e, "dead-letter record does not encode; writing it as JSON");
            serde_json::to_vec(&(&letter.reason, &letter.source_topic, letter.source_offset))
                .unwrap_or_default()
        }
    };
    OutRecord {
        topic: config.dead_letter_topic.clone(),
        key,
        payload,
    }
}
