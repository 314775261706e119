//! Records as the engine sees them: consumed from an input partition, or produced
//! to an output topic. Transports translate to and from their own types.

use std::fmt;
use std::sync::Arc;

/// One partition of one topic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    pub topic: Arc<str>,
    pub partition: i32,
}

impl TopicPartition {
    pub fn new(topic: impl Into<Arc<str>>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.topic, self.partition)
    }
}

/// The wismo task that wrote a record to an internal topic: task `task` of the `of`
/// tasks of its kind (one per partition of the writer's input). A consumer waits
/// for every one of them before it moves its time past theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Source {
    pub task: u32,
    pub of: u32,
}

/// Header names on internal topics.
pub mod headers {
    /// `<task>/<of>`: the writing task.
    pub const SOURCE: &str = "wismo.src";
    /// Epoch milliseconds: the writing task stamps nothing earlier from now on.
    pub const WATERMARK: &str = "wismo.wm";
}

impl Source {
    pub fn header_value(&self) -> String {
        format!("{}/{}", self.task, self.of)
    }

    /// Parses a header value; anything malformed is no source at all.
    pub fn parse(bytes: &[u8]) -> Option<Source> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (task, of) = text.split_once('/')?;
        let (task, of) = (task.parse().ok()?, of.parse().ok()?);
        (task < of).then_some(Source { task, of })
    }
}

/// Parses a watermark header value (epoch milliseconds).
pub fn parse_watermark(bytes: &[u8]) -> Option<i64> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// A consumed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub topic: Arc<str>,
    pub partition: i32,
    pub offset: i64,
    /// Epoch milliseconds, as the broker carries it.
    pub timestamp: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    /// On internal topics: the task that wrote it.
    pub source: Option<Source>,
    /// A watermark record (internal topics only): no key, no value.
    pub watermark: Option<i64>,
}

impl Record {
    pub fn topic_partition(&self) -> TopicPartition {
        TopicPartition::new(self.topic.clone(), self.partition)
    }
}

/// A record to produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub topic: Arc<str>,
    /// `None`: by the key's hash, as the Java client partitions.
    pub partition: Option<i32>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub timestamp: i64,
    pub source: Option<Source>,
    pub watermark: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_headers_round_trip_and_garbage_is_none() {
        let s = Source { task: 3, of: 8 };
        assert_eq!(Source::parse(s.header_value().as_bytes()), Some(s));
        for bad in [&b"8/3"[..], b"x/2", b"3", b"", &[0xff, 0x2f, 0x31]] {
            assert_eq!(Source::parse(bad), None, "{bad:?}");
        }
        assert_eq!(parse_watermark(b"1700000000000"), Some(1_700_000_000_000));
        assert_eq!(parse_watermark(b"soon"), None);
    }
}
