//! The crash-loop breaker: a record (or timer) whose decision crashes the whole
//! process, so that no `catch_unwind` sees it (an abort, a stack overflow, memory
//! running out), would otherwise be decided again on every restart, for ever.
//!
//! Each task counts, in its commit checkpoint, its starts since its last commit
//! that followed a decision. After `careful_after` of them it decides carefully:
//! one record or timer per commit, each commit naming what is decided next, and
//! nothing else in the process decided meanwhile (so a crash is the named
//! item's). A restart that finds the same
//! item named `poison_after` times sends it to dead-letter undecided, and the
//! partition moves on (what Kafka Streams' processing-exception handler does for
//! an exception, here for a crash).

use crate::store::fingerprint;

/// When the breaker acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Restarts without a commit in between before a task decides carefully.
    pub careful_after: u32,
    /// Restarts while deciding the same item before it goes to dead-letter.
    pub poison_after: u32,
    /// Items a careful task decides one commit at a time before it goes back to
    /// committing on the interval.
    pub careful_decisions: usize,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            careful_after: 3,
            poison_after: 2,
            careful_decisions: 2_000,
        }
    }
}

/// What a careful task is about to decide, as its checkpoint names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Marker {
    /// The record at `offset` of the task's input `input`.
    Record { input: usize, offset: i64 },
    /// The timer of the key with this fingerprint, due at `due`.
    Timer { key: u64, due: i64 },
}

impl Marker {
    pub fn timer(key: &str, due: i64) -> Self {
        Marker::Timer {
            key: fingerprint(key.as_bytes()),
            due,
        }
    }

    pub fn encode(&self) -> String {
        match self {
            Marker::Record { input, offset } => format!("r{input}@{offset}"),
            Marker::Timer { key, due } => format!("t{key:x}@{due}"),
        }
    }

    pub fn decode(text: &str) -> Option<Marker> {
        let (head, at) = text.split_once('@')?;
        let at = at.parse().ok()?;
        if let Some(input) = head.strip_prefix('r') {
            return Some(Marker::Record {
                input: input.parse().ok()?,
                offset: at,
            });
        }
        let key = u64::from_str_radix(head.strip_prefix('t')?, 16).ok()?;
        Some(Marker::Timer { key, due: at })
    }
}

/// A task's breaker state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breaker {
    /// Restarts since the task's last commit that followed a decision.
    pub restarts: u32,
    /// Items still to decide one commit at a time.
    pub careful_left: usize,
    /// What the next commit names as being decided.
    pub marker: Option<Marker>,
    /// The checkpoint does not yet say what this state says: commit before
    /// deciding anything.
    pub unsaved: bool,
    /// The commit being made carries this task's checkpoint (it has an offset
    /// to commit: a task that has read nothing yet has none).
    pub in_commit: bool,
    /// What the checkpoint it started from named: named again, its restarts
    /// go on counting.
    pub started_on: Option<Marker>,
}

/// What a task learns from its checkpoint when it starts.
#[derive(Debug, PartialEq, Eq)]
pub struct Start {
    pub breaker: Breaker,
    /// The item that crashed the process `poison_after` times: to dead-letter.
    pub poison: Option<Marker>,
}

impl Breaker {
    /// A task starting from a checkpoint that counted `restarts` and named
    /// `deciding`.
    pub fn start(restarts: u32, deciding: Option<Marker>, config: &BreakerConfig) -> Start {
        let restarts = restarts.saturating_add(1);
        let poison = deciding.filter(|_| restarts >= config.poison_after);
        let careful = deciding.is_some() || restarts >= config.careful_after;
        Start {
            breaker: Breaker {
                restarts,
                careful_left: if careful { config.careful_decisions } else { 0 },
                // Named again: the restart is counted against the same item.
                marker: deciding,
                unsaved: true,
                in_commit: false,
                started_on: deciding,
            },
            poison,
        }
    }

    /// Names `item` as what is decided next: restarts from now on count
    /// against it.
    pub fn name(&mut self, item: Marker) {
        if self.started_on != Some(item) {
            self.restarts = 0;
        }
        self.marker = Some(item);
        self.unsaved = true;
    }

