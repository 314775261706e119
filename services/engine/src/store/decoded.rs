//! Which states stay decoded. Past the limit, the states taken least recently
//! are kept as their changelog bytes until a decision takes them again: a
//! second-chance clock (a state taken since the hand last passed it is passed
//! over once), so a hit costs a flag, not a reordering.

use super::{Held, StateStore};
use std::collections::VecDeque;
use std::sync::Arc;

pub(super) struct Decoded {
    max: usize,
    /// Decoded states (out for a decision included).
    count: usize,
    /// Stamps each admission, to tell a key's current place from stale ones.
    next: u64,
    /// Decoded keys in the order they were admitted; stale places (the key since
    /// deleted, stored, or admitted again) are skipped.
    clock: VecDeque<(u64, Arc<str>)>,
}

impl Decoded {
    pub(super) fn new(max: usize) -> Self {
        Decoded {
            max,
            count: 0,
            next: 0,
            clock: VecDeque::new(),
        }
    }

    /// A state became decoded; its stamp.
    pub(super) fn admit(&mut self, key: &Arc<str>) -> u64 {
        self.count += 1;
        self.next += 1;
        if self.max != usize::MAX {
            self.clock.push_back((self.next, key.clone()));
        }
        self.next
    }

    /// A decoded state was deleted or stored.
    pub(super) fn release(&mut self) {
        self.count = self.count.saturating_sub(1);
    }

    pub(super) fn count(&self) -> usize {
        self.count
    }
}

impl<S> StateStore<S> {
    /// Keeps states past the limit as bytes (`encode` gives them), and returns how
    /// many it stored. Between commits, so no state is dirty or out: a state still
    /// dirty stays decoded. On an encoding error, the key it names.
    pub fn evict<E>(
        &mut self,
        mut encode: impl FnMut(&S) -> Result<Vec<u8>, E>,
    ) -> Result<usize, (String, E)> {
        if self.decode.is_none() {
            return Ok(0);
        }
        let mut stored = 0;
        // Each place is passed over at most once more than it is looked at.
        let mut budget = 2 * self.decoded.clock.len();
        while self.decoded.count > self.decoded.max && budget > 0 {
            budget -= 1;
            let Some((stamp, key)) = self.decoded.clock.pop_front() else {
                break;
            };
            let Some(entry) = self.entries.get_mut(&key) else {
                continue;
            };
            if entry.decoded_at != stamp {
                continue;
            }
            let state = match &entry.held {
                Held::Stored(_) => continue,
                Held::Live(state) if !entry.referenced && !entry.dirty => state,
                _ => {
                    entry.referenced = false;
                    self.decoded.clock.push_back((stamp, key));
                    continue;
                }
            };
            let bytes = encode(state).map_err(|e| (key.to_string(), e))?;
            entry.held = Held::Stored(bytes.into_boxed_slice());
            self.decoded.release();
            stored += 1;
        }
        self.compact();
        Ok(stored)
    }

    /// Drops stale places once they outnumber the live ones, so the clock stays
    /// proportional to the decoded states however many keys come and go.
    fn compact(&mut self) {
        if self.decoded.clock.len() <= 2 * self.decoded.count + 1024 {
            return;
        }
        let entries = &self.entries;
        self.decoded.clock.retain(|(stamp, key)| {
            entries
                .get(key)
                .is_some_and(|e| e.decoded_at == *stamp && !matches!(e.held, Held::Stored(_)))
        });
    }
}
