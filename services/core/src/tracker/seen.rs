//! The scan ids a shipment has seen, to tell a resend from a new scan, bounded.
//!
//! Resends come soon after the scan they repeat, so dedup needs only the most
//! recent ids: the set keeps the last `cap` ids first seen (oldest dropped first).
//! A resend of a scan older than those is applied again, which changes nothing
//! (a shipment's status, estimates and delivery time are the best of its scans)
//! but counts an unmapped code twice. Ids are kept as the first 64 bits of their
//! SHA-256, so the set's size does not depend on how long ids are: a new scan is
//! mistaken for a resend with probability `cap / 2^64` (about 1.4e-17 for 256).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeenScans {
    /// Hashes in the order their scans were first seen.
    hashes: VecDeque<u64>,
}

fn hash(id: &str) -> u64 {
    let digest = Sha256::digest(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

impl SeenScans {
    /// Records `id`; false if it was seen already (a resend). Keeps at most `cap`.
    pub fn insert(&mut self, id: &str, cap: usize) -> bool {
        let h = hash(id);
        if self.hashes.contains(&h) {
            return false;
        }
        self.hashes.push_back(h);
        while self.hashes.len() > cap.max(1) {
            self.hashes.pop_front();
        }
        true
    }

    pub fn contains(&self, id: &str) -> bool {
        self.hashes.contains(&hash(id))
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

/// Written as signed 64-bit numbers (the same bits), which Avro's `long` holds.
impl Serialize for SeenScans {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.hashes.iter().map(|&h| h as i64))
    }
}

/// A changelog entry holds hashes, signed (Avro) or unsigned (JSON, before
/// Avro); one written before ids were hashed holds the ids themselves, which are
/// hashed as they are read.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Hash(u64),
    Signed(i64),
    Id(String),
}

impl<'de> Deserialize<'de> for SeenScans {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let stored = Vec::<Stored>::deserialize(d)?;
        let mut seen = SeenScans::default();
        for s in stored {
            let h = match s {
                Stored::Hash(h) => h,
                Stored::Signed(h) => h as u64,
                Stored::Id(id) => hash(&id),
            };
            if !seen.hashes.contains(&h) {
                seen.hashes.push_back(h);
            }
        }
        Ok(seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resend_is_seen_and_only_the_most_recent_ids_are_kept() {
        let mut s = SeenScans::default();
        assert!(s.insert("a", 3));
        assert!(!s.insert("a", 3), "a resend");
        for id in ["b", "c", "d"] {
            assert!(s.insert(id, 3));
        }
        assert_eq!(s.len(), 3);
        assert!(!s.contains("a"), "the oldest went first");
        assert!(s.contains("b") && s.contains("d"));
    }

    #[test]
    fn the_size_does_not_depend_on_id_length() {
        let mut s = SeenScans::default();
        for n in 0..1000 {
            s.insert(&format!("{n}-{}", "x".repeat(100)), 256);
        }
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(s.len(), 256);
        assert!(json.len() < 256 * 21 + 2, "{} bytes", json.len());
    }

    #[test]
    fn hashes_round_trip_and_ids_of_an_older_changelog_are_read() {
        let mut s = SeenScans::default();
        s.insert("scan-1", 10);
        s.insert("scan-2", 10);
        let back: SeenScans = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        let unsigned = format!("[{}, {}]", hash("scan-1"), hash("scan-2"));
        let unsigned: SeenScans = serde_json::from_str(&unsigned).unwrap();
        assert_eq!(unsigned, s, "as JSON entries held them before Avro");
        let old: SeenScans = serde_json::from_str(r#"["scan-1", "scan-2"]"#).unwrap();
        assert_eq!(old, s);
        assert!(old.contains("scan-2"));
    }
}
