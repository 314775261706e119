//! One input partition of a task: the records fetched but not yet decided, and how
//! far in event time the input is known to have come (its frontier).
//!
//! A partition written by the shop or a carrier is one queue in offset order. A
//! partition written by wismo's own tasks (an internal topic) merges its writers in
//! time ([`merge`]).

mod merge;
mod replays;
mod spill;

use crate::checkpoint::WriterMark;
use crate::record::Record;
use crate::store::fingerprint;
use merge::MergedQueue;
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::io;
use std::path::Path;
use std::sync::Arc;

/// What became of a fetched record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    Kept,
    /// Kept in the spill, waiting for another writer.
    Spilled,
    /// A copy of a record its writer sent before it restarted: dropped.
    Repeated,
}

/// Event-time bounds the queue needs from its task.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clockwork {
    /// The wall clock (virtual in replay), epoch ms.
    pub wall: i64,
    /// An idle, caught-up input holds the others back until the wall clock is this
    /// far past them.
    pub idle: i64,
    /// A writer silent for this long is no longer waited for.
    pub upstream_timeout: Option<i64>,
}

impl Clockwork {
    fn idle_frontier(&self) -> i64 {
        self.wall.saturating_sub(self.idle)
    }

    fn silent_too_long(&self, since: i64) -> bool {
        self.upstream_timeout
            .is_some_and(|t| self.wall.saturating_sub(since) > t)
    }
}

#[derive(Debug)]
enum Buffer {
    External(VecDeque<Record>),
    Internal(MergedQueue),
}

#[derive(Debug)]
pub(crate) struct InputQueue {
    /// Tie-break between inputs at equal timestamps: lower first.
    pub rank: usize,
    buffer: Buffer,
    /// The broker said this partition has no more records for now (external only).
    pub at_end: bool,
    /// The offset after the last record decided (external only).
    consumed_to: Option<i64>,
}

/// The head of a queue, for choosing across queues.
pub(crate) struct Head<'a> {
    pub timestamp: i64,
    pub rank: usize,
    record: &'a Record,
}

impl<'a> Head<'a> {
    pub fn offset(&self) -> i64 {
        self.record.offset
    }

    fn new(record: &'a Record, rank: usize) -> Self {
        Head {
            timestamp: record.timestamp,
            rank,
            record,
        }
    }

    /// Earliest first; equal times by input rank, then key, then content, so the
    /// choice never depends on partition counts or fetch timing.
    pub fn cmp(&self, other: &Head<'_>) -> Ordering {
        self.timestamp
            .cmp(&other.timestamp)
            .then(self.rank.cmp(&other.rank))
            .then_with(|| self.record.key.cmp(&other.record.key))
            .then_with(|| {
                let a = self.record.value.as_deref().map_or(0, fingerprint);
                let b = other.record.value.as_deref().map_or(0, fingerprint);
                a.cmp(&b)
            })
            .then(self.record.offset.cmp(&other.record.offset))
    }
}

impl InputQueue {
    /// `limit`: most records kept in memory (an external queue is paused at it; a
    /// merged one spills past it, to `spill_dir` when given, see [`merge`]).
    pub fn new(
        rank: usize,
        internal: bool,
        wall: i64,
        limit: usize,
        spill_dir: Option<Arc<Path>>,
    ) -> Self {
        let buffer = if internal {
            Buffer::Internal(MergedQueue::new(wall, limit, spill_dir))
        } else {
            Buffer::External(VecDeque::new())
        };
        InputQueue {
            rank,
            buffer,
            at_end: false,
            consumed_to: None,
        }
    }

