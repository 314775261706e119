//! A task: partition `p` of each of a group's inputs, the state of the keys that
//! hash to `p`, and its place in event time (Kafka Streams' StreamTask with its
//! PartitionGroup).
//!
//! The task always decides the earliest record across its inputs, and only once
//! every input is known to hold nothing earlier; a timer fires at its deadline once
//! every input has passed it. So a task decides the same records and timers in the
//! same order however the records were fetched: a backlog is decided as `replay`
//! decides it.

mod queue;

pub(crate) use queue::{Clockwork, InputQueue, Pushed};

use crate::breaker::{Breaker, Marker};
use crate::changelog::{Mark, Position};
use crate::record::{Record, Source, TopicPartition};
use crate::store::StateStore;
use wismo_core::model::Timestamp;

/// Which task: a group of co-partitioned inputs (0: the keyed, stateful one; then
/// one per forward-only input) and a partition number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId {
    pub group: usize,
    pub partition: i32,
}

impl std::fmt::Display for TaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}", self.group, self.partition)
    }
}

/// What a task does next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Fire the timer of `key`, due at `deadline`.
    Timer(Timestamp, String),
    /// Decide the head record of input `index`.
    Record(usize),
    /// Nothing can be decided until more is known.
    Wait,
}

pub(crate) struct Task<S> {
    pub id: TaskId,
    /// One per input, in the group's order.
    pub partitions: Vec<TopicPartition>,
    pub queues: Vec<InputQueue>,
    /// Keyed tasks only.
    pub store: Option<StateStore<S>>,
    /// This task, as the writer of its records on internal topics.
    pub source: Source,
    /// The latest timestamp decided (record or timer).
    pub stream_time: i64,
    /// No output of this task is stamped earlier than this: it only grows, and is
    /// committed before a watermark announces it.
    pub floor: i64,
    /// The last watermark sent, and when.
    pub sent_watermark: i64,
    pub watermark_sent_at: i64,
    pub breaker: Breaker,
    /// Keys whose restored state already holds decisions past the committed
    /// offsets (at-least-once, written before a crash), and how far: the records
    /// it covers are not decided again.
    pub ahead: std::collections::HashMap<String, Position>,
}

impl<S> Task<S> {
    /// How far this task has decided, input by input.
    pub fn position(&self) -> Position {
        let marks = self.queues.iter().enumerate().flat_map(|(i, q)| {
            q.decided().into_iter().map(move |(writer, offset)| Mark {
                input: u8::try_from(i).unwrap_or(u8::MAX),
                writer,
                offset,
            })
        });
        Position::new(marks.collect())
    }

    /// The earliest time any input may still deliver.
    pub fn frontier(&self, clock: &Clockwork) -> i64 {
        self.queues
            .iter()
            .map(|q| q.frontier(clock))
            .min()
            .unwrap_or(i64::MIN)
    }

    pub fn next(&self, clock: &Clockwork) -> Next {
        let frontier = self.frontier(clock);
        let head = self
            .queues
            .iter()
            .enumerate()
            .filter_map(|(i, q)| q.head().map(|h| (i, h)))
            .min_by(|a, b| a.1.cmp(&b.1));
        let timer = self.store.as_ref().and_then(|s| s.first_timer());
        if let Some((deadline, key)) = timer {
            let due = deadline.timestamp_millis();
            // Timers go before records of the same instant.
            if due <= frontier && head.as_ref().is_none_or(|(_, h)| due <= h.timestamp) {
                return Next::Timer(deadline, key.to_string());
            }
        }
        match head {
            Some((i, h)) if h.timestamp <= frontier => Next::Record(i),
            _ => Next::Wait,
        }
    }

    /// Whether some input is empty and only caught up: a record decided now goes
    /// ahead of it after the idle time (counted, as Kafka Streams counts enforced
    /// processing).
    pub fn proceeds_without_an_input(&self) -> bool {
        self.queues.iter().any(|q| q.is_empty())
    }

    /// What `next` decides, as a careful commit names it.
    pub fn marker(&self, next: &Next) -> Option<Marker> {
        match next {
            Next::Wait => None,
            Next::Timer(deadline, key) => Some(Marker::timer(key, deadline.timestamp_millis())),
            Next::Record(input) => Some(Marker::Record {
                input: *input,
                offset: self.queues.get(*input)?.head_offset()?,
            }),
        }
    }

    pub fn pop(&mut self, input: usize) -> Option<Record> {
        let record = self.queues.get_mut(input)?.pop()?;
        self.stream_time = self.stream_time.max(record.timestamp);
        Some(record)
    }

    /// The timestamp an output decided at `at` carries: never below the floor, and
    /// the floor follows it.
    pub fn stamp(&mut self, at: i64) -> i64 {
        let stamp = at.max(self.floor);
        self.floor = stamp;
        stamp
    }

    /// The earliest any future output of this task can be stamped: what the task
    /// may announce downstream as its watermark.
    pub fn output_watermark(&self, clock: &Clockwork) -> i64 {
        let next_timer = self
            .store
            .as_ref()
            .and_then(|s| s.next_deadline())
            .map_or(i64::MAX, |d| d.timestamp_millis());
        let next_record = self
            .queues
            .iter()
            .filter_map(|q| q.head().map(|h| h.timestamp))
            .min()
            .unwrap_or(i64::MAX);
        self.frontier(clock)
            .min(next_timer)
            .min(next_record)
            .max(self.floor)
    }

    /// When, on the wall clock, this task could next do something without new
    /// records arriving (an idle input's frontier moves with the wall clock).
    pub fn wake_at(&self, clock: &Clockwork) -> Option<i64> {
        let next_timer = self
            .store
            .as_ref()
            .and_then(|s| s.next_deadline())
            .map(|d| d.timestamp_millis());
        let next_record = self
            .queues
            .iter()
            .filter_map(|q| q.head().map(|h| h.timestamp))
            .min();
        let earliest = match (next_timer, next_record) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        let at = earliest.saturating_add(clock.idle);
        // Only if the wall clock is what holds it back: an input that is behind, or
        // a writer upstream that has not moved, is waited for, not polled for.
        let then = Clockwork { wall: at, ..*clock };
        (self.frontier(&then) >= earliest).then_some(at)
    }

    pub fn buffered(&self) -> usize {
        self.queues.iter().map(InputQueue::len).sum()
    }
}

#[cfg(test)]
mod tests;
