//! Letting each task decide what it can: records in time order, timers at their
//! deadlines, bad records to dead-letter, and a decision that panics caught at the
//! boundary of that one record.

use super::{Engine, EngineError};
use crate::metrics::engine as metrics;
use crate::processor::{Decoded, InputRecord, Processor, Rejection};
use crate::record::Record;
use crate::task::{Next, Task, TaskId};
use crate::transport::Transport;
use std::panic::{catch_unwind, AssertUnwindSafe};
use wismo_codec::dead_letter_kind;
use wismo_core::model::{Origin, Timestamp};

/// Why a record or timer whose decision panicked goes to dead-letter.
const PANICKED: &str = "processing failed repeatedly: its decision panicked";

pub(super) fn at(ms: i64) -> Timestamp {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    // A panic message may quote what the decision was given: short, one line.
    wismo_core::quote::bounded(&text.chars().take(200).collect::<String>())
}

impl<P: Processor, T: Transport> Engine<P, T> {
    /// Runs every task until it must wait or has used its budget.
    pub(super) fn process_tasks(&mut self) -> Result<bool, EngineError> {
        if let Some(id) = self.careful_task {
            // While a checkpoint names an item, nothing else is decided: a crash
            // then is that item's.
            if let Some(progress) = self.careful_step(id)? {
                return Ok(progress);
            }
        }
        let ids: Vec<TaskId> = self.tasks.keys().copied().collect();
        let mut progress = false;
        for id in ids {
            let Some(mut task) = self.tasks.remove(&id) else {
                continue;
            };
            let result = self.run_task(&mut task);
            self.tasks.insert(id, task);
            progress |= result?;
            if self.rewind.is_some() {
                break;
            }
        }
        Ok(progress)
    }

    /// One step of careful mode for the task `id` named: wait for the commit
    /// naming its item, decide that item alone, then wait for the commit saying
    /// it was decided (and naming the task's next item, if it has one).
    /// `None` once the turn is over and the other tasks may decide.
    fn careful_step(&mut self, id: TaskId) -> Result<Option<bool>, EngineError> {
        let Some(mut task) = self.tasks.remove(&id) else {
            if self.restoring.contains_key(&id) {
                return Ok(Some(false));
            }
            self.careful_task = None;
            return Ok(None);
        };
        let result = self.careful_decision(&mut task);
        self.tasks.insert(id, task);
        if result.as_ref().is_ok_and(Option::is_none) {
            self.careful_task = None;
        }
        result
    }

    fn careful_decision(&mut self, task: &mut Task<P::State>) -> Result<Option<bool>, EngineError> {
        if task.breaker.unsaved {
            self.commit_wanted = true;
            return Ok(Some(false));
        }
        // Decided, and that is committed: the others may go on.
        let Some(named) = task.breaker.marker.take() else {
            return Ok(None);
        };
        task.breaker.unsaved = true;
        self.commit_wanted = true;
        let next = task.next(&self.clockwork());
        if task.marker(&next) != Some(named) {
            // What was named is no longer next (a timer moved): name again.
            return Ok(Some(false));
        }
        match next {
            Next::Wait => return Ok(Some(false)),
            Next::Timer(deadline, key) => self.fire(task, deadline, key)?,
            Next::Record(input) => {
                let Some(record) = task.pop(input) else {
                    return Ok(Some(false));
                };
                self.decide(task, input, record)?;
            }
        }
        self.uncommitted = true;
        task.breaker.decided();
        if task.breaker.careful() {
            // The commit saying this was decided names what this task decides next.
            let next = task.next(&self.clockwork());
            if let Some(marker) = task.marker(&next) {
                task.breaker.name(marker);
            }
        }
        Ok(Some(true))
    }

