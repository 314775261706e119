//! Records a writer may send again, to tell a copy from a new record.
//!
//! In at-least-once mode a writer that crashed, or rewound after its producer
//! failed, decides again from its committed offsets and sends again what it had
//! sent since: the partition then holds those records twice, the copies after
//! later records of the same writer. Decided again, out of their time, a copy
//! meets state that already holds it and later records (a cap's clock, a pruned
//! list of what was sent), and may come out different. A writer announces a
//! watermark only once the decisions behind it are committed, and stamps nothing
//! earlier after it starts again, so only its records stamped at or after its last
//! watermark can come again: those are remembered, by time and content, and a
//! copy of one is dropped.

use crate::record::Record;
use crate::store::fingerprint;
use std::collections::{BTreeMap, BTreeSet};

/// Most records remembered per writer; beyond, the earliest are forgotten (a copy
/// of one is then decided again, as without this window).
const MAX_REMEMBERED: usize = 50_000;

/// The window survives a restart of the reader: the reader's committed offset
/// stays at or before the first record remembered, and before the original of
/// every copy not yet consumed ([`Replays::first_offset`]), so a restarted reader
/// reads those records again and remembers them again, though it decided them
/// before.
#[derive(Debug, Default)]
pub(super) struct Replays {
    /// (timestamp, fingerprint of key and value, offset).
    seen: BTreeSet<(i64, u64, i64)>,
    offsets: BTreeSet<i64>,
    /// Copies dropped and not yet consumed (records of the writer before them
    /// are still to decide): copy offset → its original's offset.
    copies: BTreeMap<i64, i64>,
}

impl Replays {
    /// Whether the writer sent this record already; remembers it if not.
    pub fn repeated(&mut self, record: &Record) -> bool {
        let (ts, fp) = (record.timestamp, content(record));
        let original = self
            .seen
            .range((ts, fp, i64::MIN)..=(ts, fp, i64::MAX))
            .next();
        if let Some((_, _, original)) = original {
            self.copies.insert(record.offset, *original);
            return true;
        }
        self.seen.insert((ts, fp, record.offset));
        self.offsets.insert(record.offset);
        if self.seen.len() > MAX_REMEMBERED {
            if let Some((_, _, offset)) = self.seen.pop_first() {
                self.offsets.remove(&offset);
            }
        }
        false
    }

    /// The writer stamps nothing before `mark` from now on, not even a copy.
    pub fn forget_before(&mut self, mark: i64) {
        let kept = self.seen.split_off(&(mark, 0, i64::MIN));
        for (_, _, offset) in std::mem::replace(&mut self.seen, kept) {
            self.offsets.remove(&offset);
        }
    }

    /// Every record of the writer up to `offset` is decided or dropped.
    pub fn consumed_to(&mut self, offset: i64) {
        self.copies = self.copies.split_off(&offset.saturating_add(1));
    }

    /// Where a restarted reader must read from to know every copy still ahead.
    pub fn first_offset(&self) -> Option<i64> {
        let originals = self.copies.values().copied().min();
        match (self.offsets.first().copied(), originals) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.seen.len()
    }
}

fn content(record: &Record) -> u64 {
    let key = record.key.as_deref().unwrap_or_default();
    let value = record.value.as_deref().unwrap_or_default();
    let mut bytes = Vec::with_capacity(key.len() + value.len() + 9);
    bytes.extend_from_slice(&(key.len() as u64).to_le_bytes());
    bytes.extend_from_slice(key);
    bytes.push(u8::from(record.value.is_some()));
    bytes.extend_from_slice(value);
    fingerprint(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn rec(offset: i64, ts: i64, value: &str) -> Record {
        Record {
            topic: Arc::from("t"),
            partition: 0,
            offset,
            key: Some(b"k".to_vec()),
            value: Some(value.as_bytes().to_vec()),
            timestamp: ts,
            source: None,
            watermark: None,
        }
    }

    #[test]
    fn a_copy_is_known_until_the_writer_moves_past_it() {
        let mut r = Replays::default();
        assert!(!r.repeated(&rec(0, 10, "a")));
        assert!(!r.repeated(&rec(1, 10, "b")), "same time, other content");
        assert!(!r.repeated(&rec(2, 11, "a")), "same content, other time");
        assert!(r.repeated(&rec(3, 10, "a")), "sent again");
        assert_eq!(r.first_offset(), Some(0));
        r.forget_before(11);
        assert_eq!(r.len(), 1);
        // The copy at 3 of the record at 0 holds offset 0 until it is consumed.
        assert_eq!(r.first_offset(), Some(0));
        r.consumed_to(3);
        assert_eq!(r.first_offset(), Some(2));
        assert!(
            !r.repeated(&rec(4, 10, "a")),
            "forgotten below the watermark"
        );
        assert!(r.repeated(&rec(5, 11, "a")), "kept at the watermark");
        // Likewise the copy at 5 of the record at 2, past the watermark too.
        r.forget_before(20);
        assert_eq!(r.first_offset(), Some(2));
        r.consumed_to(5);
        assert_eq!(r.first_offset(), None);
    }
}
