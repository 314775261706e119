//! One member's view of the [`MemoryLog`]: its positions, what it paused, what it
//! sent and not yet flushed, its open transaction.

use super::MemoryLog;
use crate::record::{Outgoing, TopicPartition};
use crate::transport::{
    ChangelogEntry, Committed, DeliveryFailure, Event, OffsetCommit, Transport, TransportError,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

/// How much a poll returns. The simulation varies it to vary batch boundaries and
/// how far one input runs ahead of another.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    pub max_records: usize,
    /// `Some`: each poll takes a random number of records (1..=max) from a random
    /// subset of partitions.
    pub seed: Option<u64>,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            max_records: 10_000,
            seed: None,
        }
    }
}

/// Where the simulation pulls the plug: after this many sends, flushes and
/// commits, the next one fails with [`TransportError::Crashed`], having done only
/// part of its work (some of the records of a flush reach the log).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub crash_after_calls: Option<u64>,
    /// The broker's record size limit (key and value): a larger record is refused
    /// for good, as Kafka refuses one over `max.message.bytes`.
    pub max_record_bytes: Option<usize>,
    /// After this many sends and flushes the producer fails for good (as a
    /// fenced Kafka producer does): the next producer call reports
    /// [`TransportError::ProducerReplaced`].
    pub producer_fails_after_calls: Option<u64>,
}

pub struct MemoryTransport {
    log: MemoryLog,
    group: String,
    member: String,
    topics: Vec<String>,
    positions: HashMap<TopicPartition, i64>,
    paused: BTreeSet<TopicPartition>,
    /// Partitions whose end was reported and that got nothing since.
    ended: BTreeSet<TopicPartition>,
    /// Partitions resumed since the last poll: fetched first, as ended ones are.
    resumed: BTreeSet<TopicPartition>,
    /// Partitions this member was told it owns (fetching starts then, as a
    /// consumer's does after its rebalance callback).
    owned: BTreeSet<TopicPartition>,
    unflushed: Vec<Outgoing>,
    transaction: Option<Vec<Outgoing>>,
    restores: Vec<TopicPartition>,
    fetch: FetchPolicy,
    rng: Option<ChaCha8Rng>,
    faults: Faults,
    crashed: bool,
    /// The producer failed for good; the next producer call replaces it.
    producer_failed: bool,
}

impl MemoryTransport {
    pub fn new(log: &MemoryLog, group: &str, member: &str) -> Self {
        MemoryTransport {
            log: log.clone(),
            group: group.to_string(),
            member: member.to_string(),
            topics: Vec::new(),
            positions: HashMap::new(),
            paused: BTreeSet::new(),
            ended: BTreeSet::new(),
            resumed: BTreeSet::new(),
            owned: BTreeSet::new(),
            unflushed: Vec::new(),
            transaction: None,
            restores: Vec::new(),
            fetch: FetchPolicy::default(),
            rng: None,
            faults: Faults::default(),
            crashed: false,
            producer_failed: false,
        }
    }

    pub fn with_fetch(mut self, fetch: FetchPolicy) -> Self {
        self.rng = fetch.seed.map(ChaCha8Rng::seed_from_u64);
        self.fetch = fetch;
        self
    }

    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    pub fn member(&self) -> &str {
        &self.member
    }

    /// Counts a call against the fault schedule.
    fn call(&mut self) -> Result<(), TransportError> {
        if self.crashed {
            return Err(TransportError::Crashed);
        }
        if let Some(n) = self.faults.crash_after_calls.as_mut() {
            if *n == 0 {
                self.crashed = true;
                return Err(TransportError::Crashed);
            }
            *n -= 1;
        }
        Ok(())
    }

    /// Counts a producer call against the fault schedule; a failed producer is
    /// replaced: its open transaction is aborted, and of what was in flight
    /// outside one, some reached the log before it failed.
    fn producer_call(&mut self) -> Result<(), TransportError> {
        if let Some(n) = self.faults.producer_fails_after_calls.as_mut() {
            match n.checked_sub(1) {
                Some(left) => *n = left,
                None => {
                    self.faults.producer_fails_after_calls = None;
                    self.producer_failed = true;
                }
            }
        }
        if !std::mem::take(&mut self.producer_failed) {
            return Ok(());
        }
        self.transaction = None;
        let unflushed = std::mem::take(&mut self.unflushed);
        let keep = self
            .rng
            .as_mut()
            .map_or(unflushed.len() / 2, |r| r.random_range(0..=unflushed.len()));
        let (records, _) = self.refuse_too_large(unflushed.into_iter().take(keep).collect());
        self.log.append(records)?;
        Err(TransportError::ProducerReplaced(format!(
            "{}'s producer failed (simulated)",
            self.member
        )))
    }

