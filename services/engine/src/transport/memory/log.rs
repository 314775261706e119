//! The shared log: topics, partitions, groups.

use crate::record::{Outgoing, Record, TopicPartition};
use crate::transport::{Committed, Event, OffsetCommit, TransportError};
use std::cell::RefCell;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::Arc;

#[derive(Default)]
struct Member {
    owned: BTreeSet<TopicPartition>,
    /// Owned, and told to give up: it does so at its next poll.
    revoking: BTreeSet<TopicPartition>,
    events: VecDeque<Event>,
}

#[derive(Default)]
struct Group {
    topics: BTreeSet<String>,
    members: BTreeMap<String, Member>,
    committed: HashMap<TopicPartition, (i64, String)>,
}

#[derive(Default)]
struct State {
    topics: BTreeMap<Arc<str>, Vec<Vec<Record>>>,
    /// The first offset a consumer still reads (records before it were purged;
    /// they stay here for tests that look at the whole log).
    log_start: HashMap<TopicPartition, i64>,
    groups: BTreeMap<String, Group>,
}

/// A log shared by every member of a simulation (one thread).
#[derive(Clone, Default)]
pub struct MemoryLog {
    state: Rc<RefCell<State>>,
}

impl MemoryLog {
    pub fn new() -> Self {
        MemoryLog::default()
    }

    pub fn create_topic(&self, name: &str, partitions: i32) {
        let mut s = self.state.borrow_mut();
        s.topics
            .entry(Arc::from(name))
            .or_insert_with(|| (0..partitions.max(1)).map(|_| Vec::new()).collect());
    }

    pub fn partition_count(&self, topic: &str) -> Option<i32> {
        let s = self.state.borrow();
        s.topics.get(topic).map(|p| p.len() as i32)
    }

    /// Appends records as one atomic batch (a flush, or a committed transaction).
    pub fn append(&self, records: Vec<Outgoing>) -> Result<(), TransportError> {
        let mut s = self.state.borrow_mut();
        for r in records {
            let partitions = s
                .topics
                .get_mut(&r.topic)
                .ok_or_else(|| TransportError::Failed(format!("no topic {}", r.topic)))?;
            let n = partitions.len() as i32;
            let p = match (r.partition, &r.key) {
                (Some(p), _) => p,
                (None, Some(k)) => partition_of(k, n),
                (None, None) => 0,
            };
            let part = partitions
                .get_mut(p as usize)
                .ok_or_else(|| TransportError::Failed(format!("no partition {}/{p}", r.topic)))?;
            let offset = part.len() as i64;
            part.push(Record {
                topic: r.topic.clone(),
                partition: p,
                offset,
                timestamp: r.timestamp,
                key: r.key,
                value: r.value,
                source: r.source,
                watermark: r.watermark,
            });
        }
        Ok(())
    }

    /// Records from `offset` on, at most `max`.
    pub fn read(&self, tp: &TopicPartition, offset: i64, max: usize) -> Vec<Record> {
        let s = self.state.borrow();
        let Some(part) = s
            .topics
            .get(&tp.topic)
            .and_then(|p| p.get(tp.partition as usize))
        else {
            return Vec::new();
        };
        // Below the log start, as Kafka's `auto.offset.reset=earliest`: from it.
        let first = s.log_start.get(tp).copied().unwrap_or(0);
        let start = offset.max(first).max(0) as usize;
        part.iter().skip(start).take(max).cloned().collect()
    }

    /// The first offset consumers of `tp` still read.
    pub fn log_start(&self, tp: &TopicPartition) -> i64 {
        self.state.borrow().log_start.get(tp).copied().unwrap_or(0)
    }

    /// Deletes the records of `tp` before `offset`, for consumers.
    pub fn purge(&self, tp: &TopicPartition, offset: i64) {
        let mut s = self.state.borrow_mut();
        let start = s.log_start.entry(tp.clone()).or_insert(0);
        *start = (*start).max(offset);
    }

    pub fn end_offset(&self, tp: &TopicPartition) -> i64 {
        let s = self.state.borrow();
        s.topics
            .get(&tp.topic)
            .and_then(|p| p.get(tp.partition as usize))
            .map_or(0, |p| p.len() as i64)
    }

    /// How many records there are, in every topic.
    pub fn total_records(&self) -> usize {
        let s = self.state.borrow();
        s.topics.values().flatten().map(Vec::len).sum()
    }

    /// Every record of a topic, partition by partition.
    pub fn records(&self, topic: &str) -> Vec<Record> {
        let s = self.state.borrow();
        s.topics
            .get(topic)
            .map(|parts| parts.iter().flatten().cloned().collect())
            .unwrap_or_default()
    }

