//! Committing: outputs acknowledged, changed state to the changelog, offsets and
//! checkpoints, then watermarks; or all of it in one transaction. And rewinding
//! to the last commit when a transaction fails or a decision panicked.

use super::output::content_fingerprint;
use super::{Engine, EngineError};
use crate::changelog;
use crate::checkpoint::Checkpoint;
use crate::config::millis;
use crate::metrics::engine as metrics;
use crate::processor::Processor;
use crate::record::{Outgoing, TopicPartition};
use crate::task::{Next, TaskId};
use crate::transport::{DeliveryFailure, OffsetCommit, Transport, TransportError};
use std::sync::Arc;
use std::time::Instant;
use wismo_codec::dead_letter_kind;
use wismo_core::model::Origin;

impl<P: Processor, T: Transport> Engine<P, T> {
    /// Commits if anything happened since the last commit, or a watermark is due.
    pub(super) fn commit_if_due(&mut self) -> Result<bool, EngineError> {
        if !self.commit_due() && self.pending.is_none() {
            self.last_commit = self.now_ms();
            return Ok(false);
        }
        self.commit(false)?;
        Ok(true)
    }

    /// Something was decided, a transaction is open or a watermark is due.
    pub(super) fn commit_due(&self) -> bool {
        let clock = self.clockwork();
        let heartbeat = millis(self.config.watermark_heartbeat);
        let watermark_due = self.tasks.values().any(|t| {
            !self.groups[t.id.group].writes.is_empty()
                && (t.output_watermark(&clock) > t.sent_watermark
                    || clock.wall.saturating_sub(t.watermark_sent_at) >= heartbeat)
        });
        self.uncommitted || watermark_due || self.transaction_open
    }

    /// Commits now, and waits until it is done: what a driver of the in-memory
    /// log calls between rounds.
    pub fn commit_now(&mut self) -> Result<(), EngineError> {
        self.commit(true)
    }

    /// Commits as the service does when its interval is up: at least once, the
    /// offsets follow once the changelog is acknowledged (a later round or
    /// commit). For drivers of the in-memory log.
    pub fn commit_pipelined(&mut self) -> Result<(), EngineError> {
        self.commit(false)
    }

    /// `wait`: an at-least-once commit finishes before this returns; without it,
    /// its offsets are committed once its changelog is acknowledged
    /// ([`super::pipeline`]).
    fn commit(&mut self, wait: bool) -> Result<(), EngineError> {
        let started = Instant::now();
        let result = if self.transactional() {
            self.commit_transaction().map(|()| true)
        } else {
            self.commit_at_least_once(wait)
                .map(|committed| committed && wait)
        };
        self.last_commit = self.now_ms();
        match result {
            Ok(committed) => {
                self.uncommitted = false;
                for task in self.tasks.values_mut() {
                    // Saved only if its checkpoint was in a finished commit.
                    if committed && task.breaker.in_commit {
                        task.breaker.unsaved = false;
                    }
                    task.breaker.in_commit = false;
                }
                let m = metrics();
                m.commits.inc();
                m.commit_seconds.observe(started.elapsed().as_secs_f64());
                self.update_gauges();
                Ok(())
            }
            Err(EngineError::Transport(TransportError::Refused(failures)))
                if self.transactional() =>
            {
                for f in &failures {
                    tracing::warn!(topic = %f.record.topic, error = %f.error, "the broker refused an output of the transaction; decided again, it goes to dead-letter");
                    self.refused_outputs.insert((
                        f.record.topic.clone(),
                        content_fingerprint(
                            f.record.key.as_deref().unwrap_or_default(),
                            f.record.value.as_deref().unwrap_or_default(),
                        ),
                    ));
                }
                self.rewind_to_commit("refused")
            }
            Err(EngineError::Transport(TransportError::Failed(e))) if self.transactional() => {
                tracing::warn!(error = %e, "transaction failed; rewinding to the last commit");
                self.rewind_to_commit("transaction")
            }
            Err(EngineError::Transport(TransportError::ProducerReplaced(e))) => {
                self.producer_replaced(&e)
            }
            Err(e) => Err(e),
        }
    }

    /// The transport replaced a producer that failed for good: its open
    /// transaction is aborted (the new producer fenced it), and what it sent
    /// since the last commit is decided again.
    pub(super) fn producer_replaced(&mut self, error: &str) -> Result<(), EngineError> {
        tracing::warn!(%error, "the producer failed for good and was replaced; rewinding to the last commit");
        self.transaction_open = false;
        self.rewind_to_commit("producer")
    }

