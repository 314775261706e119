//! What a service plugs into the engine: its topology, how to decode its input
//! records, and its pure decision functions.

use serde::{de::DeserializeOwned, Serialize};
use wismo_core::model::{Origin, Timestamp};
use wismo_core::quote::{quote, quote_bytes};

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
                "record key {} does not match {field} {}; records must be keyed by {field}",
                other.map_or_else(|| "(none)".to_string(), quote_bytes),
                quote(expected)
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

/// A record a decision produces.
#[derive(Debug, Clone, PartialEq)]
pub struct OutRecord {
    pub topic: String,
    pub key: String,
    pub payload: Vec<u8>,
    /// For a command about a detected problem: when it became detectable. Once the
    /// record is acknowledged, the delay since then is recorded as time to detect.
    pub detectable_at: Option<Timestamp>,
    /// The record is stamped with the time of the decision that caused it, but
    /// never earlier than this (an output that joins an earlier input with this one).
    pub not_before: Option<Timestamp>,
}

impl OutRecord {
    pub fn new(topic: &str, key: &str, payload: Vec<u8>) -> Self {
        OutRecord {
            topic: topic.to_string(),
            key: key.to_string(),
            payload,
            detectable_at: None,
            not_before: None,
        }
    }

    /// An Avro-framed record. Encoding a value of wismo's own model only fails on a
    /// bug; that is logged and counted rather than crashing the partition.
    pub fn avro<T: Serialize>(
        topic: &str,
        key: &str,
        subject: &str,
        value: &T,
    ) -> Option<OutRecord> {
        match wismo_codec::Codec::default().encode(subject, value) {
            Ok(payload) => Some(OutRecord::new(topic, key, payload)),
            Err(e) => {
                crate::metrics::engine().encode_failures.inc();
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

/// One input topic of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub topic: String,
    /// Written by wismo tasks (which tag their records and send watermarks), rather
    /// than by the shop or a carrier.
    pub internal: bool,
}

impl Input {
    pub fn external(topic: &str) -> Self {
        Input {
            topic: topic.to_string(),
            internal: false,
        }
    }

    pub fn internal(topic: &str) -> Self {
        Input {
            topic: topic.to_string(),
            internal: true,
        }
    }
}

/// An input whose records only ever decode to [`Decoded::Forward`]: one stateless
/// task per partition, co-partitioned with nothing.
#[derive(Debug, Clone)]
pub struct ForwardOnly {
    pub input: Input,
    /// The internal topics its tasks write.
    pub writes: Vec<String>,
}

/// How a service's inputs form tasks, Kafka Streams style.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// The co-partitioned inputs of the stateful tasks: partition `p` of each is one
    /// task, with the state of the keys that hash to `p`. Equal timestamps are
    /// decided in this order.
    pub keyed: Vec<Input>,
    /// The internal topics (read by other wismo tasks) the keyed tasks write: their
    /// records name the writing task, and each task sends its watermark to every
    /// partition of them.
    pub keyed_writes: Vec<String>,
    pub forward_only: Vec<ForwardOnly>,
    /// The compacted topic that holds the keyed tasks' state.
    pub changelog: Option<String>,
}

impl Topology {
    pub fn input_topics(&self) -> Vec<String> {
        self.keyed
            .iter()
            .chain(self.forward_only.iter().map(|f| &f.input))
            .map(|i| i.topic.clone())
            .collect()
    }
}

/// A service's decode step and decision functions. The decision functions must be
/// pure: same arguments, same result; `now` is the only time they may use.
pub trait Processor: 'static {
    type State: Serialize + DeserializeOwned + Send + 'static;
    type Input;

    /// The Avro subject whose schema the changelog holds [`Processor::State`] in.
    const STATE_SUBJECT: &'static str;

    fn topology(&self) -> Topology;

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

    /// After every rebalance: how many partitions of its first keyed input this
    /// instance owns, of how many (for a share of something global).
    fn on_assignment(&mut self, _owned: usize, _of: usize) {}

    /// The path under which `GET /<route>/{key}` returns a key's current state as
    /// JSON (the order-tracker: `orders`). `None`: no lookup.
    fn lookup_route(&self) -> Option<&'static str> {
        None
    }

    /// The service's name in dead letters and logs.
    fn service(&self) -> &str;

    /// The dead-letter topic.
    fn dead_letter_topic(&self) -> &str;
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
        // A key is untrusted: only a short prefix of it is shown.
        let long = "k".repeat(10_000);
        let r = record(Some(long.as_bytes()), None)
            .require_key("order_id", "o-1")
            .unwrap_err();
        assert!(r.reason.len() < 200, "{}", r.reason);
        assert!(r.reason.contains("(10000 bytes)"), "{}", r.reason);
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
