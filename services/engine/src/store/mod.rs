//! A task's state: every key's value in memory (decoded, or as its changelog
//! bytes once more keys than the limit are decoded), an index of each key's next
//! deadline, and which keys changed since their last changelog write.

mod decoded;
#[cfg(test)]
mod tests;

use decoded::Decoded;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use wismo_core::model::Timestamp;

/// Reads a state back from the bytes the changelog holds for it.
pub type DecodeState<S> = fn(&[u8]) -> Result<S, String>;

/// A state kept as bytes cannot be read back: a bug (this build wrote or read
/// those bytes before), never caused by input. Stops the service rather than
/// decide without it.
#[derive(Debug, thiserror::Error)]
#[error("state of key {key} cannot be read back from its bytes: {reason}")]
pub struct StateReadError {
    pub key: String,
    pub reason: String,
}

enum Held<S> {
    /// Decoded, as the last decision left it.
    Live(Box<S>),
    /// Only the state's bytes, as the changelog holds them; decoded when taken.
    Stored(Box<[u8]>),
    /// Out for a decision.
    Out,
}

struct Entry<S> {
    /// The map's own key, shared with the deadline index and the dirty list.
    key: Arc<str>,
    held: Held<S>,
    deadline: Option<Timestamp>,
    /// Hash of the state's bytes last written to the changelog (0: never written).
    persisted: u64,
    /// Put back since the last flush, and so listed in `dirty`.
    dirty: bool,
    /// Taken since the clock of decoded states last passed it.
    referenced: bool,
    /// When it last became decoded: its place in that clock.
    decoded_at: u64,
}

/// A timer in the deadline index: timers of one deadline fire in key order.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    at: Timestamp,
    key: Arc<str>,
}

pub struct StateStore<S> {
    entries: HashMap<Arc<str>, Entry<S>>,
    timers: BTreeSet<Timer>,
    /// Keys put back since the last flush, in the order they first were; written
    /// if their encoding changed. A key deleted and put back may be listed twice.
    dirty: Vec<Arc<str>>,
    /// Keys deleted since the last flush that the changelog still holds.
    tombstones: HashSet<Arc<str>>,
    decoded: Decoded,
    /// Set when states may be kept as bytes.
    decode: Option<DecodeState<S>>,
}

/// A key and what the changelog gets for it: its entry, or a tombstone.
pub type Change = (String, Option<Vec<u8>>);

impl<S> Default for StateStore<S> {
    /// A store that keeps every state decoded.
    fn default() -> Self {
        StateStore {
            entries: HashMap::new(),
            timers: BTreeSet::new(),
            dirty: Vec::new(),
            tombstones: HashSet::new(),
            decoded: Decoded::new(usize::MAX),
            decode: None,
        }
    }
}

/// The hash that tells an unchanged encoding from a changed one.
pub(crate) fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish() | 1
}

/// What [`StateStore::place`] stores.
enum Value<S> {
    Live(S),
    Stored(Box<[u8]>),
}

/// How an entry is marked when it is placed.
enum Mark {
    /// Put back by a decision: to be written if its encoding changed.
    Dirty,
    /// Read from the changelog, whose entry has this fingerprint.
    Persisted(u64),
}

impl<S> StateStore<S> {
    /// A store that keeps at most `max_decoded` states decoded between commits
    /// ([`StateStore::evict`]) and the others as their bytes, read back with
    /// `decode` when a decision takes them. Restored states start as bytes.
    pub fn bounded(max_decoded: usize, decode: DecodeState<S>) -> Self {
        StateStore {
            decoded: Decoded::new(max_decoded),
            decode: Some(decode),
            ..StateStore::default()
        }
    }

    /// Takes a key's state out for a decision; [`StateStore::put`] returns it.
    pub fn take(&mut self, key: &str) -> Result<Option<S>, StateReadError> {
        let Some(entry) = self.entries.get_mut(key) else {
            return Ok(None);
        };
        match std::mem::replace(&mut entry.held, Held::Out) {
            Held::Live(state) => {
                entry.referenced = true;
                Ok(Some(*state))
            }
            Held::Out => Ok(None),
            Held::Stored(bytes) => match read(self.decode, key, &bytes) {
                Ok(state) => {
                    entry.decoded_at = self.decoded.admit(&entry.key);
                    crate::metrics::engine().states_decoded.inc();
                    Ok(Some(state))
                }
                Err(e) => {
                    entry.held = Held::Stored(bytes);
                    Err(e)
                }
            },
        }
    }

    /// Calls `f` with a key's state, decoding it for the call if it is kept as
    /// bytes; `None` if the store does not hold the key.
    pub fn with<R>(&self, key: &str, f: impl FnOnce(&S) -> R) -> Result<Option<R>, StateReadError> {
        match self.entries.get(key).map(|e| &e.held) {
            Some(Held::Live(state)) => Ok(Some(f(state))),
            Some(Held::Stored(bytes)) => Ok(Some(f(&read(self.decode, key, bytes)?))),
            Some(Held::Out) | None => Ok(None),
        }
    }

    /// Puts a key's state back (or deletes it) and re-indexes its deadline.
    pub fn put(&mut self, key: String, state: Option<S>, deadline: Option<Timestamp>) {
        match state {
            Some(state) => self.place(key, Value::Live(state), deadline, Mark::Dirty),
            None => self.delete(&key),
        }
    }

