//! Building records for the dead-letter topic: the reason, where the record came
//! from, and its original bytes, so nothing refused is lost. A dead letter is
//! bounded: a long reason is cut, and of a large record it keeps the first bytes,
//! the whole size and a hash, so the dead letter itself is never too large.

use crate::processor::{InputRecord, OutRecord};
use sha2::{Digest, Sha256};
use wismo_codec::{dead_letter_kind, subjects, Codec, DeadLetter};
use wismo_core::model::{CarrierScan, Origin, Timestamp};
use wismo_core::quote::quote;

/// The longest reason a dead letter carries, in characters.
pub const MAX_REASON_CHARS: usize = wismo_core::quote::MAX_REASON_CHARS;

/// The most of an original key a dead letter keeps: keys are ids.
pub const MAX_ORIGINAL_KEY_BYTES: usize = 4_096;

/// Where dead letters go and which service writes them.
#[derive(Debug, Clone)]
pub struct DeadLetters {
    pub service: String,
    pub topic: String,
    /// How much of the original key and value a letter keeps.
    pub max_original_bytes: usize,
}

/// A reason as a letter carries it: control and bidi characters replaced, length
/// capped (one bound for every reason, whoever wrote it).
pub fn bounded_reason(reason: &str) -> String {
    wismo_core::quote::bounded(reason)
}

/// A consumed record, owned: what a processor keeps of its input to refuse it
/// after decoding, once it has seen the key's state.
#[derive(Debug, Clone)]
pub struct OwnedInput {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
}

impl OwnedInput {
    pub fn of(record: &InputRecord<'_>, value: &[u8]) -> OwnedInput {
        OwnedInput {
            topic: record.topic.to_string(),
            partition: record.partition,
            offset: record.offset,
            key: record.key.map(<[u8]>::to_vec),
            value: value.to_vec(),
        }
    }
}

/// What a dead letter keeps of a record unless configured otherwise.
pub const DEFAULT_MAX_ORIGINAL_BYTES: usize = 65_536;

impl DeadLetters {
    pub fn new(service: &str, topic: &str) -> Self {
        DeadLetters {
            service: service.to_string(),
            topic: topic.to_string(),
            max_original_bytes: DEFAULT_MAX_ORIGINAL_BYTES,
        }
    }

    pub fn keeping(mut self, max_original_bytes: usize) -> Self {
        self.max_original_bytes = max_original_bytes;
        self
    }

    fn cut(bytes: Option<Vec<u8>>, max: usize) -> Option<Vec<u8>> {
        bytes.map(|mut b| {
            b.truncate(max);
            b
        })
    }

    /// A dead-letter record for an input record the service could not use.
    pub fn for_input(
        &self,
        record: &InputRecord<'_>,
        kind: &str,
        reason: &str,
        now: Timestamp,
    ) -> OutRecord {
        self.letter(
            &record.origin(),
            record.key.map(<[u8]>::to_vec),
            record.payload.map(<[u8]>::to_vec),
            kind,
            reason,
            now,
        )
    }

    /// A dead-letter record for a scan a decision sent away (it never matched a
    /// shipment); the scan is re-encoded in its own schema.
    pub fn for_unmatched_scan(
        &self,
        origin: &Origin,
        scan: &CarrierScan,
        reason: &str,
        now: Timestamp,
    ) -> OutRecord {
        crate::metrics::engine()
            .dead_letters
            .with_label_values(&[dead_letter_kind::UNMATCHED])
            .inc();
        tracing::warn!(carrier = %quote(&scan.carrier), %reason, "scan never matched; to dead-letter");
        let value = Codec::default().encode(subjects::CARRIER_SCAN, scan).ok();
        let key = Some(scan.tracking_number.as_bytes().to_vec());
        self.letter(origin, key, value, dead_letter_kind::UNMATCHED, reason, now)
    }