    fn run_task(&mut self, task: &mut Task<P::State>) -> Result<bool, EngineError> {
        // Its restart (or what it decides next) is committed first, once it has
        // an offset to commit it with.
        if task.breaker.unsaved && task.queues.iter().any(|q| q.commit_offset().is_some()) {
            self.commit_wanted = true;
            return Ok(false);
        }
        let mut done = 0;
        while done < self.config.task_budget {
            let clock = self.clockwork();
            for q in task.queues.iter_mut() {
                let n = q.note_timeouts(&clock);
                if n > 0 {
                    metrics().upstream_timeouts.inc_by(n as u64);
                    tracing::warn!(task = %task.id, writers = n, "an upstream writer fell silent; no longer waiting for it");
                }
            }
            let next = task.next(&clock);
            if task.breaker.careful() && task.queues.iter().any(|q| q.commit_offset().is_some()) {
                // Name what is decided next; it is decided once that is committed.
                let Some(marker) = task.marker(&next) else {
                    break;
                };
                if self.careful_task.is_none() {
                    task.breaker.name(marker);
                    self.careful_task = Some(task.id);
                    self.commit_wanted = true;
                }
                break;
            }
            match next {
                Next::Wait => break,
                Next::Timer(deadline, key) => self.fire(task, deadline, key)?,
                Next::Record(input) => {
                    if task.proceeds_without_an_input() {
                        metrics().idle_proceeds.inc();
                    }
                    let Some(record) = task.pop(input) else {
                        break;
                    };
                    self.decide(task, input, record)?;
                }
            }
            self.uncommitted = true;
            done += 1;
            task.breaker.decided();
            if self.rewind.is_some() {
                break;
            }
        }
        Ok(done > 0)
    }

