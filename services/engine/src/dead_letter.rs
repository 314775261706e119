//! Building records for the dead-letter topic: the reason, where the record came
//! from, and its original bytes, so nothing refused is lost.

use crate::processor::{InputRecord, OutRecord};
use wismo_codec::{dead_letter_kind, subjects, Codec, DeadLetter};
use wismo_core::model::{CarrierScan, Origin, Timestamp};

/// Where dead letters go and which service writes them.
#[derive(Debug, Clone)]
pub struct DeadLetters {
    pub service: String,
    pub topic: String,
}

impl DeadLetters {
    pub fn new(service: &str, topic: &str) -> Self {
        DeadLetters {
            service: service.to_string(),
            topic: topic.to_string(),
        }
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
        tracing::warn!(carrier = %scan.carrier, %reason, "scan never matched; to dead-letter");
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
        let letter = DeadLetter {
            reason: reason.to_string(),
            error_kind: kind.to_string(),
            source_topic: origin.topic.clone(),
            source_partition: origin.partition,
            source_offset: origin.offset,
            original_key,
            original_value,
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