    /// Splits off what the broker would refuse for its size.
    fn refuse_too_large(&self, records: Vec<Outgoing>) -> (Vec<Outgoing>, Vec<DeliveryFailure>) {
        let Some(limit) = self.faults.max_record_bytes else {
            return (records, Vec::new());
        };
        let size = |r: &Outgoing| {
            r.key.as_ref().map_or(0, Vec::len) + r.value.as_ref().map_or(0, Vec::len)
        };
        let (fit, over): (Vec<_>, Vec<_>) = records.into_iter().partition(|r| size(r) <= limit);
        let refused = over
            .into_iter()
            .map(|record| DeliveryFailure {
                error: format!(
                    "record of {} bytes is over the broker's limit of {limit}",
                    size(&record)
                ),
                record,
            })
            .collect();
        (fit, refused)
    }

    fn position(&mut self, tp: &TopicPartition) -> i64 {
        if let Some(p) = self.positions.get(tp) {
            return *p;
        }
        let start = self.log.committed(&self.group, tp).offset.unwrap_or(0);
        self.positions.insert(tp.clone(), start);
        start
    }
}

impl Transport for MemoryTransport {
    fn subscribe(&mut self, topics: &[String]) -> Result<(), TransportError> {
        self.topics = topics.to_vec();
        self.log.join(&self.group, &self.member, topics);
        Ok(())
    }

    fn poll(&mut self, _timeout: Duration, events: &mut Vec<Event>) -> Result<(), TransportError> {
        if self.crashed {
            return Err(TransportError::Crashed);
        }
        let before = events.len();
        self.log.take_events(&self.group, &self.member, events);
        for e in &events[before..] {
            match e {
                Event::Revoked(tps) => {
                    for tp in tps {
                        self.positions.remove(tp);
                        self.ended.remove(tp);
                        self.paused.remove(tp);
                        self.owned.remove(tp);
                    }
                }
                Event::Assigned(tps) => self.owned.extend(tps.iter().cloned()),
                _ => {}
            }
        }
        let mut owned: Vec<TopicPartition> = self
            .owned
            .iter()
            .filter(|tp| !self.paused.contains(*tp))
            .cloned()
            .collect();
        let mut budget = self.fetch.max_records;
        // A consumer at the end of a partition gets what arrives there at once (a
        // broker answers its waiting fetch); one with a backlog may be starved.
        let resumed = std::mem::take(&mut self.resumed);
        let (mut fresh, mut behind): (Vec<TopicPartition>, Vec<TopicPartition>) = owned
            .drain(..)
            .partition(|tp| self.ended.contains(tp) || resumed.contains(tp));
        if let Some(rng) = self.rng.as_mut() {
            budget = rng.random_range(1..=self.fetch.max_records.max(1));
            // A random order and a random subset: some inputs run ahead.
            for i in (1..behind.len()).rev() {
                behind.swap(i, rng.random_range(0..=i));
            }
            let keep = rng.random_range(0..=behind.len());
            behind.truncate(keep.max(1).min(behind.len()));
        }
        owned.append(&mut fresh);
        owned.append(&mut behind);
        for tp in owned {
            let position = self.position(&tp);
            let at_end = self.ended.contains(&tp) || resumed.contains(&tp);
            let take = match self.rng.as_mut() {
                Some(rng) if at_end => rng.random_range(1..=budget.max(1)),
                Some(rng) => rng.random_range(0..=budget),
                None => budget,
            };
            let records = self.log.read(&tp, position, take);
            budget = budget.saturating_sub(records.len());
            if let Some(last) = records.last() {
                self.positions.insert(tp.clone(), last.offset + 1);
                self.ended.remove(&tp);
            }
            events.extend(records.into_iter().map(Event::Record));
            let at = self.positions.get(&tp).copied().unwrap_or(position);
            if at >= self.log.end_offset(&tp) && self.ended.insert(tp.clone()) {
                events.push(Event::End(tp));
            }
        }
        Ok(())
    }

    fn pause(&mut self, partitions: &[TopicPartition]) {
        self.paused.extend(partitions.iter().cloned());
    }

