//! In-memory state per partition, with an index of each key's next deadline.

use std::collections::{BTreeSet, HashMap};
use wismo_core::model::Timestamp;

pub(crate) struct PartitionStore<S> {
    states: HashMap<String, S>,
    timers: BTreeSet<(Timestamp, String)>,
    deadline_of: HashMap<String, Timestamp>,
}

impl<S> Default for PartitionStore<S> {
    fn default() -> Self {
        PartitionStore {
            states: HashMap::new(),
            timers: BTreeSet::new(),
            deadline_of: HashMap::new(),
        }
    }
}

impl<S> PartitionStore<S> {
    pub fn take(&mut self, key: &str) -> Option<S> {
        self.states.remove(key)
    }

    pub fn get(&self, key: &str) -> Option<&S> {
        self.states.get(key)
    }

    /// Puts a key's state back (or deletes it) and re-indexes its deadline.
    pub fn put(&mut self, key: String, state: Option<S>, deadline: Option<Timestamp>) {
        if let Some(old) = self.deadline_of.remove(&key) {
            self.timers.remove(&(old, key.clone()));
        }
        match state {
            Some(s) => {
                if let Some(d) = deadline {
                    self.timers.insert((d, key.clone()));
                    self.deadline_of.insert(key.clone(), d);
                }
                self.states.insert(key, s);
            }
            None => {
                self.states.remove(&key);
            }
        }
    }

    /// The earliest armed timer: its deadline and key.
    pub fn first_timer(&self) -> Option<(Timestamp, String)> {
        self.timers.first().cloned()
    }

    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.timers.first().map(|(d, _)| *d)
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn timer_count(&self) -> usize {
        self.timers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> Timestamp {
        chrono::Utc.timestamp_opt(s, 0).unwrap()
    }

    #[test]
    fn reindexes_and_deletes() {
        let mut p: PartitionStore<u32> = PartitionStore::default();
        p.put("a".into(), Some(1), Some(t(10)));
        p.put("b".into(), Some(2), Some(t(5)));
        assert_eq!(p.first_timer(), Some((t(5), "b".to_string())));
        p.put("b".into(), Some(3), Some(t(20)));
        assert_eq!(p.first_timer(), Some((t(10), "a".to_string())));
        p.put("a".into(), None, None);
        assert_eq!(p.len(), 1);
        assert_eq!(p.next_deadline(), Some(t(20)));
        assert_eq!(p.timer_count(), 1);
    }
}