    /// A state read from the changelog, with its bytes there. A bounded store
    /// keeps only `bytes` when they are what [`StateStore::bounded`]'s `decode`
    /// reads (`as_written`), and decodes them when a decision takes the state.
    pub fn restore(
        &mut self,
        key: String,
        state: S,
        deadline: Option<Timestamp>,
        bytes: &[u8],
        as_written: bool,
    ) {
        let print = fingerprint(bytes);
        let value = match self.decode {
            Some(_) if as_written => {
                drop(state);
                Value::Stored(bytes.into())
            }
            _ => Value::Live(state),
        };
        self.place(key, value, deadline, Mark::Persisted(print));
    }

    fn place(&mut self, owned: String, value: Value<S>, deadline: Option<Timestamp>, mark: Mark) {
        let shared;
        let fresh = !self.entries.contains_key(owned.as_str());
        let key: &str = if fresh {
            shared = self.insert_empty(owned);
            &shared
        } else {
            &owned
        };
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        if entry.deadline != deadline {
            if let Some(at) = entry.deadline {
                self.timers.remove(&Timer {
                    at,
                    key: entry.key.clone(),
                });
            }
            if let Some(at) = deadline {
                self.timers.insert(Timer {
                    at,
                    key: entry.key.clone(),
                });
            }
            entry.deadline = deadline;
        }
        // Decoded already: out for a decision, or left decoded by the last one.
        let counted = !fresh && !matches!(entry.held, Held::Stored(_));
        match value {
            Value::Live(state) => {
                entry.held = Held::Live(Box::new(state));
                if !counted {
                    entry.decoded_at = self.decoded.admit(&entry.key);
                }
            }
            Value::Stored(bytes) => {
                entry.held = Held::Stored(bytes);
                if counted {
                    self.decoded.release();
                }
            }
        }
        match mark {
            Mark::Persisted(print) => entry.persisted = print,
            Mark::Dirty if !entry.dirty => {
                entry.dirty = true;
                self.dirty.push(entry.key.clone());
            }
            Mark::Dirty => {}
        }
    }

    fn insert_empty(&mut self, key: String) -> Arc<str> {
        let key: Arc<str> = Arc::from(key);
        self.tombstones.remove(&key);
        let entry = Entry {
            key: key.clone(),
            held: Held::Out,
            deadline: None,
            persisted: 0,
            dirty: false,
            referenced: false,
            decoded_at: 0,
        };
        self.entries.insert(key.clone(), entry);
        key
    }

    fn delete(&mut self, key: &str) {
        let Some(entry) = self.entries.remove(key) else {
            return;
        };
        if let Some(at) = entry.deadline {
            self.timers.remove(&Timer {
                at,
                key: entry.key.clone(),
            });
        }
        if !matches!(entry.held, Held::Stored(_)) {
            self.decoded.release();
        }
        if entry.persisted != 0 {
            self.tombstones.insert(entry.key);
        }
    }

    /// The earliest armed timer: its deadline and key.
    pub fn first_timer(&self) -> Option<(Timestamp, &str)> {
        self.timers.first().map(|t| (t.at, &*t.key))
    }

    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.timers.first().map(|t| t.at)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keys whose state is decoded (the others are kept as bytes).
    pub fn decoded_len(&self) -> usize {
        self.decoded.count()
    }

    pub fn timer_count(&self) -> usize {
        self.timers.len()
    }

    pub fn has_changes(&self) -> bool {
        !self.dirty.is_empty() || !self.tombstones.is_empty()
    }

    /// What the changelog must get: every dirty key whose state's encoding
    /// changed, and a tombstone for every deleted key it holds; keys in the order
    /// they were first put back, then the tombstones by key. `encode` gives an
    /// entry and where in it the state's own bytes start (what the fingerprint
    /// covers). Marks them written; on an encoding error marks nothing, and the
    /// error names the key.
    pub fn drain_changes<E>(
        &mut self,
        mut encode: impl FnMut(&S) -> Result<(Vec<u8>, usize), E>,
    ) -> Result<Vec<Change>, (String, E)> {
        let mut changed = Vec::with_capacity(self.dirty.len());
        for key in &self.dirty {
            let Some(entry) = self.entries.get(key).filter(|e| e.dirty) else {
                continue;
            };
            let Held::Live(state) = &entry.held else {
                continue;
            };
            let (bytes, from) = encode(state).map_err(|e| (key.to_string(), e))?;
            let print = fingerprint(bytes.get(from..).unwrap_or_default());
            changed.push((key.clone(), bytes, print));
        }
        let mut out = Vec::with_capacity(changed.len() + self.tombstones.len());
        for key in self.dirty.drain(..) {
            if let Some(entry) = self.entries.get_mut(&key) {
                entry.dirty = false;
            }
        }
        for (key, bytes, print) in changed {
            let Some(entry) = self.entries.get_mut(&key) else {
                continue;
            };
            if print != entry.persisted {
                entry.persisted = print;
                out.push((key.to_string(), Some(bytes)));
            }
        }
        let mut gone: Vec<Arc<str>> = self.tombstones.drain().collect();
        gone.sort_unstable();
        out.extend(gone.into_iter().map(|key| (key.to_string(), None)));
        Ok(out)
    }
}

fn read<S>(decode: Option<DecodeState<S>>, key: &str, bytes: &[u8]) -> Result<S, StateReadError> {
    let failed = |reason: String| StateReadError {
        key: key.to_string(),
        reason,
    };
    let decode = decode.ok_or_else(|| failed("the store has no decoder".into()))?;
    decode(bytes).map_err(failed)
}