    pub fn len(&self) -> usize {
        match &self.buffer {
            Buffer::External(q) => q.len(),
            Buffer::Internal(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether it pauses its partition when full (an external one), rather than
    /// reading on (a merged one).
    pub fn pauses(&self) -> bool {
        matches!(self.buffer, Buffer::External(_))
    }

    /// Takes in a fetched record. On an internal topic a watermark only moves time.
    pub fn push(&mut self, record: Record, wall: i64) -> Pushed {
        self.at_end = false;
        match &mut self.buffer {
            Buffer::External(q) => {
                q.push_back(record);
                Pushed::Kept
            }
            Buffer::Internal(m) => m.push(record, wall),
        }
    }

    pub fn head(&self) -> Option<Head<'_>> {
        match &self.buffer {
            Buffer::External(q) => q.front().map(|r| Head::new(r, self.rank)),
            Buffer::Internal(m) => m.head(self.rank),
        }
    }

    pub fn head_offset(&self) -> Option<i64> {
        self.head().map(|h| h.offset())
    }

    /// Where the partition was committed when the task started: what is
    /// committed again until something is read.
    pub fn start_at(&mut self, committed: Option<i64>) {
        match &mut self.buffer {
            Buffer::External(_) => self.consumed_to = committed,
            Buffer::Internal(m) => m.start_at(committed),
        }
    }

    /// Takes the head out to be decided.
    pub fn pop(&mut self) -> Option<Record> {
        match &mut self.buffer {
            Buffer::External(q) => {
                let record = q.pop_front()?;
                self.consumed_to = Some(record.offset + 1);
                Some(record)
            }
            Buffer::Internal(m) => m.pop(),
        }
    }

    /// No record still to come from this input is earlier than this (records that
    /// arrive late, behind their own partition's time, aside). `i64::MIN`: unknown,
    /// wait.
    pub fn frontier(&self, clock: &Clockwork) -> i64 {
        match &self.buffer {
            Buffer::External(q) => match q.front() {
                Some(r) => r.timestamp,
                None if self.at_end => clock.idle_frontier(),
                None => i64::MIN,
            },
            Buffer::Internal(m) => m.frontier(clock),
        }
    }

    /// Records of a merged queue kept in its spills.
    pub fn spilled(&self) -> usize {
        match &self.buffer {
            Buffer::External(_) => 0,
            Buffer::Internal(m) => m.spilled(),
        }
    }

    /// Why a merged queue's spill failed (reported once): the task can no longer
    /// be fed in order.
    pub fn take_spill_failure(&mut self) -> Option<io::Error> {
        match &mut self.buffer {
            Buffer::External(_) => None,
            Buffer::Internal(m) => m.take_failure(),
        }
    }

    /// Writers newly given up on for their silence: counted once each.
    pub fn note_timeouts(&mut self, clock: &Clockwork) -> usize {
        match &mut self.buffer {
            Buffer::External(_) => 0,
            Buffer::Internal(m) => m.note_timeouts(clock),
        }
    }

    /// What is known of each writer, for the checkpoint: how far its records were
    /// decided, and its frontier (so a restart need not wait to hear from it).
    /// The last offset decided, and of which writer on an internal input.
    pub fn decided(&self) -> Vec<(Option<u32>, i64)> {
        match &self.buffer {
            Buffer::External(_) => self
                .consumed_to
                .map(|c| (None, c - 1))
                .into_iter()
                .collect(),
            Buffer::Internal(m) => m.decided(),
        }
    }

    pub fn writer_marks(&self) -> Vec<WriterMark> {
        match &self.buffer {
            Buffer::External(_) => Vec::new(),
            Buffer::Internal(m) => m.writer_marks(),
        }
    }

    /// After a restart: what the last commit knew of each writer, and `of`, the
    /// number of writers (the partition count of the writers' input).
    pub fn resume(&mut self, marks: &[WriterMark], of: u32, wall: i64) {
        if let Buffer::Internal(m) = &mut self.buffer {
            m.resume(marks, of, wall);
        }
    }

    pub fn describe(&self) -> String {
        match &self.buffer {
            Buffer::External(q) => format!("{} records", q.len()),
            Buffer::Internal(m) => m.describe(),
        }
    }

    /// How many writers the queue knows of (internal only).
    pub fn writer_count(&self) -> u32 {
        match &self.buffer {
            Buffer::External(_) => 0,
            Buffer::Internal(m) => m.writer_count(),
        }
    }

    /// The offset to commit: every record before it was decided.
    pub fn commit_offset(&self) -> Option<i64> {
        match &self.buffer {
            Buffer::External(q) => q.front().map(|r| r.offset).or(self.consumed_to),
            Buffer::Internal(m) => m.commit_offset(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Source;
    use std::sync::Arc;

    fn rec(offset: i64, ts: i64, source: Option<u32>, mark: Option<i64>) -> Record {
        Record {
            topic: Arc::from("t"),
            partition: 0,
            offset,
            timestamp: ts,
            key: mark.is_none().then(|| format!("k{offset}").into_bytes()),
            value: mark.is_none().then(|| b"v".to_vec()),
            source: source.map(|task| Source { task, of: 2 }),
            watermark: mark,
        }
    }

    const CLOCK: Clockwork = Clockwork {
        wall: 10_000,
        idle: 100,
        upstream_timeout: None,
    };

    #[test]
    fn an_external_queue_waits_until_it_is_known_to_be_at_its_end() {
        let mut q = InputQueue::new(0, false, 0, 100, None);
        assert_eq!(q.frontier(&CLOCK), i64::MIN);
        q.push(rec(5, 300, None, None), 0);
        assert_eq!(q.frontier(&CLOCK), 300);
        assert_eq!(q.pop().map(|r| r.offset), Some(5));
        assert_eq!(q.frontier(&CLOCK), i64::MIN);
        q.at_end = true;
        assert_eq!(q.frontier(&CLOCK), 9_900);
        assert_eq!(q.commit_offset(), Some(6));
    }

    #[test]
    fn an_internal_queue_merges_writers_in_time_and_waits_for_every_one() {
        let mut q = InputQueue::new(1, true, 0, 100, None);
        q.push(rec(0, 500, Some(0), None), 0);
        q.push(rec(1, 200, Some(0), Some(200)), 0);
        // Writer 1 has not spoken: nothing is known.
        assert_eq!(q.frontier(&CLOCK), i64::MIN);
        q.push(rec(2, 0, Some(1), Some(400)), 0);
        assert_eq!(q.frontier(&CLOCK), 400);
        q.push(rec(3, 450, Some(1), None), 0);
        assert_eq!(q.head().map(|h| h.timestamp), Some(450));
        assert_eq!(q.pop().map(|r| r.offset), Some(3));
        assert_eq!(q.frontier(&CLOCK), 450);
        // Offset 0 is still to decide, so nothing past it is committed.
        assert_eq!(q.commit_offset(), Some(0));
        assert_eq!(q.pop().map(|r| r.offset), Some(0));
        // Decided, but each writer may send its records again until its watermark
        // passes them: a restart must read them again to know the copies.
        assert_eq!(q.commit_offset(), Some(0));
        q.push(rec(4, 0, Some(0), Some(600)), 0);
        assert_eq!(q.commit_offset(), Some(3));
        q.push(rec(5, 0, Some(1), Some(600)), 0);
        assert_eq!(q.commit_offset(), Some(6));
    }

    #[test]
    fn records_decided_before_a_restart_are_skipped_by_writer() {
        let mut q = InputQueue::new(0, true, 0, 100, None);
        let mark = |task, decided| WriterMark {
            task,
            decided: Some(decided),
            frontier: 0,
        };
        q.resume(&[mark(0, 5), mark(1, 2)], 2, 0);
        q.push(rec(2, 10, Some(1), None), 0);
        q.push(rec(3, 11, Some(0), None), 0);
        q.push(rec(4, 12, Some(1), None), 0);
        q.push(rec(6, 13, Some(0), None), 0);
        assert_eq!(
            q.len(),
            2,
            "offsets 2 (writer 1) and 3 (writer 0) were decided"
        );
        assert_eq!(q.pop().map(|r| r.offset), Some(4));
        let decided: Vec<_> = q
            .writer_marks()
            .iter()
            .map(|m| (m.task, m.decided))
            .collect();
        assert_eq!(decided, vec![(0, Some(5)), (1, Some(4))]);
        assert_eq!(
            q.frontier(&CLOCK),
            12,
            "writer 1 is known up to its last record"
        );
        // What was skipped is remembered, as a writer may send it again.
        assert_eq!(q.commit_offset(), Some(2));
        q.push(rec(7, 0, Some(0), Some(20)), 0);
        q.push(rec(8, 0, Some(1), Some(20)), 0);
        assert_eq!(q.commit_offset(), Some(6));
    }

    #[test]
    fn a_full_merged_queue_spills_and_decides_in_time_from_one_reading() {
        let mut q = InputQueue::new(0, true, 0, 2, None);
        // Writer 0 runs ahead: its records fill memory, the third is spilled.
        q.push(rec(0, 100, Some(0), None), 0);
        q.push(rec(1, 200, Some(0), None), 0);
        q.push(rec(2, 300, Some(0), None), 0);
        // Writer 1's first record comes later in the partition but earlier in
        // time: a writer's next record is always in memory.
        q.push(rec(3, 50, Some(1), None), 0);
        q.push(rec(4, 60, Some(1), None), 0);
        q.push(rec(5, 400, Some(0), Some(400)), 0);
        q.push(rec(6, 0, Some(1), Some(500)), 0);
        assert_eq!((q.len(), q.spilled()), (3, 2));
        assert_eq!(q.frontier(&CLOCK), 50);
        assert_eq!(q.commit_offset(), Some(0));
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|r| r.offset).collect();
        assert_eq!(order, vec![3, 4, 0, 1, 2], "each record once, in time");
        assert_eq!((q.len(), q.spilled()), (0, 0));
        assert_eq!(q.frontier(&CLOCK), 400, "writer 0's watermark");
        assert_eq!(q.commit_offset(), Some(7));
    }

    #[test]
    fn a_spilled_writer_is_known_only_as_far_as_its_next_record() {
        let mut q = InputQueue::new(0, true, 0, 1, None);
        q.push(rec(0, 10, Some(0), None), 0);
        q.push(rec(1, 20, Some(0), None), 0);
        q.push(rec(2, 30, Some(0), None), 0);
        q.push(rec(3, 40, Some(0), Some(40)), 0);
        q.push(rec(4, 0, Some(1), Some(1_000)), 0);
        assert_eq!(q.frontier(&CLOCK), 10);
        assert_eq!(q.pop().map(|r| r.offset), Some(0));
        assert_eq!(q.frontier(&CLOCK), 20, "taken back from the spill");
        assert_eq!(q.pop().map(|r| r.offset), Some(1));
        assert_eq!(q.pop().map(|r| r.offset), Some(2));
        assert_eq!(q.frontier(&CLOCK), 40);
        assert_eq!(q.commit_offset(), Some(5));
    }

    /// Writers that run apart by far more than the memory limit: the merge is
    /// the same as with room for everything, whatever the limit, and memory
    /// never holds more than the limit and one record per writer.
    #[test]
    fn the_order_does_not_depend_on_the_memory_limit() {
        let mut records = Vec::new();
        // Writer 0 writes its whole day first, then writer 1 and 2 theirs.
        for (w, n) in [(0u32, 300i64), (1, 200), (2, 250)] {
            for i in 0..n {
                let offset = records.len() as i64;
                records.push(rec(offset, i * 10 + i64::from(w), Some(w), None));
            }
        }
        for r in records.iter_mut() {
            r.source = r.source.map(|s| Source { of: 3, ..s });
        }
        let merged = |limit: usize| {
            let mut q = InputQueue::new(0, true, 0, limit, None);
            let mut order = Vec::new();
            for r in records.iter().cloned() {
                q.push(r, 0);
                assert!(q.len() <= limit + 3, "limit {limit}: {}", q.len());
                // Decide what is known to be next.
                while q.head().is_some_and(|h| h.timestamp <= q.frontier(&CLOCK)) {
                    order.extend(q.pop().map(|r| r.offset));
                }
            }
            order.extend(std::iter::from_fn(|| q.pop()).map(|r| r.offset));
            order
        };
        let whole = merged(10_000);
        assert_eq!(whole.len(), records.len());
        for limit in [1, 2, 7, 64, 500] {
            assert_eq!(merged(limit), whole, "limit {limit}");
        }
    }

    #[test]
    fn a_silent_writer_is_given_up_on_after_the_timeout() {
        let clock = Clockwork {
            upstream_timeout: Some(1_000),
            ..CLOCK
        };
        let mut q = InputQueue::new(0, true, 0, 100, None);
        q.push(rec(0, 0, Some(0), Some(100)), 8_000);
        q.push(rec(1, 0, Some(1), Some(100)), 9_500);
        assert_eq!(q.frontier(&clock), 100);
        let later = Clockwork {
            wall: 9_200 + 1_000,
            ..clock
        };
        assert_eq!(q.frontier(&later), 100);
        assert_eq!(q.note_timeouts(&later), 1);
        assert_eq!(q.note_timeouts(&later), 0);
    }
}
