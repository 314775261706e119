//! Purging internal inputs: records of another wismo task's output that this
//! group has committed past are deleted from their topic, as Kafka Streams purges
//! its repartition topics. So internal topics need no time retention, which would
//! delete a backfill's old-dated records before they are read.

use super::Engine;
use crate::config::millis;
use crate::processor::Processor;
use crate::record::TopicPartition;
use crate::transport::{OffsetCommit, Transport};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

#[derive(Default)]
pub(super) struct Purge {
    /// Topics this service reads that wismo writes.
    internal: HashSet<Arc<str>>,
    /// The latest committed offset of each internal input partition, and how far
    /// it was purged.
    committed: BTreeMap<TopicPartition, i64>,
    purged: BTreeMap<TopicPartition, i64>,
    last: i64,
}

impl Purge {
    pub fn new(internal: impl IntoIterator<Item = Arc<str>>, now: i64) -> Self {
        Purge {
            internal: internal.into_iter().collect(),
            last: now,
            ..Purge::default()
        }
    }
}

impl<P: Processor, T: Transport> Engine<P, T> {
    /// After a commit: once per `purge_interval`, deletes what every internal
    /// input partition was committed past since the last purge.
    pub(super) fn purge_committed(&mut self, offsets: &[OffsetCommit]) {
        let Some(interval) = self.config.purge_interval else {
            return;
        };
        let p = &mut self.purge;
        for o in offsets
            .iter()
            .filter(|o| p.internal.contains(&o.partition.topic))
        {
            p.committed.insert(o.partition.clone(), o.offset);
        }
        let now = self.clock.now().timestamp_millis();
        if now.saturating_sub(p.last) < millis(interval) {
            return;
        }
        p.last = now;
        let below: Vec<(TopicPartition, i64)> = p
            .committed
            .iter()
            .filter(|(tp, at)| p.purged.get(*tp).is_none_or(|done| done < *at))
            .map(|(tp, at)| (tp.clone(), *at))
            .collect();
        if below.is_empty() {
            return;
        }
        for (tp, at) in &below {
            p.purged.insert(tp.clone(), *at);
        }
        self.transport.purge(&below);
    }
}