    pub fn careful(&self) -> bool {
        self.careful_left > 0
    }

    /// The process stops cleanly (SIGTERM): no crash is behind the next start, so
    /// its checkpoint counts no restart and names nothing (a rolling restart must
    /// not make every task careful).
    pub fn stopped_cleanly(&mut self) {
        self.restarts = 0;
        self.marker = None;
        self.started_on = None;
    }

    /// Its checkpoint goes into a commit while it has read every input to its end,
    /// holds no record and no timer is due: whatever crashed the process was not
    /// this task's (a task that crashes on a record holds it), so its restarts are
    /// behind it. (An idle task that rebalances move from instance to instance is
    /// formed again each time; that is no crash loop.)
    pub fn idle_at_commit(&mut self) {
        if self.marker.is_none() {
            self.restarts = 0;
            self.started_on = None;
        }
    }

    /// A decision was made: the restarts are behind it.
    pub fn decided(&mut self) {
        self.restarts = 0;
        self.started_on = None;
        self.careful_left = self.careful_left.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: BreakerConfig = BreakerConfig {
        careful_after: 2,
        poison_after: 2,
        careful_decisions: 10,
    };

    #[test]
    fn markers_read_back_as_written() {
        for m in [
            Marker::Record {
                input: 1,
                offset: 9_876,
            },
            Marker::timer("o-1", 1_700_000_000_000),
        ] {
            assert_eq!(Marker::decode(&m.encode()), Some(m));
        }
        assert_eq!(Marker::decode("x1@2"), None);
        assert_eq!(Marker::decode("r1"), None);
    }

    #[test]
    fn a_second_restart_without_a_commit_makes_the_task_careful() {
        let first = Breaker::start(0, None, &CONFIG);
        assert!(!first.breaker.careful());
        assert_eq!(first.poison, None);
        let second = Breaker::start(first.breaker.restarts, None, &CONFIG);
        assert!(second.breaker.careful());
        assert_eq!(second.poison, None);
    }

    #[test]
    fn the_item_named_at_two_restarts_is_poison() {
        let item = Marker::Record {
            input: 0,
            offset: 5,
        };
        // A careful commit named it, then the process died deciding it.
        let once = Breaker::start(0, Some(item), &CONFIG);
        assert_eq!(once.poison, None);
        assert!(once.breaker.careful());
        let twice = Breaker::start(once.breaker.restarts, Some(item), &CONFIG);
        assert_eq!(twice.poison, Some(item));
    }

    #[test]
    fn a_clean_stop_counts_no_restart() {
        let item = Marker::Record {
            input: 0,
            offset: 5,
        };
        let mut b = Breaker::start(5, Some(item), &CONFIG).breaker;
        assert!(b.careful());
        b.stopped_cleanly();
        let next = Breaker::start(b.restarts, b.marker, &CONFIG);
        assert!(!next.breaker.careful());
        assert_eq!(next.poison, None);
    }

    #[test]
    fn deciding_clears_the_restarts_and_uses_up_care() {
        let mut b = Breaker::start(1, None, &CONFIG).breaker;
        assert_eq!(b.restarts, 2);
        b.decided();
        assert_eq!((b.restarts, b.careful_left), (0, 9));
    }

    #[test]
    fn naming_again_what_it_started_on_keeps_counting_until_poison() {
        let x = Marker::Record {
            input: 0,
            offset: 7,
        };
        // Started on x with one restart counted; x named again (say after its
        // marker was dropped) must not reset the count, or x crashes for ever.
        let mut start = Breaker::start(0, Some(x), &CONFIG);
        assert_eq!(start.poison, None);
        start.breaker.marker = None;
        start.breaker.name(x);
        let again = Breaker::start(start.breaker.restarts, start.breaker.marker, &CONFIG);
        assert_eq!(again.poison, Some(x));
        // A new item starts its own count.
        let mut b = again.breaker;
        b.decided();
        b.name(Marker::timer("o-1", 5));
        assert_eq!(b.restarts, 0);
    }
}
