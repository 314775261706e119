//! Outputs of decisions: stamped, named by their task on internal topics, and
//! sent; one the broker would refuse goes to dead-letter instead.

use super::process::at;
use super::{Engine, EngineError};
use crate::metrics::engine as metrics;
use crate::processor::{OutRecord, Processor};
use crate::record::Outgoing;
use crate::task::Task;
use crate::transport::Transport;
use std::sync::Arc;
use wismo_codec::dead_letter_kind;
use wismo_core::model::Origin;

/// Room kept under the output limit for the record's headers and framing.
const HEADER_ALLOWANCE: usize = 256;

/// Names an output by its content, to know it again when it is decided again.
pub(super) fn content_fingerprint(key: &[u8], value: &[u8]) -> u64 {
    let mut bytes = Vec::with_capacity(key.len() + value.len() + 1);
    bytes.extend_from_slice(key);
    bytes.push(0);
    bytes.extend_from_slice(value);
    crate::store::fingerprint(&bytes)
}

impl<P: Processor, T: Transport> Engine<P, T> {
    /// Stamps an output and sends it. Records for internal topics name their task.
    /// One the broker would refuse (too large, or refused before in a transaction)
    /// goes to dead-letter instead: the same way live and in replay.
    pub(super) fn emit(
        &mut self,
        task: &mut Task<P::State>,
        record: OutRecord,
        decided_at: i64,
    ) -> Result<(), EngineError> {
        let record = match self.refusal(&record) {
            Some(reason) => {
                let letter = self.unproducible(record, &reason, decided_at);
                if self.refusal(&letter).is_some() {
                    // Only a broker limit below wismo's own gets here.
                    metrics().dead_letters.with_label_values(&["lost"]).inc();
                    tracing::error!(topic = %letter.topic, "the dead letter of an unproducible output is refused too; counted as lost");
                    return Ok(());
                }
                letter
            }
            None => record,
        };
        let not_before = record.not_before.map_or(i64::MIN, |t| t.timestamp_millis());
        let stamp = task.stamp(decided_at.max(not_before));
        if let Some(t) = record.detectable_at {
            self.detectable.push(t.timestamp_millis());
        }
        let internal = self.groups[task.id.group].writes.contains(&record.topic);
        let outgoing = Outgoing {
            topic: Arc::from(record.topic.as_str()),
            partition: None,
            key: Some(record.key.into_bytes()),
            value: Some(record.payload),
            timestamp: stamp,
            source: internal.then_some(task.source),
            watermark: None,
        };
        self.send(outgoing)
    }

    /// Why the broker would refuse this output, if it would.
    fn refusal(&self, record: &OutRecord) -> Option<String> {
        let size = record.key.len() + record.payload.len() + HEADER_ALLOWANCE;
        if size > self.config.max_output_bytes {
            return Some(format!(
                "an output for {} of {size} bytes is over the limit of {} bytes",
                record.topic, self.config.max_output_bytes
            ));
        }
        if !self.refused_outputs.is_empty()
            && self.refused_outputs.contains(&(
                Arc::from(record.topic.as_str()),
                content_fingerprint(record.key.as_bytes(), &record.payload),
            ))
        {
            return Some(format!(
                "the broker refused this output for {}",
                record.topic
            ));
        }
        None
    }

    fn unproducible(&self, record: OutRecord, reason: &str, decided_at: i64) -> OutRecord {
        metrics()
            .dead_letters
            .with_label_values(&[dead_letter_kind::UNDELIVERABLE])
            .inc();
        tracing::warn!(topic = %record.topic, bytes = record.payload.len(), "output cannot be produced; to dead-letter");
        let origin = self.deciding.clone().unwrap_or_else(|| Origin {
            topic: record.topic.clone(),
            partition: -1,
            offset: -1,
        });
        self.dead_letters.letter(
            &origin,
            Some(record.key.into_bytes()),
            Some(record.payload),
            dead_letter_kind::UNDELIVERABLE,
            reason,
            at(decided_at),
        )
    }

    pub(super) fn send(&mut self, outgoing: Outgoing) -> Result<(), EngineError> {
        if self.transactional() && !self.transaction_open {
            self.transport.begin_transaction()?;
            self.transaction_open = true;
        }
        self.produced.inc(&metrics().produced, &outgoing.topic);
        self.transport.send(outgoing)?;
        Ok(())
    }
}
