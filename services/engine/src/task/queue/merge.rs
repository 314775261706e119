//! An internal input partition: one queue per writing task, merged in time.
//!
//! Each writer stamps its records in non-decreasing time and sends watermarks, so
//! the earliest head across writers is the next record in time, and an empty
//! writer is known to hold nothing before its watermark. Writers share the
//! partition, and one may run far ahead of another in event time: its records fill
//! the buffer while the other's, which come first in time, lie further on. Then the
//! queue reads on without keeping records (their times still tell how far each
//! writer has come), drops the latest ones it kept if it must, and reads the
//! partition again from the first record it did not keep, skipping what was
//! decided meanwhile. Memory stays bounded and nothing is decided out of order.

use super::{Clockwork, Head};
use crate::checkpoint::WriterMark;
use crate::record::Record;
use std::collections::{BTreeMap, VecDeque};

#[derive(Debug)]
struct Writer {
    records: VecDeque<Record>,
    /// No record of this writer stamped earlier is still to come (beyond those
    /// kept, and before `cap`).
    frontier: i64,
    /// Wall time of the last record or watermark from this writer.
    heard_at: i64,
    timed_out: bool,
    /// Offset of the last record of this writer decided.
    decided_to: Option<i64>,
    /// Offset of the last record of this writer kept or decided: its records are
    /// taken in offset order, so one read again up to here is skipped.
    taken_to: Option<i64>,
    /// The first record of this writer read but not kept: `(time, offset)`. Until
    /// it is read again, nothing of this writer past its time is known.
    cap: Option<(i64, i64)>,
}

impl Default for Writer {
    fn default() -> Self {
        Writer {
            records: VecDeque::new(),
            frontier: i64::MIN,
            heard_at: 0,
            timed_out: false,
            decided_to: None,
            taken_to: None,
            cap: None,
        }
    }
}

impl Writer {
    /// How far this writer is known to have come.
    fn known(&self, clock: &Clockwork) -> i64 {
        if let Some(r) = self.records.front() {
            return r.timestamp;
        }
        let frontier = if clock.silent_too_long(self.heard_at) {
            self.frontier.max(clock.idle_frontier())
        } else {
            self.frontier
        };
        self.cap.map_or(frontier, |(ts, _)| frontier.min(ts))
    }
}

#[derive(Debug)]
pub(super) struct MergedQueue {
    writers: BTreeMap<u32, Writer>,
    /// How many writers there are, as their records say.
    of: u32,
    /// Wall time the queue was created: unknown writers are waited for from then.
    since: i64,
    /// Most records kept.
    limit: usize,
    len: usize,
    /// The first offset read but not kept since the last pass began: read again
    /// from here.
    overflow_from: Option<i64>,
    /// The offset after the last record read (none yet: unknown), and the furthest
    /// the partition was ever read: a new pass starts only once the last one got
    /// there (and so past every record it did not keep, and every watermark).
    position: Option<i64>,
    pass_until: i64,
}

