//! What a service plugs into the shell.

use serde::{de::DeserializeOwned, Serialize};
use wismo_core::model::Timestamp;

/// One record as consumed, before decoding.
#[derive(Debug, Clone, Copy)]
pub struct InputRecord<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    pub payload: Option<&'a [u8]>,
}

/// A decoded input and the state key it belongs to.
#[derive(Debug)]
pub struct Decoded<I> {
    pub key: String,
    pub input: I,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    /// The bytes are not a record of the expected schema.
    Decode,
    /// The record decoded but breaks a rule the schema cannot express.
    Invalid,
}

impl RejectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionKind::Decode => "decode",
            RejectionKind::Invalid => "invalid",
        }
    }
}

/// Why an input record goes to the dead-letter topic instead of the core.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub kind: RejectionKind,
    pub reason: String,
}

/// A record to produce.
#[derive(Debug, Clone)]
pub struct OutRecord {
    pub topic: String,
    pub key: String,
    pub payload: Vec<u8>,
}

impl OutRecord {
    /// An Avro-framed record. Encoding a value of wismo's own model only fails on a
    /// bug; that is logged and counted rather than crashing the partition.
    pub fn avro<T: Serialize>(
        topic: &str,
        key: &str,
        subject: &str,
        value: &T,
    ) -> Option<OutRecord> {
        match wismo_codec::Codec::default().encode(subject, value) {
            Ok(payload) => Some(OutRecord {
                topic: topic.to_string(),
                key: key.to_string(),
                payload,
            }),
            Err(e) => {
                crate::metrics::runtime().encode_failures.inc();
                tracing::error!(%topic, %subject, error = %e, "output does not encode; dropped");
                None
            }
        }
    }
}

/// The outcome of one decision: the key's new state (`None` deletes it) and records.
#[derive(Debug)]
pub struct Step<S> {
    pub state: Option<S>,
    pub records: Vec<OutRecord>,
}

/// A service's decode step and decision functions. The decision functions must be
/// pure: same arguments, same result; `now` is the only time they may use.
pub trait Processor: Send + 'static {
    type State: Serialize + DeserializeOwned + Send + 'static;
    type Input: Send;

    /// Topics to consume. All must be co-partitioned (same partition count and
    /// partitioner) because state for one key lives in one partition.
    fn input_topics(&self) -> Vec<String>;

    fn decode(&self, record: &InputRecord<'_>) -> Result<Decoded<Self::Input>, Rejection>;

    fn decide(
        &mut self,
        key: &str,
        state: Option<Self::State>,
        input: Self::Input,
        now: Timestamp,
    ) -> Step<Self::State>;

    fn on_timer(&mut self, key: &str, state: Self::State, now: Timestamp) -> Step<Self::State>;

    /// When [`Processor::on_timer`] must next run for this state.
    fn next_deadline(&self, state: &Self::State) -> Option<Timestamp>;
}