    fn resume(&mut self, partitions: &[TopicPartition]) {
        // As a Kafka consumer's: the next fetch reports the end again.
        for tp in partitions {
            self.paused.remove(tp);
            self.ended.remove(tp);
            self.resumed.insert(tp.clone());
        }
    }

    fn seek(
        &mut self,
        partition: &TopicPartition,
        offset: Option<i64>,
    ) -> Result<(), TransportError> {
        self.positions
            .insert(partition.clone(), offset.unwrap_or(0).max(0));
        self.ended.remove(partition);
        Ok(())
    }

    fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<Vec<Committed>, TransportError> {
        Ok(partitions
            .iter()
            .map(|tp| self.log.committed(&self.group, tp))
            .collect())
    }

    fn partition_count(&mut self, topic: &str) -> Result<i32, TransportError> {
        self.log
            .partition_count(topic)
            .ok_or_else(|| TransportError::Failed(format!("topic {topic} does not exist")))
    }

    fn send(&mut self, record: Outgoing) -> Result<(), TransportError> {
        self.call()?;
        self.producer_call()?;
        match self.transaction.as_mut() {
            Some(t) => t.push(record),
            None => self.unflushed.push(record),
        }
        Ok(())
    }

    fn in_flight(&self) -> usize {
        self.unflushed.len()
    }

    fn flush(&mut self) -> Result<Vec<DeliveryFailure>, TransportError> {
        self.producer_call()?;
        let unflushed = std::mem::take(&mut self.unflushed);
        let (records, refused) = self.refuse_too_large(unflushed);
        if let Err(e) = self.call() {
            // Some of what was in flight made it before the crash.
            let keep = self
                .rng
                .as_mut()
                .map_or(records.len() / 2, |r| r.random_range(0..=records.len()));
            self.log.append(records.into_iter().take(keep).collect())?;
            return Err(e);
        }
        self.log.append(records)?;
        Ok(refused)
    }

    fn commit(&mut self, offsets: &[OffsetCommit]) -> Result<(), TransportError> {
        self.call()?;
        self.log
            .commit(&self.group, &self.member, offsets, Vec::new())
    }

    fn begin_transaction(&mut self) -> Result<(), TransportError> {
        self.producer_call()?;
        if self.transaction.is_some() {
            return Err(TransportError::Failed(
                "a transaction is already open".into(),
            ));
        }
        self.transaction = Some(Vec::new());
        Ok(())
    }

    fn commit_transaction(&mut self, offsets: &[OffsetCommit]) -> Result<(), TransportError> {
        self.producer_call()?;
        let records = self
            .transaction
            .take()
            .ok_or_else(|| TransportError::Failed("no open transaction".into()))?;
        self.call()?;
        let (records, refused) = self.refuse_too_large(records);
        if !refused.is_empty() {
            return Err(TransportError::Refused(refused));
        }
        self.log.commit(&self.group, &self.member, offsets, records)
    }

    fn abort_transaction(&mut self) -> Result<(), TransportError> {
        self.transaction = None;
        Ok(())
    }

    fn start_restore(&mut self, partition: TopicPartition) {
        self.restores.push(partition);
    }

    fn finished_restores(
        &mut self,
    ) -> Vec<(TopicPartition, Result<Vec<ChangelogEntry>, TransportError>)> {
        std::mem::take(&mut self.restores)
            .into_iter()
            .map(|tp| {
                let mut last: BTreeMap<Vec<u8>, (Option<Vec<u8>>, i64)> = BTreeMap::new();
                for r in self.log.read(&tp, 0, usize::MAX) {
                    if let Some(k) = r.key {
                        last.insert(k, (r.value, r.offset));
                    }
                }
                let entries = last
                    .into_iter()
                    .filter_map(|(k, (v, offset))| {
                        Some(ChangelogEntry {
                            key: String::from_utf8_lossy(&k).into_owned(),
                            value: v?,
                            offset,
                        })
                    })
                    .collect();
                (tp, Ok(entries))
            })
            .collect()
    }

    fn lag(&self, partition: &TopicPartition) -> Option<i64> {
        let at = self.positions.get(partition).copied().unwrap_or(0);
        Some((self.log.end_offset(partition) - at).max(0))
    }

    fn purge(&mut self, below: &[(TopicPartition, i64)]) {
        for (tp, offset) in below {
            self.log.purge(tp, *offset);
        }
    }

    fn fail_producer(&mut self) {
        self.producer_failed = true;
    }

    fn close(&mut self) {
        self.log.leave(&self.group, &self.member);
    }
}