impl MergedQueue {
    pub fn new(wall: i64, limit: usize) -> Self {
        MergedQueue {
            writers: BTreeMap::new(),
            of: 0,
            since: wall,
            limit: limit.max(2),
            len: 0,
            overflow_from: None,
            position: None,
            pass_until: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn start_at(&mut self, committed: Option<i64>) {
        if self.position.is_none() {
            self.position = committed;
        }
    }

    pub fn push(&mut self, record: Record, wall: i64) {
        self.position = Some(
            self.position
                .map_or(record.offset + 1, |p| p.max(record.offset + 1)),
        );
        let Some(source) = record.source else {
            // wismo writes nothing untagged here; it moves no time.
            return;
        };
        self.of = self.of.max(source.of);
        let full = self.len >= self.limit;
        // A record later than another writer's first one not kept could not be
        // decided before it: it waits to be read again too.
        let blocker = self
            .writers
            .iter()
            .filter(|(task, _)| **task != source.task)
            .filter_map(|(_, w)| w.cap.map(|(ts, _)| ts))
            .min();
        let w = self.writers.entry(source.task).or_default();
        w.heard_at = wall;
        w.timed_out = false;
        if let Some(mark) = record.watermark {
            w.frontier = w.frontier.max(mark);
            return;
        }
        if w.cap.is_some_and(|(_, offset)| offset == record.offset) {
            // Read again: what was heard of this writer past here is heard anew.
            w.cap = None;
            w.frontier = record.timestamp;
        }
        w.frontier = w.frontier.max(record.timestamp);
        if w.taken_to.is_some_and(|t| record.offset <= t) {
            return;
        }
        if full || w.cap.is_some() || blocker.is_some_and(|b| record.timestamp > b) {
            // Not kept (full, behind one not kept, or after another writer's):
            // read again later.
            if w.cap.is_none() {
                w.cap = Some((record.timestamp, record.offset));
            }
            self.overflow_from = Some(
                self.overflow_from
                    .map_or(record.offset, |o| o.min(record.offset)),
            );
            return;
        }
        w.taken_to = Some(record.offset);
        w.records.push_back(record);
        self.len += 1;
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
        w.decided_to = Some(record.offset);
        self.len -= 1;
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

    /// When it holds its task back: drops the kept records later than the first
    /// record any writer did not keep (they cannot be decided before it), so
    /// there is room to read it again.
    pub fn make_room(&mut self) {
        let Some(bound) = self
            .writers
            .values()
            .filter_map(|w| w.cap.map(|(ts, _)| ts))
            .min()
        else {
            return;
        };
        for w in self.writers.values_mut() {
            let keep = w
                .records
                .iter()
                .take_while(|r| r.timestamp <= bound)
                .count();
            if keep == w.records.len() {
                continue;
            }
            let first = &w.records[keep];
            let (ts, offset) = (first.timestamp, first.offset);
            if w.cap.is_none_or(|(_, o)| offset < o) {
                w.cap = Some((ts, offset));
            }
            self.overflow_from = Some(self.overflow_from.map_or(offset, |o| o.min(offset)));
            self.len -= w.records.len() - keep;
            w.records.truncate(keep);
            w.taken_to = w.records.back().map(|r| r.offset).or(w.decided_to);
        }
    }

    /// The offset to read the partition again from: once the last pass is done,
    /// and there is room (half of it, or an eighth when the queue holds its task
    /// back: a pass reads the partition on to where it was, so one per decision
    /// would read a backlog once per record; a full one reads on instead, to
    /// hear how far every writer has come).
    pub fn refetch_from(&self, blocking: bool) -> Option<i64> {
        let position = self.position.unwrap_or(0);
        let blocking_room = (self.limit / 8).max(1);
        let room =
            self.len <= self.limit / 2 || (blocking && self.len + blocking_room <= self.limit);
        self.overflow_from
            .filter(|_| room && position >= self.pass_until)
    }

    /// The partition is being read again from `offset`: records taken already are
    /// skipped, the others kept as they come.
    pub fn reread_from(&mut self, offset: i64) {
        self.overflow_from = None;
        self.pass_until = self.pass_until.max(self.position.unwrap_or(offset));
        self.position = Some(offset);
    }

    pub fn note_timeouts(&mut self, clock: &Clockwork) -> usize {
        let mut n = 0;
        for w in self.writers.values_mut() {
            if !w.timed_out && w.records.is_empty() && clock.silent_too_long(w.heard_at) {
                w.timed_out = true;
                n += 1;
            }
        }
        n
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
            let w = self.writers.entry(m.task).or_default();
            w.taken_to = m.decided;
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
                    "w{t}:{}r cap{:?} taken{:?} fr{} heard{}",
                    w.records.len(),
                    w.cap,
                    w.taken_to,
                    w.frontier,
                    w.heard_at
                )
            })
            .collect();
        format!(
            "of {} overflow {:?} {writers:?}",
            self.of, self.overflow_from
        )
    }

    pub fn writer_count(&self) -> u32 {
        self.of
    }

    /// Every record before it was decided: none kept, none not kept (each
    /// writer's first one not kept bounds the rest of its records), none unread.
    pub fn commit_offset(&self) -> Option<i64> {
        let position = self.position?;
        let pending = self.writers.values().filter_map(|w| {
            let kept = w.records.front().map(|r| r.offset);
            let not_kept = w.cap.map(|(_, offset)| offset);
            match (kept, not_kept) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        });
        Some(pending.fold(position, i64::min))
    }
}
