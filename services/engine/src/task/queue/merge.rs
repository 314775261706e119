//! An internal input partition: one queue per writing task, merged in time.
//!
//! Each writer stamps its records in non-decreasing time and sends watermarks, so
//! the earliest head across writers is the next record in time, and an empty
//! writer is known to hold nothing before its watermark. Writers share the
//! partition, and one may run far ahead of another in event time: its records lie
//! in the partition before the other's earlier ones. The queue keeps up to its
//! limit in memory and each writer's further records in its [`Spill`] (local files
//! in the services), in order, so memory stays bounded, the partition is read once,
//! and nothing is decided out of order. A writer's copies of records it sent
//! before a restart are dropped ([`Replays`]).

use super::replays::Replays;
use super::spill::Spill;
use super::{Clockwork, Head, Pushed};
use crate::checkpoint::WriterMark;
use crate::record::Record;
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::path::Path;
use std::sync::Arc;

/// Most records taken back from a spill at once, when a writer has none left in
/// memory (within the limit; one when memory is full).
const REFILL: usize = 256;

#[derive(Debug)]
struct Writer {
    /// Its next records, in memory; the ones after them are in `spilled`.
    records: VecDeque<Record>,
    spilled: Spill,
    /// No record of this writer stamped earlier is still to come (beyond those
    /// kept).
    frontier: i64,
    /// Wall time of the last record or watermark from this writer.
    heard_at: i64,
    timed_out: bool,
    /// Offset of the last record of this writer decided, or of a copy dropped
    /// once every record of it before was decided.
    decided_to: Option<i64>,
    /// Offset of its last record read.
    last_offset: Option<i64>,
    /// Records of this writer up to this offset were decided before a restart.
    skip_to: Option<i64>,
    /// Its spill failed: nothing more of it is known (the engine stops on it).
    broken: bool,
    /// Its records that it may send again.
    replays: Replays,
}

impl Writer {
    fn new(spill_dir: Option<&Arc<Path>>) -> Self {
        Writer {
            records: VecDeque::new(),
            spilled: Spill::new(spill_dir),
            frontier: i64::MIN,
            heard_at: 0,
            timed_out: false,
            decided_to: None,
            last_offset: None,
            skip_to: None,
            broken: false,
            replays: Replays::default(),
        }
    }

    /// How far this writer is known to have come.
    fn known(&self, clock: &Clockwork) -> i64 {
        if let Some(r) = self.records.front() {
            return r.timestamp;
        }
        if self.broken || !self.spilled.is_empty() {
            return i64::MIN;
        }
        if clock.silent_too_long(self.heard_at) {
            self.frontier.max(clock.idle_frontier())
        } else {
            self.frontier
        }
    }

    fn is_empty(&self) -> bool {
        self.records.is_empty() && self.spilled.is_empty()
    }

    /// Takes up to `most` records back from the spill, once none is left in
    /// memory; `like` names the partition.
    fn refill(&mut self, like: &Record, most: usize) -> io::Result<usize> {
        let mut n = 0;
        while n < most {
            let Some(r) = self.spilled.pop(like)? else {
                break;
            };
            self.records.push_back(r);
            n += 1;
        }
        Ok(n)
    }
}

#[derive(Debug)]
pub(super) struct MergedQueue {
    writers: BTreeMap<u32, Writer>,
    /// How many writers there are, as their records say.
    of: u32,
    /// Wall time the queue was created: unknown writers are waited for from then.
    since: i64,
    /// Most records kept in memory (each writer's next one aside).
    limit: usize,
    len: usize,
    spilled: usize,
    spill_dir: Option<Arc<Path>>,
    /// The offset after the last record read (none yet: unknown).
    position: Option<i64>,
    /// A spill failed: an offset from which on nothing is known to be decided,
    /// and why (until reported).
    failed_from: Option<i64>,
    failure: Option<io::Error>,
}