    fn decide(
        &mut self,
        task: &mut Task<P::State>,
        input: usize,
        record: Record,
    ) -> Result<(), EngineError> {
        let now = at(record.timestamp);
        let view = InputRecord {
            topic: &record.topic,
            partition: record.partition,
            offset: record.offset,
            key: record.key.as_deref(),
            payload: record.value.as_deref(),
        };
        self.deciding = Some(view.origin());
        if let Some(reason) = self
            .poison
            .get(&(record.topic_partition(), record.offset))
            .copied()
        {
            let letter =
                self.dead_letters
                    .for_input(&view, dead_letter_kind::PROCESSING, reason, now);
            metrics()
                .dead_letters
                .with_label_values(&[dead_letter_kind::PROCESSING])
                .inc();
            return self.emit(task, letter, record.timestamp);
        }
        if let Some(key) = self.config.crash_on_key.as_deref() {
            if view.key == Some(key.as_bytes()) {
                return Err(EngineError::FailPoint(format!(
                    "failpoint: deciding {}/{}@{} crashes the service",
                    record.topic, record.partition, record.offset
                )));
            }
        }
        let fatal = self.config.fatal_on_key.as_deref().map(str::as_bytes);
        if !self.producer_failed && fatal.is_some() && view.key == fatal {
            self.producer_failed = true;
            self.transport.fail_producer();
        }
        let keyed_task = task.store.is_some();
        let failpoint = self.config.panic_on_key.as_deref();
        let processor = &mut self.processor;
        let store = &mut task.store;
        let ahead = &task.ahead;
        let writer = record.source.map(|s| s.task);
        let mut unreadable = None;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            if failpoint.is_some() && view.key == failpoint.map(str::as_bytes) {
                panic!("failpoint: a decision that panics");
            }
            let decoded = processor.decode(&view)?;
            Ok::<_, Rejection>(match decoded {
                Decoded::Forward(records) => records,
                Decoded::Keyed { key, input: event } => {
                    let Some(store) = store.as_mut().filter(|_| keyed_task) else {
                        return Err(Rejection::invalid(
                            "a record of a forward-only topic decoded to a keyed input",
                        ));
                    };
                    if ahead
                        .get(&key)
                        .is_some_and(|p| p.covers(input, writer, record.offset))
                    {
                        // Its state holds this decision already, and its outputs
                        // were acknowledged before that state was written.
                        metrics().repeated_total.inc();
                        return Ok(Vec::new());
                    }
                    let state = match store.take(&key) {
                        Ok(state) => state,
                        Err(e) => {
                            unreadable = Some(e);
                            return Ok(Vec::new());
                        }
                    };
                    let step = processor.decide(&key, state, event, now);
                    let deadline = step.state.as_ref().and_then(|s| processor.next_deadline(s));
                    store.put(key, step.state, deadline);
                    step.records
                }
            })
        }));
        if let Some(e) = unreadable {
            // Not the record's fault: the service stops before committing it.
            return Err(e.into());
        }
        match outcome {
            Ok(Ok(records)) => {
                for r in records {
                    self.emit(task, r, record.timestamp)?;
                }
                Ok(())
            }
            Ok(Err(rejection)) => {
                metrics()
                    .dead_letters
                    .with_label_values(&[rejection.kind.as_str()])
                    .inc();
                tracing::warn!(topic = %record.topic, partition = record.partition, offset = record.offset, kind = rejection.kind.as_str(), reason = %rejection.reason, "record rejected to dead-letter");
                let letter = self.dead_letters.for_input(
                    &view,
                    rejection.kind.as_str(),
                    &rejection.reason,
                    now,
                );
                self.emit(task, letter, record.timestamp)
            }
            Err(payload) => {
                // The key's state went into the decision: rewind to the last commit,
                // and on the way back send this record to dead-letter instead.
                tracing::error!(topic = %record.topic, partition = record.partition, offset = record.offset, panic = %panic_message(&*payload), "decision panicked; rewinding, the record goes to dead-letter");
                self.poison
                    .insert((record.topic_partition(), record.offset), PANICKED);
                self.rewind = Some("panic");
                Ok(())
            }
        }
    }

    fn fire(
        &mut self,
        task: &mut Task<P::State>,
        deadline: Timestamp,
        key: String,
    ) -> Result<(), EngineError> {
        let due = deadline.timestamp_millis();
        self.deciding = Some(Origin {
            topic: format!("timer:{key}"),
            partition: task.id.partition,
            offset: due,
        });
        task.stream_time = task.stream_time.max(due);
        let Some(store) = task.store.as_mut() else {
            return Ok(());
        };
        let Some(state) = store.take(&key)? else {
            store.put(key, None, None);
            return Ok(());
        };
        let fingerprint = crate::store::fingerprint(key.as_bytes());
        if let Some(reason) = self.poisoned_timers.get(&(fingerprint, due)).copied() {
            // Keep the state, drop this deadline; the next decision re-arms timers.
            store.put(key.clone(), Some(state), None);
            let origin = Origin {
                topic: format!("timer:{key}"),
                partition: task.id.partition,
                offset: due,
            };
            let letter = self.dead_letters.letter(
                &origin,
                Some(key.into_bytes()),
                None,
                dead_letter_kind::PROCESSING,
                reason,
                deadline,
            );
            return self.emit(task, letter, due);
        }
        let processor = &mut self.processor;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let step = processor.on_timer(&key, state, deadline);
            let next = step.state.as_ref().and_then(|s| processor.next_deadline(s));
            (step, next)
        }));
        let (step, next) = match outcome {
            Ok(v) => v,
            Err(payload) => {
                tracing::error!(key = %wismo_core::quote::quote(&key), deadline = %deadline, panic = %panic_message(&*payload), "timer panicked; rewinding, the timer goes to dead-letter");
                self.poisoned_timers.insert((fingerprint, due), PANICKED);
                self.rewind = Some("panic");
                return Ok(());
            }
        };
        // A deadline that does not move forward would fire for ever.
        let next = next.map(|n| n.max(deadline + chrono::Duration::milliseconds(1)));
        store.put(key, step.state, next);
        let m = metrics();
        m.timers_fired.inc();
        m.timer_lag_seconds
            .observe((self.now_ms() - due).max(0) as f64 / 1000.0);
        for r in step.records {
            self.emit(task, r, due)?;
        }
        Ok(())
    }
}