    pub fn join(&self, group: &str, member: &str, topics: &[String]) {
        let mut s = self.state.borrow_mut();
        let g = s.groups.entry(group.to_string()).or_default();
        g.topics.extend(topics.iter().cloned());
        g.members.entry(member.to_string()).or_default();
        drop(s);
        self.rebalance(group);
    }

    /// A member leaves (cleanly or by crashing): its partitions move at once.
    pub fn leave(&self, group: &str, member: &str) {
        let mut s = self.state.borrow_mut();
        if let Some(g) = s.groups.get_mut(group) {
            g.members.remove(member);
        }
        drop(s);
        self.rebalance(group);
    }

    pub fn take_events(&self, group: &str, member: &str, out: &mut Vec<Event>) {
        let mut s = self.state.borrow_mut();
        let Some(m) = s
            .groups
            .get_mut(group)
            .and_then(|g| g.members.get_mut(member))
        else {
            return;
        };
        let mut released = false;
        for e in m.events.drain(..) {
            if let Event::Revoked(tps) = &e {
                for tp in tps {
                    m.owned.remove(tp);
                    m.revoking.remove(tp);
                    released = true;
                }
            }
            out.push(e);
        }
        drop(s);
        // What this member gave up goes to its new owner now.
        if released {
            self.rebalance(group);
        }
    }

    pub fn owns(&self, group: &str, member: &str, tp: &TopicPartition) -> bool {
        let s = self.state.borrow();
        s.groups
            .get(group)
            .and_then(|g| g.members.get(member))
            .is_some_and(|m| m.owned.contains(tp))
    }

    pub fn committed(&self, group: &str, tp: &TopicPartition) -> Committed {
        let s = self.state.borrow();
        match s.groups.get(group).and_then(|g| g.committed.get(tp)) {
            Some((offset, metadata)) => Committed {
                offset: Some(*offset),
                metadata: metadata.clone(),
            },
            None => Committed::default(),
        }
    }

    /// Commits offsets, and with them `records` (a transaction), if the member
    /// still owns every partition; otherwise nothing, and the member is fenced.
    pub fn commit(
        &self,
        group: &str,
        member: &str,
        offsets: &[OffsetCommit],
        records: Vec<Outgoing>,
    ) -> Result<(), TransportError> {
        if let Some(lost) = offsets
            .iter()
            .find(|o| !self.owns(group, member, &o.partition))
        {
            return Err(TransportError::Fenced(format!(
                "{member} no longer owns {}",
                lost.partition
            )));
        }
        self.append(records)?;
        let mut s = self.state.borrow_mut();
        let g = s.groups.entry(group.to_string()).or_default();
        for o in offsets {
            g.committed
                .insert(o.partition.clone(), (o.offset, o.metadata.clone()));
        }
        Ok(())
    }

    /// Range assignment per topic over the members in name order; a partition
    /// that changes hands is first revoked from its owner, and assigned to the new
    /// one once the old one has let go.
    fn rebalance(&self, group: &str) {
        let mut s = self.state.borrow_mut();
        let State { topics, groups, .. } = &mut *s;
        let Some(g) = groups.get_mut(group) else {
            return;
        };
        let names: Vec<String> = g.members.keys().cloned().collect();
        let mut target: BTreeMap<String, BTreeSet<TopicPartition>> = BTreeMap::new();
        for topic in &g.topics {
            let n = topics.get(topic.as_str()).map_or(0, |p| p.len());
            let (per, extra) = (n / names.len().max(1), n % names.len().max(1));
            let mut next = 0;
            for (i, name) in names.iter().enumerate() {
                let count = per + usize::from(i < extra);
                for p in next..next + count {
                    target
                        .entry(name.clone())
                        .or_default()
                        .insert(TopicPartition::new(topic.as_str(), p as i32));
                }
                next += count;
            }
        }
        let held: BTreeSet<TopicPartition> = g
            .members
            .values()
            .flat_map(|m| m.owned.iter().cloned())
            .collect();
        for (name, m) in g.members.iter_mut() {
            let want = target.remove(name).unwrap_or_default();
            let revoke: Vec<TopicPartition> = m
                .owned
                .iter()
                .filter(|tp| !want.contains(*tp) && !m.revoking.contains(*tp))
                .cloned()
                .collect();
            if !revoke.is_empty() {
                m.revoking.extend(revoke.iter().cloned());
                m.events.push_back(Event::Revoked(revoke));
            }
            let assign: Vec<TopicPartition> = want
                .iter()
                .filter(|tp| !held.contains(*tp))
                .cloned()
                .collect();
            if !assign.is_empty() {
                m.owned.extend(assign.iter().cloned());
                m.events.push_back(Event::Assigned(assign));
            }
        }
    }
}

/// The partition of a key: a stable hash, the same for every topic, so keys are
/// co-partitioned across topics with the same partition count.
pub(crate) fn partition_of(key: &[u8], partitions: i32) -> i32 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() % partitions.max(1) as u64) as i32
}
