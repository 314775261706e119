//! Partitions coming and going: tasks formed once every input of a group's
//! partition is owned, restored from the changelog before they decide anything,
//! and dropped when an input is revoked.

use super::{Engine, EngineError};
use crate::breaker::{Breaker, Marker, Start};
use crate::changelog;
use crate::checkpoint::Checkpoint;
use crate::metrics::engine as metrics;
use crate::processor::Processor;
use crate::record::{Record, Source, TopicPartition};
use crate::store::StateStore;
use crate::task::{InputQueue, Pushed, Task, TaskId};
use crate::transport::Transport;

/// Why a record or timer found in a crash loop goes to dead-letter.
const CRASHED: &str = "processing failed repeatedly: the service restarted twice while deciding it";

impl<P: Processor, T: Transport> Engine<P, T> {
    pub(super) fn assign(&mut self, tps: Vec<TopicPartition>) -> Result<(), EngineError> {
        self.joined = true;
        if tps.is_empty() {
            return Ok(());
        }
        metrics().rebalances.with_label_values(&["assigned"]).inc();
        // Nothing is fetched for a partition until its task is ready.
        self.transport.pause(&tps);
        self.paused.extend(tps.iter().cloned());
        self.assigned.extend(tps);
        self.form_tasks()?;
        tracing::info!(partitions = ?self.owned_numbers(), "partitions assigned");
        self.tell_assignment();
        Ok(())
    }

    fn tell_assignment(&mut self) {
        let Some(topic) = self.topology.keyed.first().map(|i| i.topic.clone()) else {
            return;
        };
        let owned = self
            .assigned
            .iter()
            .filter(|tp| *tp.topic == *topic)
            .count();
        let of = self
            .partition_counts
            .get(&topic)
            .copied()
            .unwrap_or(1)
            .max(1) as usize;
        self.processor.on_assignment(owned, of);
    }

    fn owned_numbers(&self) -> Vec<i32> {
        let mut p: Vec<i32> = self.assigned.iter().map(|tp| tp.partition).collect();
        p.sort_unstable();
        p.dedup();
        p
    }

    pub(super) fn revoke(&mut self, tps: Vec<TopicPartition>) {
        metrics().rebalances.with_label_values(&["revoked"]).inc();
        let lost: Vec<TaskId> = tps
            .iter()
            .filter_map(|tp| self.route.get(tp).map(|(id, _)| *id))
            .collect();
        for tp in &tps {
            self.assigned.remove(tp);
            self.paused.remove(tp);
            self.route.remove(tp);
            self.orphans.remove(tp);
            self.ended_orphans.remove(tp);
        }
        self.forget_pending(&tps, &lost);
        for id in lost {
            if let Some(task) = self.tasks.remove(&id) {
                for tp in &task.partitions {
                    self.route.remove(tp);
                }
            }
            self.restoring.remove(&id);
            self.failed.remove(&id);
        }
        // An open transaction may hold outputs of the revoked tasks: committing it
        // without their offsets would repeat them at the new owner.
        if self.transactional() && self.transaction_open {
            self.rewind = Some("revoked");
        }
        tracing::info!(partitions = ?self.owned_numbers(), "partitions revoked");
        self.tell_assignment();
        metrics()
            .partitions_assigned
            .set(self.assigned.len() as i64);
    }

    /// Creates the tasks whose inputs are all owned and that do not exist yet.
    pub(super) fn form_tasks(&mut self) -> Result<(), EngineError> {
        let candidates: Vec<TaskId> = self
            .assigned
            .iter()
            .filter_map(|tp| {
                let group = self
                    .groups
                    .iter()
                    .position(|g| g.inputs.iter().any(|(t, _)| **t == *tp.topic))?;
                Some(TaskId {
                    group,
                    partition: tp.partition,
                })
            })
            .collect();
        for id in candidates {
            if self.tasks.contains_key(&id)
                || self.restoring.contains_key(&id)
                || self.failed.contains_key(&id)
            {
                continue;
            }
            let partitions: Vec<TopicPartition> = self.groups[id.group]
                .inputs
                .iter()
                .map(|(topic, _)| TopicPartition::new(topic.clone(), id.partition))
                .collect();
            if !partitions.iter().all(|tp| self.assigned.contains(tp)) {
                continue;
            }
            self.create_task(id, partitions)?;
        }
        Ok(())
    }