    fn commit_transaction(&mut self) -> Result<(), EngineError> {
        if !self.transaction_open {
            self.transport.begin_transaction()?;
            self.transaction_open = true;
        }
        let mut stages = Stages::start();
        self.write_changelog()?;
        stages.done("changelog_encode");
        let (offsets, watermarks) = self.offsets_and_watermarks();
        self.send_watermarks(watermarks)?;
        // Open until it is committed: a commit that fails leaves it to abort.
        self.transport.commit_transaction(&offsets)?;
        stages.done("transaction");
        self.transaction_open = false;
        self.purge_committed(&offsets);
        self.observe_detection();
        Ok(())
    }

    /// Waits for every output's acknowledgement; an output refused for good
    /// becomes a dead letter (once: a dead letter that is refused too is counted
    /// and logged, and never stops the service).
    pub(super) fn flush_outputs(&mut self) -> Result<(), EngineError> {
        let failures = self.transport.flush()?;
        self.observe_detection();
        if failures.is_empty() {
            return Ok(());
        }
        for failure in &failures {
            let letter = self.undeliverable(failure);
            self.send(letter)?;
        }
        for failure in self.transport.flush()? {
            metrics().dead_letters.with_label_values(&["lost"]).inc();
            tracing::error!(topic = %failure.record.topic, error = %failure.error, "a dead letter was refused too; counted as lost");
        }
        Ok(())
    }

    fn undeliverable(&self, failure: &DeliveryFailure) -> Outgoing {
        metrics()
            .dead_letters
            .with_label_values(&[dead_letter_kind::UNDELIVERABLE])
            .inc();
        tracing::warn!(topic = %failure.record.topic, error = %failure.error, "output refused by the broker; to dead-letter");
        let origin = Origin {
            topic: failure.record.topic.to_string(),
            partition: failure.record.partition.unwrap_or(-1),
            offset: -1,
        };
        let value = failure.record.value.clone();
        // A refused record may come back without its timestamp: then it failed now.
        let at = match failure.record.timestamp {
            t if t > 0 => t,
            _ => self.now_ms(),
        };
        let letter = self.dead_letters.letter(
            &origin,
            failure.record.key.clone(),
            value,
            dead_letter_kind::UNDELIVERABLE,
            &format!("the broker refused this output: {}", failure.error),
            chrono::DateTime::from_timestamp_millis(at).unwrap_or_default(),
        );
        Outgoing {
            topic: Arc::from(letter.topic.as_str()),
            partition: None,
            key: Some(letter.key.into_bytes()),
            value: Some(letter.payload),
            timestamp: at,
            source: None,
            watermark: None,
        }
    }

    pub(super) fn write_changelog(&mut self) -> Result<(), EngineError> {
        let Some(changelog) = self.topology.changelog.clone() else {
            return Ok(());
        };
        let topic: Arc<str> = Arc::from(changelog.as_str());
        let wall = self.now_ms();
        let mut records = Vec::new();
        for task in self.tasks.values_mut() {
            let Some(store) = task.store.as_mut() else {
                continue;
            };
            if !store.has_changes() {
                continue;
            }
            let position = task.position();
            let Some(store) = task.store.as_mut() else {
                continue;
            };
            let changes = store
                .drain_changes(|s| changelog::encode_entry(P::STATE_SUBJECT, &position, s))
                .map_err(|(key, source)| changelog::StateEncodeError { key, source })?;
            store
                .evict(|s| changelog::encode_state(P::STATE_SUBJECT, s))
                .map_err(|(key, source)| changelog::StateEncodeError { key, source })?;
            for (key, state) in changes {
                records.push(Outgoing {
                    topic: topic.clone(),
                    partition: Some(task.id.partition),
                    key: Some(key.into_bytes()),
                    value: state,
                    timestamp: wall,
                    source: None,
                    watermark: None,
                });
            }
        }
        for r in records {
            self.send(r)?;
        }
        Ok(())
    }

    /// The offsets to commit with each task's checkpoint, and the watermarks to
    /// announce once that checkpoint is committed (the floor is raised first, so
    /// no later output is stamped below an announced watermark).
    pub(super) fn offsets_and_watermarks(&mut self) -> (Vec<OffsetCommit>, Vec<(TaskId, i64)>) {
        let clock = self.clockwork();
        let heartbeat = millis(self.config.watermark_heartbeat);
        let mut offsets = Vec::new();
        let mut watermarks = Vec::new();
        for task in self.tasks.values_mut() {
            if !self.groups[task.id.group].writes.is_empty() {
                let mark = task.output_watermark(&clock);
                if mark > task.sent_watermark
                    || clock.wall.saturating_sub(task.watermark_sent_at) >= heartbeat
                {
                    task.floor = task.floor.max(mark);
                    task.sent_watermark = mark;
                    task.watermark_sent_at = clock.wall;
                    watermarks.push((task.id, mark));
                }
            }
            // Read to the end of every input, nothing left and nothing due: what
            // crashed the process, if anything, was not this task's.
            let idle = task.buffered() == 0 && task.queues.iter().all(|q| q.at_end);
            if idle && task.next(&clock) == Next::Wait {
                task.breaker.idle_at_commit();
            }
            for (tp, queue) in task.partitions.iter().zip(&task.queues) {
                if let Some(offset) = queue.commit_offset() {
                    let checkpoint = Checkpoint {
                        stream_time: task.stream_time,
                        floor: task.floor,
                        writer_count: queue.writer_count(),
                        writers: queue.writer_marks(),
                        restarts: task.breaker.restarts,
                        deciding: task.breaker.marker,
                    };
                    task.breaker.in_commit = true;
                    offsets.push(OffsetCommit {
                        partition: tp.clone(),
                        offset,
                        metadata: checkpoint.encode(),
                    });
                }
            }
        }
        (offsets, watermarks)
    }

