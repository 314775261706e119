//! The producer, and a new one in its place when it fails for good.
//!
//! librdkafka makes some producer errors fatal (fenced by a newer epoch, an
//! invalid transactional state, an idempotence sequence it cannot repair): the
//! client refuses every call after them. Kafka Streams then closes its tasks dirty
//! and creates a new producer with the same transactional id; so does wismo.

use super::bounded;
use super::delivery::DeliveryTracker;
use super::refusal;
use super::retry::{riding_out, until_done};
use crate::config::RuntimeConfig;
use anyhow::Context;
use rdkafka::consumer::Consumer as _;
use rdkafka::error::KafkaError;
use rdkafka::producer::{Producer as _, ThreadedProducer};
use std::sync::Arc;
use std::time::Duration;
use wismo_engine::transport::{OffsetCommit, TransportError};
use wismo_engine::DeliveryMode;

pub(crate) type Producer = ThreadedProducer<DeliveryTracker>;

/// How long one `init_transactions` may take before it is made again.
const INIT_TIMEOUT: Duration = Duration::from_secs(30);
/// The timeout given to `send_offsets_to_transaction`, made again while the
/// broker is away.
const SEND_OFFSETS_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a `send_offsets_to_transaction` may run, past its own timeout,
/// before the producer counts as stuck and is replaced.
const SEND_OFFSETS_LIMIT: Duration = Duration::from_secs(15);

pub(crate) fn create(config: &RuntimeConfig) -> anyhow::Result<Producer> {
    super::clients::producer(config)
        .create_with_context(DeliveryTracker::default())
        .map_err(refusal::redacted)
        .context("creating the producer")
}

/// In transactional mode, registers the transactional id: the coordinator fences
/// every earlier producer with it and aborts what that one left open.
pub(crate) fn init(producer: &Producer, config: &RuntimeConfig) -> anyhow::Result<()> {
    if config.engine.delivery == DeliveryMode::Transactional {
        riding_out("initialising transactions", || {
            producer.init_transactions(INIT_TIMEOUT)
        })
        .context("initialising transactions")?;
    }
    Ok(())
}

/// A producer that replaces one that failed for good.
pub(crate) fn replacement(config: &RuntimeConfig) -> anyhow::Result<Producer> {
    let producer = create(config)?;
    init(&producer, config)?;
    Ok(producer)
}

/// Why the producer failed for good, if it has.
pub(crate) fn fatal(producer: &Producer, error: &KafkaError) -> Option<String> {
    let fatal_call = matches!(error, KafkaError::Transaction(t) if t.is_fatal());
    match producer.client().fatal_error() {
        Some((code, reason)) => Some(format!("{code:?}: {reason}")),
        None => fatal_call.then(|| error.to_string()),
    }
}

/// Waits up to `timeout` for every queued record's delivery report.
///
/// rdkafka's own `flush` asks librdkafka with no wait and then polls the event
/// queue for up to 100 ms; the producer's poll thread takes the reports first, so
/// each flush ended on that timeout. librdkafka's flush with the timeout waits on
/// the count of undelivered records instead, and wakes as the poll thread drains it.
pub(crate) fn flush(producer: &Producer, timeout: Duration) -> Result<(), KafkaError> {
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: the client pointer is live for the producer's lifetime; flush only
    // reads its counters and wakes its broker threads.
    let err = unsafe { rdkafka::bindings::rd_kafka_flush(producer.client().native_ptr(), ms) };
    match err {
        rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR => Ok(()),
        e => Err(KafkaError::Flush(e.into())),
    }
}

/// Testing only: raises a fatal error in the producer, as a broker fencing it
/// would (librdkafka's own hook for testing this path).
pub(crate) fn fail_for_testing(producer: &Producer) {
    let reason = c"failpoint: the producer fails for good";
    // SAFETY: the client pointer is live for the producer's lifetime, and the
    // reason is a NUL-terminated string librdkafka copies.
    let raised = unsafe {
        rdkafka::bindings::rd_kafka_test_fatal_error(
            producer.client().native_ptr(),
            rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_INVALID_TXN_STATE,
            reason.as_ptr(),
        )
    };
    tracing::warn!(?raised, "failpoint: the producer fails for good");
}

impl super::KafkaTransport {
    /// Adds the offsets to the open transaction, on a thread of its own
    /// ([`bounded`]): a call that hangs gets the producer replaced.
    pub(super) fn send_offsets_to_transaction(
        &mut self,
        offsets: &[OffsetCommit],
    ) -> Result<(), TransportError> {
        let group = (self.consumer.group_metadata())
            .ok_or_else(|| super::failed("no consumer group metadata"))?;
        let group = Arc::new(group);
        let offsets = super::offsets_tpl(offsets)?;
        let hang = self.config.hang_send_offsets;
        // A stuck call ends the retries with `Some`: making it again would not help.
        let sent = until_done("send_offsets_to_transaction", || {
            let producer = Arc::clone(&self.producer);
            let (group, offsets) = (Arc::clone(&group), offsets.clone());
            let call = move || {
                bounded::hang_once(hang);
                producer.send_offsets_to_transaction(&offsets, &group, SEND_OFFSETS_TIMEOUT)
            };
            match bounded::call("send_offsets_to_transaction", SEND_OFFSETS_LIMIT, call) {
                Ok(answer) => answer.map(|()| None),
                Err(hung) => Ok(Some(hung)),
            }
        });
        match sent {
            Ok(None) => Ok(()),
            Ok(Some(hung)) => Err(self.replace_producer(hung.to_string())),
            Err(e) => Err(self.producer_error(e)),
        }
    }

    /// A producer error; if the producer failed for good, a new one takes its
    /// place and the engine is told to rewind.
    pub(super) fn producer_error(&mut self, e: KafkaError) -> TransportError {
        let Some(why) = fatal(&self.producer, &e) else {
            return super::failed(e);
        };
        let error = if why == e.to_string() {
            why
        } else {
            format!("{e} ({why})")
        };
        self.replace_producer(error)
    }

    /// A new producer in place of one that failed for good or got stuck; the
    /// engine is told to rewind to its last commit.
    fn replace_producer(&mut self, error: String) -> TransportError {
        tracing::warn!(%error, "the producer failed for good; creating a new one");
        match replacement(&self.config) {
            Ok(new) => {
                // The old one goes (its queue purged, its client destroyed) once
                // nothing holds it: a call stuck on its thread may.
                drop(std::mem::replace(&mut self.producer, Arc::new(new)));
                self.refused_at_send.clear();
                TransportError::ProducerReplaced(error)
            }
            Err(r) => super::failed(format!("{error}; and a new producer failed: {r:#}")),
        }
    }
}