    fn create_task(
        &mut self,
        id: TaskId,
        partitions: Vec<TopicPartition>,
    ) -> Result<(), EngineError> {
        let wall = self.now_ms();
        let committed = self.transport.committed(&partitions)?;
        let checkpoints: Vec<Option<Checkpoint>> = committed
            .iter()
            .map(|c| Checkpoint::decode(&c.metadata))
            .collect();
        let checkpoint = checkpoints
            .iter()
            .flatten()
            .fold(Checkpoint::default(), |a, b| a.later_time(b));
        let of = self
            .partition_counts
            .get(&*partitions[0].topic)
            .copied()
            .unwrap_or(1)
            .max(1) as u32;
        let queues = self.groups[id.group]
            .inputs
            .iter()
            .zip(checkpoints.iter().zip(&committed))
            .enumerate()
            .map(|(rank, ((_, internal), (c, at)))| {
                let limit = if *internal {
                    self.config.max_merged_records
                } else {
                    self.config.max_buffered_records
                };
                let spill_dir = self.config.spill_dir.clone();
                let mut q = InputQueue::new(rank, *internal, wall, limit, spill_dir);
                q.start_at(at.offset);
                if let Some(c) = c {
                    q.resume(&c.writers, c.writer_count, wall);
                }
                q
            })
            .collect();
        let keyed = id.group == 0 && !self.topology.keyed.is_empty();
        let task = Task {
            id,
            partitions: partitions.clone(),
            queues,
            store: keyed.then(|| self.new_store()),
            source: Source {
                task: id.partition.max(0) as u32,
                of,
            },
            stream_time: checkpoint.stream_time,
            floor: checkpoint.floor,
            sent_watermark: i64::MIN,
            watermark_sent_at: i64::MIN,
            breaker: self.breaker_start(id, &partitions, &checkpoint),
            ahead: Default::default(),
        };
        for (i, tp) in partitions.iter().enumerate() {
            self.route.insert(tp.clone(), (id, i));
        }
        let mut task = task;
        for (i, tp) in partitions.iter().enumerate() {
            for record in self.orphans.remove(tp).unwrap_or_default() {
                counted(task.queues[i].push(record, wall));
            }
            if self.ended_orphans.remove(tp) {
                task.queues[i].at_end = true;
            }
        }
        match (&self.topology.changelog, keyed) {
            (Some(changelog), true) => {
                self.transport
                    .start_restore(TopicPartition::new(changelog.as_str(), id.partition));
                self.restoring.insert(id, task);
                metrics().tasks_restoring.set(self.restoring.len() as i64);
            }
            _ => self.activate(task),
        }
        Ok(())
    }

    /// The task's breaker as its checkpoint left it; what it crashed on twice is
    /// poison from now on.
    fn breaker_start(
        &mut self,
        id: TaskId,
        partitions: &[TopicPartition],
        checkpoint: &Checkpoint,
    ) -> Breaker {
        let mut start = match self.rewound.remove(&id) {
            // Formed again by a rewind in this process: no crash is behind it.
            Some(breaker) => Start {
                breaker: Breaker {
                    unsaved: true,
                    in_commit: false,
                    ..breaker
                },
                poison: None,
            },
            None => Breaker::start(
                checkpoint.restarts,
                checkpoint.deciding,
                &self.config.breaker,
            ),
        };
        if start.breaker.marker.is_some() {
            // One named item per process (another instance may have named one too).
            match self.careful_task {
                None => self.careful_task = Some(id),
                Some(named) if named == id => {}
                Some(_) => start.breaker.marker = None,
            }
        }
        if start.breaker.careful() {
            tracing::warn!(task = %id, restarts = start.breaker.restarts, "task restarted without progress; deciding one record per commit");
        }
        match start.poison {
            Some(Marker::Record { input, offset }) => {
                if let Some(tp) = partitions.get(input) {
                    tracing::error!(task = %id, topic = %tp.topic, partition = tp.partition, offset, "the service crashed twice deciding this record; it goes to dead-letter");
                    metrics().crash_loops_broken.inc();
                    self.poison.insert((tp.clone(), offset), CRASHED);
                }
            }
            Some(Marker::Timer { key, due }) => {
                tracing::error!(task = %id, due, "the service crashed twice firing a timer; it goes to dead-letter");
                metrics().crash_loops_broken.inc();
                self.poisoned_timers.insert((key, due), CRASHED);
            }
            None => {}
        }
        start.breaker
    }