    /// Sends each task's watermark to every partition of the topics it writes.
    pub(super) fn send_watermarks(
        &mut self,
        watermarks: Vec<(TaskId, i64)>,
    ) -> Result<(), EngineError> {
        for (id, mark) in watermarks {
            let Some(source) = self.tasks.get(&id).map(|t| t.source) else {
                continue;
            };
            for topic in self.groups[id.group].writes.clone() {
                let partitions = self.partition_counts.get(&topic).copied().unwrap_or(1);
                let topic: Arc<str> = Arc::from(topic.as_str());
                for p in 0..partitions {
                    self.transport.send(Outgoing {
                        topic: topic.clone(),
                        partition: Some(p),
                        key: None,
                        value: None,
                        timestamp: mark.max(0),
                        source: Some(source),
                        watermark: Some(mark),
                    })?;
                    metrics().watermarks_sent.inc();
                }
            }
        }
        Ok(())
    }

    fn observe_detection(&mut self) {
        let now = self.now_ms();
        let m = metrics();
        for t in self.detectable.drain(..) {
            m.detection_lag_seconds
                .observe((now - t).max(0) as f64 / 1000.0);
        }
    }

    /// Forgets everything since the last commit: the open transaction is aborted,
    /// every task is dropped and formed again from its changelog and committed
    /// offsets (Kafka Streams closes a corrupted task dirty the same way).
    pub(super) fn rewind_to_commit(&mut self, cause: &'static str) -> Result<(), EngineError> {
        metrics().aborts.with_label_values(&[cause]).inc();
        if self.transaction_open {
            // After a failed commit the transaction may be aborted already, or
            // committed after all; either way what follows starts from the
            // committed offsets. A producer that cannot go on fails its next begin.
            if let Err(e) = self.transport.abort_transaction() {
                tracing::warn!(error = %e, "aborting the transaction failed");
            }
            self.transaction_open = false;
        } else {
            // What is in flight is already decided; it is repeated after the rewind
            // (a producer replaced meanwhile took its share with it).
            match self.transport.flush() {
                Ok(_) | Err(TransportError::ProducerReplaced(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.detectable.clear();
        self.pending = None;
        let owned: Vec<TopicPartition> = self.assigned.iter().cloned().collect();
        let committed = self.transport.committed(&owned)?;
        for (tp, c) in owned.iter().zip(committed) {
            self.transport.seek(tp, c.offset)?;
        }
        self.rewound = (self.tasks.iter())
            .chain(self.restoring.iter())
            .map(|(id, t)| (*id, t.breaker.clone()))
            .collect();
        self.tasks.clear();
        self.careful_task = None;
        self.restoring.clear();
        self.route.clear();
        self.orphans.clear();
        self.ended_orphans.clear();
        self.transport.pause(&owned);
        self.paused.extend(owned);
        self.uncommitted = false;
        let formed = self.form_tasks();
        self.rewound.clear();
        formed
    }

    fn update_gauges(&self) {
        let m = metrics();
        let stores = self.tasks.values().filter_map(|t| t.store.as_ref());
        m.state_keys
            .set(stores.clone().map(|s| s.len() as i64).sum());
        m.state_keys_decoded
            .set(stores.clone().map(|s| s.decoded_len() as i64).sum());
        m.timers_open
            .set(stores.map(|s| s.timer_count() as i64).sum());
        m.buffered_records
            .set(self.tasks.values().map(|t| t.buffered() as i64).sum());
        m.spilled_records.set(
            self.tasks
                .values()
                .flat_map(|t| t.queues.iter())
                .map(|q| q.spilled() as i64)
                .sum(),
        );
    }
}

/// Times the stages of one commit into `wismo_stage_seconds`.
pub(super) struct Stages(Instant);

impl Stages {
    pub(super) fn start() -> Self {
        Stages(Instant::now())
    }

    /// Observes the stage that ends now; the next one starts.
    pub(super) fn done(&mut self, stage: &str) {
        let now = Instant::now();
        metrics()
            .stage_seconds
            .with_label_values(&[stage])
            .observe(now.duration_since(self.0).as_secs_f64());
        self.0 = now;
    }
}
