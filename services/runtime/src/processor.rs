//! What a service plugs into the shell.

use serde::{de::DeserializeOwned, Serialize};
use wismo_core::model::{Origin, Timestamp};

/// One record as consumed, before decoding.
#[derive(Debug, Clone, Copy)]
pub struct InputRecord<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    pub payload: Option<&'a [u8]>,
}

impl InputRecord<'_> {
    /// Where this record sits, for held inputs and dead letters.
    pub fn origin(&self) -> Origin {
        Origin {
            topic: self.topic.to_string(),
            partition: self.partition,
            offset: self.offset,
        }
    }

    /// The value, or a rejection for a record without one.
    pub fn value(&self) -> Result<&[u8], Rejection> {
        self.payload
            .ok_or_else(|| Rejection::decode("record has no value"))
    }

    /// State for a key lives in the partition the key hashes to; a record keyed by
    /// anything but `expected` (the value's own `field`) would split that state.
    pub fn require_key(&self, field: &str, expected: &str) -> Result<(), Rejection> {
        match self.key {
            Some(k) if k == expected.as_bytes() => Ok(()),
            other => Err(Rejection::invalid(format!(
                "record key {:?} does not match {field} {expected:?}; records must be keyed by {field}",
                other.map(String::from_utf8_lossy)
            ))),
        }
    }
}

/// What a consumed record becomes.
#[derive(Debug)]
pub enum Decoded<I> {
    /// An input for the state of `key`.
    Keyed { key: String, input: I },
    /// Records passed on as they are, touching no state: a re-key onto an internal
    /// topic, or nothing for a record this service has no use for.
    Forward(Vec<OutRecord>),
}

impl<I> Decoded<I> {
    pub fn keyed(key: impl Into<String>, input: I) -> Self {
        Decoded::Keyed {
            key: key.into(),
            input,
        }
    }
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

impl Rejection {
    pub fn decode(reason: impl ToString) -> Self {
        Rejection {
            kind: RejectionKind::Decode,
            reason: reason.to_string(),
        }
    }

    pub fn invalid(reason: impl ToString) -> Self {
        Rejection {
            kind: RejectionKind::Invalid,
            reason: reason.to_string(),
        }
    }
}

/// A record to produce.
#[derive(Debug, Clone)]
pub struct OutRecord {
    pub topic: String,
    pub key: String,
    pub payload: Vec<u8>,
    /// For a command about a detected problem: when it became detectable. Once the
    /// record is acknowledged, the delay since then is recorded as time to detect.
    pub detectable_at: Option<Timestamp>,
    /// The record is stamped with the timestamp of the input that caused it, but
    /// never earlier than this (an output that joins an earlier input with this one).
    pub not_before: Option<Timestamp>,
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
                detectable_at: None,
                not_before: None,
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

    /// Topics to consume. All but the forward-only ones must be co-partitioned (same
    /// partition count and partitioner) because state for one key lives in one
    /// partition.
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

    /// Input topics whose records only ever decode to [`Decoded::Forward`]: they
    /// touch no state and carry no stream time, so they need not be co-partitioned
    /// with the other inputs (the scan-matcher's `orders`).
    fn forward_only_topics(&self) -> Vec<String> {
        Vec::new()
    }

    /// The path under which `GET /<route>/{key}` returns a key's current state as
    /// JSON (the order-tracker: `orders`). `None`: no lookup.
    fn lookup_route(&self) -> Option<&'static str> {
        None
    }

    /// Whether records of `topic` move stream time (and so fire timers). A topic read
    /// far ahead of the input it waits for must not: the scan-matcher's scans would
    /// otherwise expire their own holds before the shipments they wait for are read.
    fn advances_stream_time(&self, _topic: &str) -> bool {
        true
    }

    /// Whether the processor keeps per-key state. A stateless one has no changelog
    /// to write or restore.
    fn stateful(&self) -> bool {
        true
    }

    /// When [`Processor::on_timer`] must next run for this state.
    fn next_deadline(&self, state: &Self::State) -> Option<Timestamp>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record<'a>(key: Option<&'a [u8]>, payload: Option<&'a [u8]>) -> InputRecord<'a> {
        InputRecord {
            topic: "orders",
            partition: 2,
            offset: 7,
            key,
            payload,
        }
    }

    #[test]
    fn a_record_keyed_otherwise_is_invalid_and_says_why() {
        assert!(record(Some(b"o-1"), None)
            .require_key("order_id", "o-1")
            .is_ok());
        let r = record(Some(b"o-2"), None)
            .require_key("order_id", "o-1")
            .unwrap_err();
        assert_eq!(r.kind, RejectionKind::Invalid);
        assert!(
            r.reason.contains("order_id") && r.reason.contains("o-2"),
            "{}",
            r.reason
        );
        assert!(record(None, None).require_key("order_id", "o-1").is_err());
    }

    #[test]
    fn a_record_without_value_is_a_decode_rejection() {
        assert_eq!(
            record(None, None).value().unwrap_err().kind,
            RejectionKind::Decode
        );
        assert_eq!(record(None, Some(b"x")).value().unwrap(), b"x");
        assert_eq!(
            record(None, None).origin(),
            Origin {
                topic: "orders".into(),
                partition: 2,
                offset: 7
            }
        );
    }
}
