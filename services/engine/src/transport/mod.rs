//! The narrow interface between the engine and a log: Kafka in the services
//! (`wismo-runtime`), an in-memory log in `replay`, the tests and the simulation
//! ([`memory`]). Everything the engine decides is decided above this line, so the
//! two run the same code.

pub mod memory;

use crate::record::{Outgoing, Record, TopicPartition};
use std::time::Duration;

/// What a poll brings.
#[derive(Debug)]
pub enum Event {
    Record(Record),
    /// The partition holds nothing more for now (the broker's end, or under
    /// `read_committed` its last stable offset; transaction markers and compacted
    /// gaps do not count).
    End(TopicPartition),
    /// What the last [`Event::End`] said is no longer known (the connection to
    /// the broker was lost: records may have arrived that this member has not
    /// fetched). The next `End` says it again.
    Behind(TopicPartition),
    /// Partitions this member now owns, in addition to those it had.
    Assigned(Vec<TopicPartition>),
    /// Partitions this member no longer owns.
    Revoked(Vec<TopicPartition>),
}

/// A committed position and the metadata committed with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    pub offset: Option<i64>,
    pub metadata: String,
}

/// An offset to commit, with its metadata (a [`crate::checkpoint::Checkpoint`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommit {
    pub partition: TopicPartition,
    pub offset: i64,
    pub metadata: String,
}

/// A record the log refused for good (too large, invalid): it is not retried.
#[derive(Debug, Clone)]
pub struct DeliveryFailure {
    pub record: Outgoing,
    pub error: String,
}

/// One key's last value in a changelog partition, and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangelogEntry {
    pub key: String,
    pub value: Vec<u8>,
    pub offset: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The simulation pulled the plug: the instance is gone with what it held.
    #[error("crashed (simulated)")]
    Crashed,
    /// Another instance took over this one's transactional id or group generation.
    #[error("fenced: {0}")]
    Fenced(String),
    /// The producer failed for good (librdkafka's fatal errors: fenced by a newer
    /// epoch, an invalid transactional state) and the transport put a new one in
    /// its place under the same transactional id, which fences the old one and
    /// aborts its open transaction. What was sent since the last commit may be
    /// gone: the engine rewinds to that commit (as Kafka Streams closes its tasks
    /// dirty and re-creates the thread's producer).
    #[error("the producer failed for good and was replaced: {0}")]
    ProducerReplaced(String),
    /// A transaction failed because the broker refused these records for good
    /// (too large, invalid): the transaction is to be aborted and decided again.
    #[error("the broker refused {} record(s) of the transaction: {}", .0.len(), .0.first().map_or("", |f| f.error.as_str()))]
    Refused(Vec<DeliveryFailure>),
    #[error("{0}")]
    Failed(String),
}

pub trait Transport {
    /// Joins the consumer group on these topics.
    fn subscribe(&mut self, topics: &[String]) -> Result<(), TransportError>;

    /// Appends what arrived to `events`, waiting up to `timeout` for something.
    fn poll(&mut self, timeout: Duration, events: &mut Vec<Event>) -> Result<(), TransportError>;

    /// Stops (or restarts) fetching these partitions; their position stays. A
    /// resumed partition at its end reports [`Event::End`] again.
    fn pause(&mut self, partitions: &[TopicPartition]);
    fn resume(&mut self, partitions: &[TopicPartition]);

    /// Moves the fetch position (`None`: the beginning) and drops what was
    /// fetched beyond it.
    fn seek(
        &mut self,
        partition: &TopicPartition,
        offset: Option<i64>,
    ) -> Result<(), TransportError>;

    /// The group's committed positions of these partitions.
    fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<Vec<Committed>, TransportError>;

    fn partition_count(&mut self, topic: &str) -> Result<i32, TransportError>;

    /// Sends a record; its acknowledgement is awaited by [`Transport::flush`].
    fn send(&mut self, record: Outgoing) -> Result<(), TransportError>;

    /// Records sent and not yet acknowledged (or refused).
    fn in_flight(&self) -> usize;

    /// Waits until every record sent so far is acknowledged. Records the log
    /// refused for good are returned; any other failure is an error.
    fn flush(&mut self) -> Result<Vec<DeliveryFailure>, TransportError>;

    /// Commits positions (at-least-once mode).
    fn commit(&mut self, offsets: &[OffsetCommit]) -> Result<(), TransportError>;

    fn begin_transaction(&mut self) -> Result<(), TransportError>;
    /// Adds the positions to the open transaction and commits it.
    fn commit_transaction(&mut self, offsets: &[OffsetCommit]) -> Result<(), TransportError>;
    fn abort_transaction(&mut self) -> Result<(), TransportError>;

    /// Deletes the records before these offsets (internal topics this group alone
    /// reads, committed past them). Best effort: a failure is logged, and the next
    /// purge covers it.
    fn purge(&mut self, below: &[(TopicPartition, i64)]);

    /// Starts reading a changelog partition to its end, off the processing path.
    fn start_restore(&mut self, partition: TopicPartition);
    /// Restores that finished since the last call.
    fn finished_restores(
        &mut self,
    ) -> Vec<(TopicPartition, Result<Vec<ChangelogEntry>, TransportError>)>;

    /// Records on the broker beyond this member's position, as the client last
    /// heard (no round trip). `None`: not known.
    fn lag(&self, _partition: &TopicPartition) -> Option<i64> {
        None
    }

    /// Testing only: the producer fails for good, as librdkafka's does when the
    /// broker fences it; the next producer call reports
    /// [`TransportError::ProducerReplaced`].
    fn fail_producer(&mut self);

    /// Leaves the group.
    fn close(&mut self);
}