    pub(crate) fn letter(
        &self,
        origin: &Origin,
        original_key: Option<Vec<u8>>,
        original_value: Option<Vec<u8>>,
        kind: &str,
        reason: &str,
        now: Timestamp,
    ) -> OutRecord {
        let too_large = original_value
            .as_ref()
            .filter(|v| v.len() > self.max_original_bytes);
        let original_size = too_large.map(|v| i64::try_from(v.len()).unwrap_or(i64::MAX));
        let original_sha256 = too_large.map(|v| {
            Sha256::digest(v)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        });
        let letter = DeadLetter {
            reason: bounded_reason(reason),
            error_kind: kind.to_string(),
            source_topic: origin.topic.clone(),
            source_partition: origin.partition,
            source_offset: origin.offset,
            original_key: Self::cut(
                original_key,
                self.max_original_bytes.min(MAX_ORIGINAL_KEY_BYTES),
            ),
            original_value: Self::cut(original_value, self.max_original_bytes),
            original_size,
            original_sha256,
            service: self.service.clone(),
            failed_at: now,
        };
        let key = format!("{}/{}/{}", origin.topic, origin.partition, origin.offset);
        let payload = match Codec::default().encode(subjects::DEAD_LETTER, &letter) {
            Ok(bytes) => bytes,
            Err(e) => {
                // Only a bug in the dead-letter schema gets here; still keep the record.
                tracing::error!(error = %e, "dead-letter record does not encode; writing it as JSON");
                serde_json::to_vec(&(&letter.reason, &letter.source_topic, letter.source_offset))
                    .unwrap_or_default()
            }
        };
        OutRecord::new(&self.topic, &key, payload)
    }
}

impl DeadLetters {
    /// A dead letter for a record refused after decoding, as the engine writes one
    /// for a record refused while decoding (counted and logged the same way).
    pub fn refuse(&self, raw: &OwnedInput, kind: &str, reason: &str, now: Timestamp) -> OutRecord {
        crate::metrics::engine()
            .dead_letters
            .with_label_values(&[kind])
            .inc();
        tracing::warn!(topic = %raw.topic, partition = raw.partition, offset = raw.offset, kind, %reason, "record rejected to dead-letter");
        let record = InputRecord {
            topic: &raw.topic,
            partition: raw.partition,
            offset: raw.offset,
            key: raw.key.as_deref(),
            payload: Some(&raw.value),
        };
        self.for_input(&record, kind, reason, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            topic: "carrier-scans".into(),
            partition: 3,
            offset: 42,
        }
    }

    fn decode(record: &OutRecord) -> DeadLetter {
        Codec::default()
            .decode(subjects::DEAD_LETTER, &record.payload)
            .expect("a dead letter decodes")
    }

    #[test]
    fn a_large_record_is_kept_as_its_first_bytes_its_size_and_its_hash() {
        let letters = DeadLetters::new("scan-matcher", "dead").keeping(16);
        let value = vec![7u8; 100];
        let key = vec![1u8; 40];
        let record = letters.letter(
            &origin(),
            Some(key),
            Some(value.clone()),
            "decode",
            "too large",
            chrono::DateTime::UNIX_EPOCH,
        );
        let letter = decode(&record);
        assert_eq!(letter.original_value, Some(vec![7u8; 16]));
        assert_eq!(letter.original_key, Some(vec![1u8; 16]));
        assert_eq!(letter.original_size, Some(100));
        let hex: String = Sha256::digest(&value)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(letter.original_sha256, Some(hex));
    }

    #[test]
    fn a_small_record_is_kept_whole_and_a_long_reason_is_cut() {
        let letters = DeadLetters::new("scan-matcher", "dead").keeping(16);
        let reason = format!("bad\n{}", "x".repeat(5_000));
        let record = letters.letter(
            &origin(),
            None,
            Some(b"tiny".to_vec()),
            "decode",
            &reason,
            chrono::DateTime::UNIX_EPOCH,
        );
        let letter = decode(&record);
        assert_eq!(letter.original_value.as_deref(), Some(&b"tiny"[..]));
        assert_eq!((letter.original_size, letter.original_sha256), (None, None));
        assert_eq!(letter.reason.chars().count(), MAX_REASON_CHARS + 1);
        // Text that reorders what follows it cannot hide in a reason either.
        assert!(!bounded_reason("a\u{202e}b").contains('\u{202e}'));
        assert!(
            letter.reason.starts_with("bad x"),
            "{}",
            &letter.reason[..10]
        );
    }
}
