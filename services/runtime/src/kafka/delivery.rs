//! Delivery reports: a record the broker refused for good is kept to become a dead
//! letter; any other failure ends the next flush with an error.

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::ClientContext;
use std::sync::{Arc, Mutex};
use wismo_engine::record::Outgoing;
use wismo_engine::transport::DeliveryFailure;

#[derive(Default)]
pub(crate) struct DeliveryTracker {
    refused: Mutex<Vec<DeliveryFailure>>,
    failed: Mutex<Option<String>>,
    /// The cluster refused the producer's credentials (see `refusal`).
    refusal: Mutex<Option<String>>,
}

/// Errors no retry can fix: the record itself is the problem.
pub(crate) fn is_permanent(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::InvalidMessage
                | RDKafkaErrorCode::MessageBatchTooLarge
                | RDKafkaErrorCode::InvalidRecord
                | RDKafkaErrorCode::InvalidTimestamp
        )
    )
}

impl DeliveryTracker {
    pub fn refuse(&self, failure: DeliveryFailure) {
        if let Ok(mut r) = self.refused.lock() {
            r.push(failure);
        }
    }

    pub fn fail(&self, error: String) {
        if let Ok(mut f) = self.failed.lock() {
            f.get_or_insert(error);
        }
    }

    /// Why the cluster refused this producer, once it has.
    pub fn refusal(&self) -> Option<String> {
        self.refusal.lock().ok().and_then(|r| r.clone())
    }

    /// What went wrong since the last call.
    pub fn take(&self) -> (Vec<DeliveryFailure>, Option<String>) {
        let refused = self
            .refused
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        let failed = self.failed.lock().ok().and_then(|mut f| f.take());
        (refused, failed)
    }
}

impl ClientContext for DeliveryTracker {
    fn error(&self, error: KafkaError, reason: &str) {
        if let Some(refused) = error
            .rdkafka_error_code()
            .and_then(|code| super::refusal::refusal(code, reason))
        {
            if let Ok(mut r) = self.refusal.lock() {
                r.get_or_insert(refused);
            }
        }
        tracing::error!(%error, reason, "producer error");
    }
}

impl ProducerContext for DeliveryTracker {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let Err((error, message)) = result else {
            return;
        };
        if is_permanent(error) {
            self.refuse(DeliveryFailure {
                record: Outgoing {
                    topic: Arc::from(message.topic()),
                    partition: Some(message.partition()),
                    key: message.key().map(<[u8]>::to_vec),
                    value: message.payload().map(<[u8]>::to_vec),
                    timestamp: message.timestamp().to_millis().unwrap_or(0),
                    source: None,
                    watermark: None,
                },
                error: error.to_string(),
            });
        } else {
            self.fail(format!("delivery to {} failed: {error}", message.topic()));
        }
    }
}
