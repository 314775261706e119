//! A task's state: every key's value in memory, an index of each key's next
//! deadline, and which keys changed since their last changelog write.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use wismo_core::model::Timestamp;

struct Entry<S> {
    /// `None` only while a decision has the state out.
    state: Option<S>,
    deadline: Option<Timestamp>,
    /// Hash of the bytes last written to the changelog (0: never written).
    persisted: u64,
}

pub struct StateStore<S> {
    entries: HashMap<String, Entry<S>>,
    timers: BTreeSet<(Timestamp, String)>,
    /// Keys put back since the last flush; written if their encoding changed.
    dirty: HashSet<String>,
    /// Keys deleted since the last flush that the changelog still holds.
    tombstones: HashSet<String>,
}

/// A key and what the changelog gets for it: its encoding, or a tombstone.
pub type Change = (String, Option<Vec<u8>>);

impl<S> Default for StateStore<S> {
    fn default() -> Self {
        StateStore {
            entries: HashMap::new(),
            timers: BTreeSet::new(),
            dirty: HashSet::new(),
            tombstones: HashSet::new(),
        }
    }
}

/// The hash that tells an unchanged encoding from a changed one.
pub(crate) fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish() | 1
}

impl<S> StateStore<S> {
    /// Takes a key's state out for a decision; [`StateStore::put`] returns it.
    pub fn take(&mut self, key: &str) -> Option<S> {
        self.entries.get_mut(key).and_then(|e| e.state.take())
    }

    pub fn get(&self, key: &str) -> Option<&S> {
        self.entries.get(key).and_then(|e| e.state.as_ref())
    }

    /// Puts a key's state back (or deletes it) and re-indexes its deadline.
    pub fn put(&mut self, key: String, state: Option<S>, deadline: Option<Timestamp>) {
        let old_deadline = self.entries.get(&key).and_then(|e| e.deadline);
        if let Some(old) = old_deadline {
            if Some(old) != deadline || state.is_none() {
                self.timers.remove(&(old, key.clone()));
            }
        }
        match state {
            Some(s) => {
                if let Some(d) = deadline {
                    if old_deadline != Some(d) {
                        self.timers.insert((d, key.clone()));
                    }
                }
                let entry = self.entries.entry(key.clone()).or_insert(Entry {
                    state: None,
                    deadline: None,
                    persisted: 0,
                });
                entry.state = Some(s);
                entry.deadline = deadline;
                self.tombstones.remove(&key);
                self.dirty.insert(key);
            }
            None => {
                if let Some(e) = self.entries.remove(&key) {
                    if e.persisted != 0 {
                        self.tombstones.insert(key.clone());
                    }
                }
                self.dirty.remove(&key);
            }
        }
    }

    /// A state read from the changelog, with the fingerprint of its bytes.
    pub fn restore(&mut self, key: String, state: S, deadline: Option<Timestamp>, bytes: &[u8]) {
        self.put(key.clone(), Some(state), deadline);
        self.dirty.remove(&key);
        if let Some(e) = self.entries.get_mut(&key) {
            e.persisted = fingerprint(bytes);
        }
    }

    /// The earliest armed timer: its deadline and key.
    pub fn first_timer(&self) -> Option<(Timestamp, &str)> {
        self.timers.first().map(|(d, k)| (*d, k.as_str()))
    }

    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.timers.first().map(|(d, _)| *d)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn timer_count(&self) -> usize {
        self.timers.len()
    }

    pub fn has_changes(&self) -> bool {
        !self.dirty.is_empty() || !self.tombstones.is_empty()
    }

    /// What the changelog must get: every dirty key whose encoding changed, and a
    /// tombstone for every deleted key it holds. Marks them written; on an
    /// encoding error marks nothing, and the error names the key.
    pub fn drain_changes<E>(
        &mut self,
        mut encode: impl FnMut(&S) -> Result<Vec<u8>, E>,
    ) -> Result<Vec<Change>, (String, E)> {
        let mut changed = Vec::new();
        for key in &self.dirty {
            let Some(state) = self.entries.get(key).and_then(|e| e.state.as_ref()) else {
                continue;
            };
            let bytes = encode(state).map_err(|e| (key.clone(), e))?;
            changed.push((key.clone(), bytes));
        }
        self.dirty.clear();
        let mut out = Vec::with_capacity(changed.len() + self.tombstones.len());
        for (key, bytes) in changed {
            let print = fingerprint(&bytes);
            if let Some(entry) = self.entries.get_mut(&key) {
                if print != entry.persisted {
                    entry.persisted = print;
                    out.push((key, Some(bytes)));
                }
            }
        }
        for key in std::mem::take(&mut self.tombstones) {
            out.push((key, None));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> Timestamp {
        chrono::Utc.timestamp_opt(s, 0).unwrap()
    }

    fn enc(v: &u32) -> Result<Vec<u8>, ()> {
        Ok(v.to_string().into_bytes())
    }

    #[test]
    fn reindexes_and_deletes() {
        let mut p: StateStore<u32> = StateStore::default();
        p.put("a".into(), Some(1), Some(t(10)));
        p.put("b".into(), Some(2), Some(t(5)));
        assert_eq!(p.first_timer(), Some((t(5), "b")));
        p.put("b".into(), Some(3), Some(t(20)));
        assert_eq!(p.first_timer(), Some((t(10), "a")));
        p.put("a".into(), None, None);
        assert_eq!(p.len(), 1);
        assert_eq!(p.next_deadline(), Some(t(20)));
        assert_eq!(p.timer_count(), 1);
    }

    #[test]
    fn only_changed_encodings_and_tombstones_are_written() {
        let mut p: StateStore<u32> = StateStore::default();
        p.restore("kept".into(), 7, None, b"7");
        p.restore("gone".into(), 8, None, b"8");
        p.put("new".into(), Some(1), None);
        let v = p.take("kept").unwrap();
        p.put("kept".into(), Some(v), None);
        p.put("gone".into(), None, None);
        assert_eq!(
            p.drain_changes(enc).unwrap(),
            vec![("gone".into(), None), ("new".into(), Some(b"1".to_vec()))]
        );
        assert!(!p.has_changes());
        p.put("new".into(), Some(1), None);
        assert!(
            p.drain_changes(enc).unwrap().is_empty(),
            "unchanged: nothing to write"
        );
        p.put("never-written".into(), Some(3), None);
        p.put("never-written".into(), None, None);
        assert!(
            p.drain_changes(enc).unwrap().is_empty(),
            "no tombstone for what was never written"
        );
    }
}