impl MergedQueue {
    pub fn new(wall: i64, limit: usize, spill_dir: Option<Arc<Path>>) -> Self {
        MergedQueue {
            writers: BTreeMap::new(),
            of: 0,
            since: wall,
            limit: limit.max(1),
            len: 0,
            spilled: 0,
            spill_dir,
            position: None,
            failed_from: None,
            failure: None,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Records kept in spills.
    pub fn spilled(&self) -> usize {
        self.spilled
    }

    /// Why a spill failed, once.
    pub fn take_failure(&mut self) -> Option<io::Error> {
        self.failure.take()
    }

    pub fn start_at(&mut self, committed: Option<i64>) {
        if self.position.is_none() {
            self.position = committed;
        }
    }

    /// Takes in a record.
    pub fn push(&mut self, record: Record, wall: i64) -> Pushed {
        self.position = Some(
            self.position
                .map_or(record.offset + 1, |p| p.max(record.offset + 1)),
        );
        let Some(source) = record.source else {
            // wismo writes nothing untagged here; it moves no time.
            return Pushed::Kept;
        };
        self.of = self.of.max(source.of);
        let room = self.len < self.limit;
        let spill_dir = self.spill_dir.as_ref();
        let w = self
            .writers
            .entry(source.task)
            .or_insert_with(|| Writer::new(spill_dir));
        w.heard_at = wall;
        w.timed_out = false;
        if let Some(mark) = record.watermark {
            w.frontier = w.frontier.max(mark);
            w.replays.forget_before(mark);
            return Pushed::Kept;
        }
        w.frontier = w.frontier.max(record.timestamp);
        w.last_offset = Some(record.offset);
        // Remembered even when skipped: decided before a restart, it may come again.
        let repeated = w.replays.repeated(&record);
        if w.skip_to.is_some_and(|t| record.offset <= t) || w.broken {
            return Pushed::Kept;
        }
        if repeated {
            // Consumed like a decided record, so a restart skips it too.
            if w.is_empty() {
                w.decided_to = Some(record.offset);
                w.replays.consumed_to(record.offset);
            }
            return Pushed::Repeated;
        }
        if w.spilled.is_empty() && (room || w.records.is_empty()) {
            w.records.push_back(record);
            self.len += 1;
            return Pushed::Kept;
        }
        let offset = record.offset;
        match w.spilled.push(record) {
            Ok(()) => self.spilled += 1,
            Err(e) => {
                w.broken = true;
                self.fail(e, offset);
            }
        }
        Pushed::Spilled
    }

    fn fail(&mut self, error: io::Error, from: i64) {
        self.failed_from = Some(self.failed_from.map_or(from, |f| f.min(from)));
        self.failure.get_or_insert(error);
    }

    pub fn head(&self, rank: usize) -> Option<Head<'_>> {
        self.writers
            .values()
            .filter_map(|w| w.records.front())
            .map(|r| Head::new(r, rank))
            .min_by(|a, b| a.cmp(b))
    }

    pub fn pop(&mut self) -> Option<Record> {
        let task = self
            .writers
            .iter()
            .filter_map(|(task, w)| w.records.front().map(|r| (*task, Head::new(r, 0))))
            .min_by(|a, b| a.1.cmp(&b.1))?
            .0;
        let w = self.writers.get_mut(&task)?;
        let record = w.records.pop_front()?;
        self.len -= 1;
        // With nothing of this writer left, the copies read after it are consumed.
        let consumed = match w.last_offset {
            Some(last) if w.is_empty() => last.max(record.offset),
            _ => record.offset,
        };
        w.decided_to = Some(consumed);
        w.replays.consumed_to(consumed);
        if w.records.is_empty() && !w.spilled.is_empty() {
            let most = REFILL.min(self.limit.saturating_sub(self.len)).max(1);
            match w.refill(&record, most) {
                Ok(n) => {
                    self.len += n;
                    self.spilled -= n;
                }
                Err(e) => {
                    w.broken = true;
                    self.fail(e, record.offset + 1);
                }
            }
        }
        Some(record)
    }

    pub fn frontier(&self, clock: &Clockwork) -> i64 {
        if self.of == 0 {
            return if clock.silent_too_long(self.since) {
                clock.idle_frontier()
            } else {
                i64::MIN
            };
        }
        (0..self.of)
            .map(|task| match self.writers.get(&task) {
                Some(w) => w.known(clock),
                None if clock.silent_too_long(self.since) => clock.idle_frontier(),
                None => i64::MIN,
            })
            .min()
            .unwrap_or(i64::MIN)
    }

    pub fn note_timeouts(&mut self, clock: &Clockwork) -> usize {
        let mut n = 0;
        for w in self.writers.values_mut() {
            if !w.timed_out && w.is_empty() && clock.silent_too_long(w.heard_at) {
                w.timed_out = true;
                n += 1;
            }
        }
        n
    }

    pub fn decided(&self) -> Vec<(Option<u32>, i64)> {
        self.writers
            .iter()
            .filter_map(|(task, w)| Some((Some(*task), w.decided_to?)))
            .collect()
    }

    pub fn writer_marks(&self) -> Vec<WriterMark> {
        let never = Clockwork {
            wall: i64::MIN,
            idle: 0,
            upstream_timeout: None,
        };
        self.writers
            .iter()
            .map(|(task, w)| WriterMark {
                task: *task,
                decided: w.decided_to,
                frontier: w.known(&never),
            })
            .collect()
    }

    pub fn resume(&mut self, marks: &[WriterMark], of: u32, wall: i64) {
        self.of = self.of.max(of);
        for m in marks {
            let spill_dir = self.spill_dir.as_ref();
            let w = self
                .writers
                .entry(m.task)
                .or_insert_with(|| Writer::new(spill_dir));
            w.skip_to = m.decided;
            w.decided_to = m.decided;
            w.frontier = w.frontier.max(m.frontier);
            w.heard_at = wall;
        }
    }

    /// Where it stands, for diagnosing a stall.
    pub fn describe(&self) -> String {
        let writers: Vec<String> = self
            .writers
            .iter()
            .map(|(t, w)| {
                format!(
                    "w{t}:{}r {}s decided{:?} fr{} heard{}",
                    w.records.len(),
                    w.spilled.len(),
                    w.decided_to,
                    w.frontier,
                    w.heard_at
                )
            })
            .collect();
        format!("of {} {writers:?}", self.of)
    }

    pub fn writer_count(&self) -> u32 {
        self.of
    }

    /// Every record before it was decided: none kept (a writer's records in
    /// memory come before its spilled ones), none unread, and none a writer may
    /// still send again (so a restart remembers them again).
    pub fn commit_offset(&self) -> Option<i64> {
        let position = self.position?;
        let pending = self.writers.values().flat_map(|w| {
            let head = w.records.front().map(|r| r.offset);
            head.into_iter().chain(w.replays.first_offset())
        });
        Some(pending.chain(self.failed_from).fold(position, i64::min))
    }
}