    fn activate(&mut self, task: Task<P::State>) {
        let resume: Vec<TopicPartition> = task
            .partitions
            .iter()
            .filter(|tp| self.paused.contains(*tp))
            .cloned()
            .collect();
        self.tasks.insert(task.id, task);
        self.resume_partitions(resume);
        metrics()
            .partitions_assigned
            .set(self.assigned.len() as i64);
    }

    fn new_store(&self) -> StateStore<P::State> {
        StateStore::bounded(self.config.max_decoded_states, decode_state::<P>)
    }

    /// Loads every finished restore into its task and lets the task run.
    pub(super) fn finish_restores(&mut self) -> Result<bool, EngineError> {
        let finished = self.transport.finished_restores();
        let any = !finished.is_empty();
        for (changelog, result) in finished {
            let id = TaskId {
                group: 0,
                partition: changelog.partition,
            };
            let Some(mut task) = self.restoring.remove(&id) else {
                continue;
            };
            let started = std::time::Instant::now();
            let entries = result?;
            let mut store = self.new_store();
            let mut failure = None;
            // Formed from the checkpoint and restoring: nothing decided since.
            let committed = task.position();
            for entry in &entries {
                match changelog::decode_entry::<P::State>(
                    P::STATE_SUBJECT,
                    &entry.value,
                    &changelog.topic,
                    changelog.partition,
                    entry.offset,
                ) {
                    Ok(e) => {
                        let deadline = self.processor.next_deadline(&e.state);
                        store.restore(entry.key.clone(), e.state, deadline, e.state_bytes, e.avro);
                        if let Some(p) = e.position.filter(|p| p.beyond(&committed)) {
                            task.ahead.insert(entry.key.clone(), p);
                        }
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            if let Some(e) = failure {
                // Stopped, not skipped: deciding without this state would send
                // wrong commands. The rest of the instance goes on.
                tracing::error!(task = %id, error = %e, "changelog entry cannot be read; partition stopped");
                self.failed.insert(id, e.to_string());
                continue;
            }
            let m = metrics();
            m.restore_seconds.observe(started.elapsed().as_secs_f64());
            m.restored_keys.inc_by(store.len() as u64);
            tracing::info!(%changelog, keys = store.len(), "state restored");
            task.store = Some(store);
            self.activate(task);
        }
        metrics().tasks_restoring.set(self.restoring.len() as i64);
        Ok(any)
    }

    /// Puts a fetched record in its task's queue.
    pub(super) fn route_record(&mut self, mut record: Record) {
        let tp = record.topic_partition();
        let Some((id, input)) = self.route.get(&tp).copied() else {
            // Owned, but its task waits for the rest of its inputs: kept for it (the
            // partition is paused, so this is bounded). Not owned: given up between
            // fetch and now, and fetched again by its new owner.
            if self.assigned.contains(&tp) {
                // A record after the end was reported: the end is no longer known.
                self.ended_orphans.remove(&tp);
                self.orphans.entry(tp).or_default().push(record);
            }
            return;
        };
        let wall = self.now_ms();
        // A producer's clock cannot move time past the wall clock.
        let latest = wall.saturating_add(crate::config::millis(self.config.max_future_timestamp));
        record.timestamp = record.timestamp.min(latest);
        self.consumed.inc(&metrics().consumed, &record.topic);
        let task = match self.tasks.get_mut(&id) {
            Some(t) => t,
            None => match self.restoring.get_mut(&id) {
                Some(t) => t,
                None => return,
            },
        };
        if let Some(queue) = task.queues.get_mut(input) {
            counted(queue.push(record, wall));
        }
    }

    pub(super) fn queue_mut(&mut self, tp: &TopicPartition) -> Option<&mut InputQueue> {
        let (id, input) = self.route.get(tp).copied()?;
        let task = match self.tasks.get_mut(&id) {
            Some(t) => t,
            None => self.restoring.get_mut(&id)?,
        };
        task.queues.get_mut(input)
    }
}

fn counted(pushed: Pushed) {
    match pushed {
        Pushed::Kept => {}
        Pushed::Spilled => metrics().spilled_total.inc(),
        Pushed::Repeated => metrics().repeated_total.inc(),
    }
}

fn decode_state<P: Processor>(bytes: &[u8]) -> Result<P::State, String> {
    changelog::decode_state(P::STATE_SUBJECT, bytes).map_err(|e| e.to_string())
}
