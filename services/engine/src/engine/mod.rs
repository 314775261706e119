//! The loop one instance of a service runs (Kafka Streams' StreamThread with its
//! TaskManager): poll the transport, route records to their tasks, let each task
//! decide what it can, and commit every commit interval.

mod assign;
mod commit;
mod flow;
mod output;
mod pipeline;
mod process;
mod purge;

use crate::changelog::{StateDecodeError, StateEncodeError};
use crate::config::{millis, DeliveryMode, EngineConfig};
use crate::dead_letter::DeadLetters;
use crate::processor::{Processor, Topology};
use crate::record::TopicPartition;
use crate::task::{Clockwork, Next, Task, TaskId};
use crate::transport::{Event, Transport, TransportError};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use wismo_core::clock::Clock;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    State(#[from] StateDecodeError),
    #[error(transparent)]
    StateEncode(#[from] StateEncodeError),
    #[error(transparent)]
    StateRead(#[from] crate::store::StateReadError),
    #[error("{0}")]
    Topology(String),
    /// A merged input's local spill failed (disk full, say): its records can no
    /// longer be fed in order.
    #[error("spill of {0} failed: {1}")]
    Spill(String, std::io::Error),
    /// A test's failpoint: the instance is to die as if it crashed.
    #[error("{0}")]
    FailPoint(String),
}

/// Tasks formed alike: their inputs (topic, internal), and the internal topics
/// they write.
struct Group {
    inputs: Vec<(Arc<str>, bool)>,
    writes: Vec<String>,
}

impl Group {
    fn new(inputs: &[crate::processor::Input], writes: &[String]) -> Self {
        Group {
            inputs: inputs
                .iter()
                .map(|i| (Arc::from(i.topic.as_str()), i.internal))
                .collect(),
            writes: writes.to_vec(),
        }
    }
}

/// One instance of a service: its processor, its transport, and its tasks.
pub struct Engine<P: Processor, T: Transport> {
    processor: P,
    transport: T,
    config: EngineConfig,
    clock: Arc<dyn Clock>,
    topology: Topology,
    /// Task groups: 0 the keyed inputs (when there are any), then each
    /// forward-only one.
    groups: Vec<Group>,
    dead_letters: DeadLetters,
    tasks: BTreeMap<TaskId, Task<P::State>>,
    /// Tasks waiting for their changelog.
    restoring: BTreeMap<TaskId, Task<P::State>>,
    /// Tasks whose changelog cannot be read: stopped, never silently skipped.
    failed: BTreeMap<TaskId, String>,
    route: HashMap<TopicPartition, (TaskId, usize)>,
    /// Records of owned partitions whose task is not formed yet.
    orphans: HashMap<TopicPartition, Vec<crate::record::Record>>,
    /// Those of them at their end.
    ended_orphans: HashSet<TopicPartition>,
    assigned: BTreeSet<TopicPartition>,
    paused: BTreeSet<TopicPartition>,
    partition_counts: HashMap<String, i32>,
    transaction_open: bool,
    /// An at-least-once commit whose offsets wait for its changelog's acks.
    pending: Option<pipeline::PendingCommit>,
    last_commit: i64,
    /// Something was decided, or time moved, since the last commit.
    uncommitted: bool,
    /// When each problem reported by an output sent since the last flush became
    /// detectable.
    detectable: Vec<i64>,
    /// Input records whose decision panicked: on the second pass they go to
    /// dead-letter undecided.
    poison: HashMap<(TopicPartition, i64), &'static str>,
    /// Timers (key fingerprint, deadline) likewise.
    poisoned_timers: HashMap<(u64, i64), &'static str>,
    /// A task must commit before it decides on (see [`crate::breaker`]).
    commit_wanted: bool,
    /// The careful task whose checkpoint names (or just named) what it decides:
    /// the only one that decides until that is committed.
    careful_task: Option<TaskId>,
    consumed: crate::metrics::TopicCounters,
    produced: crate::metrics::TopicCounters,
    /// Outputs the broker refused for good inside a transaction (topic, key and
    /// value fingerprint): decided again after the rewind, they go to dead-letter.
    refused_outputs: HashSet<(Arc<str>, u64)>,
    /// The record or timer being decided, named in the dead letter of an output
    /// too large to produce.
    deciding: Option<wismo_core::model::Origin>,
    /// Set when the tasks must be rewound to their last commit, and why.
    rewind: Option<&'static str>,
    joined: bool,
    /// The breakers of the tasks a rewind dropped, for the same tasks formed again.
    rewound: HashMap<TaskId, crate::breaker::Breaker>,
    /// The fatal-producer failpoint fired (it fires once per instance).
    producer_failed: bool,
    /// Wall time when the last poll began: whatever had reached the broker by
    /// then was fetched, so an input at its end is known to be empty up to it (and
    /// no further: a busy loop does not move time).
    polled_at: i64,
    purge: purge::Purge,
}

impl<P: Processor, T: Transport> Engine<P, T> {
    pub fn new(
        processor: P,
        transport: T,
        config: EngineConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, EngineError> {
        let topology = processor.topology();
        let mut groups = Vec::new();
        if !topology.keyed.is_empty() {
            groups.push(Group::new(&topology.keyed, &topology.keyed_writes));
        }
        for f in &topology.forward_only {
            groups.push(Group::new(std::slice::from_ref(&f.input), &f.writes));
        }
        if !topology.keyed.is_empty() && topology.changelog.is_none() {
            return Err(EngineError::Topology(
                "keyed inputs need a changelog topic".into(),
            ));
        }
        let dead_letters = DeadLetters::new(processor.service(), processor.dead_letter_topic())
            .keeping(config.dead_letter_max_original_bytes);
        let last_commit = clock.now().timestamp_millis();
        let internal_inputs: Vec<Arc<str>> = groups
            .iter()
            .flat_map(|g| g.inputs.iter())
            .filter(|(_, internal)| *internal)
            .map(|(topic, _)| topic.clone())
            .collect();
        Ok(Engine {
            processor,
            transport,
            config,
            clock,
            topology,
            groups,
            dead_letters,
            tasks: BTreeMap::new(),
            restoring: BTreeMap::new(),
            failed: BTreeMap::new(),
            route: HashMap::new(),
            orphans: HashMap::new(),
            ended_orphans: HashSet::new(),
            assigned: BTreeSet::new(),
            paused: BTreeSet::new(),
            partition_counts: HashMap::new(),
            transaction_open: false,
            pending: None,
            last_commit,
            uncommitted: false,
            detectable: Vec::new(),
            poison: HashMap::new(),
            poisoned_timers: HashMap::new(),
            commit_wanted: false,
            careful_task: None,
            consumed: Default::default(),
            produced: Default::default(),
            refused_outputs: HashSet::new(),
            deciding: None,
            rewind: None,
            joined: false,
            rewound: HashMap::new(),
            producer_failed: false,
            polled_at: last_commit,
            purge: purge::Purge::new(internal_inputs, last_commit),
        })
    }

    /// Checks the topics and joins the group.
    pub fn start(&mut self) -> Result<(), EngineError> {
        let mut counts = Vec::new();
        for (g, group) in self.groups.iter().enumerate() {
            for (topic, _) in &group.inputs {
                let n = self.transport.partition_count(topic)?;
                self.partition_counts.insert(topic.to_string(), n);
                if g == 0 && !self.topology.keyed.is_empty() {
                    counts.push((topic.to_string(), n));
                }
            }
        }
        if let Some(changelog) = &self.topology.changelog {
            let n = self.transport.partition_count(changelog)?;
            counts.push((changelog.clone(), n));
        }
        for topic in self.groups.iter().flat_map(|g| &g.writes) {
            let n = self.transport.partition_count(topic)?;
            self.partition_counts.insert(topic.clone(), n);
        }
        if let Some((_, first)) = counts.first() {
            if counts.iter().any(|(_, n)| n != first) {
                return Err(EngineError::Topology(format!(
                    "topics must be co-partitioned (same partition count): {counts:?}"
                )));
            }
        }
        self.transport.subscribe(&self.topology.input_topics())?;
        Ok(())
    }

    fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }

    fn clockwork(&self) -> Clockwork {
        Clockwork {
            wall: self.polled_at,
            idle: millis(self.config.max_task_idle),
            upstream_timeout: self.config.upstream_timeout.map(millis),
        }
    }

    /// One round: poll (waiting up to `max_wait` when nothing can be decided),
    /// decide what can be decided, commit when the interval is up. Returns whether
    /// anything happened.
    pub fn poll_once(&mut self, max_wait: Duration) -> Result<bool, EngineError> {
        match self.round(max_wait) {
            Err(EngineError::Transport(TransportError::ProducerReplaced(e))) => {
                self.producer_replaced(&e)?;
                Ok(true)
            }
            other => other,
        }
    }

    fn round(&mut self, max_wait: Duration) -> Result<bool, EngineError> {
        let wait = self.idle_wait(max_wait);
        let mut events = Vec::new();
        self.polled_at = self.now_ms();
        self.transport.poll(wait, &mut events)?;
        let mut progress = !events.is_empty();
        for event in events {
            self.handle(event)?;
        }
        progress |= self.finish_restores()?;
        if let Some(cause) = self.rewind.take() {
            self.rewind_to_commit(cause)?;
            return Ok(true);
        }
        progress |= self.process_tasks()?;
        if let Some(cause) = self.rewind.take() {
            self.rewind_to_commit(cause)?;
            return Ok(true);
        }
        if std::mem::take(&mut self.commit_wanted) {
            self.commit_now()?;
            progress = true;
        }
        self.flow_control()?;
        let now = self.now_ms();
        if now.saturating_sub(self.last_commit) >= millis(self.config.commit_interval) {
            progress |= self.commit_if_due()?;
        }
        self.finish_if_acknowledged()?;
        Ok(progress)
    }

    /// How long a poll may wait: not at all when a task can decide something, else
    /// until a task could (an idle input's frontier follows the wall clock) or the
    /// next commit is due; briefly while a commit waits for its changelog's acks,
    /// so its watermarks go out soon after them.
    fn idle_wait(&self, max_wait: Duration) -> Duration {
        let clock = self.clockwork();
        if !self.restoring.is_empty() {
            return max_wait.min(Duration::from_millis(10));
        }
        let max_wait = match self.pending {
            Some(_) => max_wait.min(pipeline::ACK_CHECK),
            None => max_wait,
        };
        let mut until = self
            .last_commit
            .saturating_add(millis(self.config.commit_interval));
        for task in self.tasks.values() {
            if task.next(&clock) != Next::Wait {
                return Duration::ZERO;
            }
            if let Some(at) = task.wake_at(&clock) {
                until = until.min(at);
            }
        }
        let ms = until.saturating_sub(self.now_ms()).max(0) as u64;
        max_wait.min(Duration::from_millis(ms))
    }

    fn handle(&mut self, event: Event) -> Result<(), EngineError> {
        match event {
            Event::Record(record) => self.route_record(record),
            Event::End(tp) => {
                if let Some(queue) = self.queue_mut(&tp) {
                    queue.at_end = true;
                } else if self.assigned.contains(&tp) {
                    self.ended_orphans.insert(tp);
                }
            }
            Event::Behind(tp) => {
                if let Some(queue) = self.queue_mut(&tp) {
                    queue.at_end = false;
                }
                self.ended_orphans.remove(&tp);
            }
            Event::Assigned(tps) => self.assign(tps)?,
            Event::Revoked(tps) => self.revoke(tps),
        }
        Ok(())
    }

    /// Commits what is decided and leaves the group. The commit says the stop was
    /// clean, so the crash-loop breaker counts no restart for it.
    pub fn shutdown(&mut self) -> Result<(), EngineError> {
        for task in self.tasks.values_mut() {
            task.breaker.stopped_cleanly();
        }
        self.commit_now()?;
        self.transport.close();
        tracing::info!("stopped");
        Ok(())
    }

    /// A key's current state as JSON, if a task of this instance holds it.
    pub fn lookup(&self, key: &str) -> Option<serde_json::Value> {
        self.tasks
            .values()
            .filter_map(|t| t.store.as_ref())
            .find_map(|s| match s.with(key, |state| serde_json::to_value(state)) {
                Ok(found) => found.and_then(Result::ok),
                Err(e) => {
                    tracing::error!(error = %e, "a lookup found a state it cannot read back");
                    None
                }
            })
    }

    /// The partitions this instance owns.
    pub fn owned_partitions(&self) -> Vec<i32> {
        let mut p: Vec<i32> = self.tasks.keys().map(|t| t.partition).collect();
        p.dedup();
        p
    }

    /// Joined, and every task restored.
    pub fn ready(&self) -> bool {
        self.joined && self.restoring.is_empty()
    }

    /// Records on the log beyond this instance's position, over every partition it
    /// owns, as the transport knows it.
    pub fn lag(&self) -> i64 {
        self.assigned
            .iter()
            .filter_map(|tp| self.transport.lag(tp))
            .sum()
    }

    /// One line per task: its buffered records, frontier and next step, for
    /// diagnosing a stall.
    pub fn describe(&self) -> String {
        let clock = self.clockwork();
        let mut out = String::new();
        for (id, t) in &self.tasks {
            let queues: Vec<String> = t
                .queues
                .iter()
                .map(|q| {
                    format!(
                        "{}{}@{} {}",
                        q.len(),
                        if q.at_end { "e" } else { "" },
                        q.frontier(&clock),
                        q.describe()
                    )
                })
                .collect();
            out.push_str(&format!(
                "task {id}: {queues:?} next {:?} floor {} sent {}\n",
                t.next(&clock),
                t.floor,
                t.sent_watermark
            ));
        }
        for id in self.restoring.keys() {
            out.push_str(&format!("task {id}: restoring\n"));
        }
        out
    }

    /// Tasks stopped because their changelog cannot be read, and why.
    pub fn failed_tasks(&self) -> &BTreeMap<TaskId, String> {
        &self.failed
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    pub fn processor(&self) -> &P {
        &self.processor
    }

    fn transactional(&self) -> bool {
        self.config.delivery == DeliveryMode::Transactional
    }
}
