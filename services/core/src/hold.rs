//! The size of held scans, and a bound on them across all the keys of one service
//! instance.
//!
//! Each key's hold is bounded by its own state (count and bytes). Across keys,
//! [`HoldBudget`] follows what each decision leaves held, so a flood of scans for
//! numbers no shipment has cannot grow memory without bound. It only sees the keys
//! this instance decides: a key restored from the changelog counts once it is
//! decided again, and a key whose partition moved away stops counting when its
//! last held scan would have expired, at the latest.

use crate::matcher::HeldScan;
use crate::model::{CarrierScan, Timestamp};
use std::collections::{BTreeSet, HashMap};

/// Bytes a scan counts for in a hold: its text fields plus a fixed overhead for
/// the rest of it (times, the source position), close to its size in the changelog.
pub fn scan_bytes(scan: &CarrierScan) -> usize {
    const FIXED: usize = 160;
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let location = scan.location.as_ref().map_or(0, |l| {
        opt(&l.city) + opt(&l.postal_code) + opt(&l.country) + 40
    });
    FIXED
        + scan.scan_id.len()
        + scan.tracking_number.len()
        + scan.carrier.len()
        + scan.raw_status.len()
        + opt(&scan.raw_status_detail)
        + opt(&scan.description)
        + opt(&scan.order_id)
        + location
}

/// Count and bytes of a hold.
pub fn held_size(held: &[HeldScan]) -> (usize, usize) {
    let bytes = held
        .iter()
        .map(|h| scan_bytes(&h.scan) + h.origin.topic.len())
        .sum();
    (held.len(), bytes)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    count: usize,
    bytes: usize,
    /// When the key's last held scan expires at the latest.
    expires: Timestamp,
}

/// Held scans of every key of one instance.
#[derive(Debug, Default)]
pub struct HoldBudget {
    keys: HashMap<String, Entry>,
    by_expiry: BTreeSet<(Timestamp, String)>,
    count: usize,
    bytes: usize,
}

impl HoldBudget {
    /// What `key` holds after a decision: `count` scans of `bytes`, the last one
    /// expiring at `expires`. A count of zero forgets the key.
    pub fn set(&mut self, key: &str, count: usize, bytes: usize, expires: Timestamp) {
        if let Some(old) = self.keys.remove(key) {
            self.count -= old.count;
            self.bytes -= old.bytes;
            self.by_expiry.remove(&(old.expires, key.to_string()));
        }
        if count == 0 {
            return;
        }
        self.count += count;
        self.bytes += bytes;
        self.keys.insert(
            key.to_string(),
            Entry {
                count,
                bytes,
                expires,
            },
        );
        self.by_expiry.insert((expires, key.to_string()));
    }

    /// Forgets keys whose holds have all expired by `now` (their timers ran on
    /// another instance, or will run here and set them again).
    pub fn expire(&mut self, now: Timestamp) {
        while let Some((at, key)) = self.by_expiry.first().cloned() {
            if at > now {
                break;
            }
            self.set(&key, 0, 0, at);
        }
    }

    /// Whether one more scan of `bytes` fits under `max_count` and `max_bytes`.
    pub fn admits(&self, bytes: usize, max_count: usize, max_bytes: usize) -> Result<(), String> {
        if self.count >= max_count {
            return Err(format!("{} scans are held in all, the limit", self.count));
        }
        if self.bytes + bytes > max_bytes {
            return Err(format!(
                "{} bytes of scans are held in all; {bytes} more would pass the limit of {max_bytes}",
                self.bytes
            ));
        }
        Ok(())
    }

    /// Scans and bytes held in all.
    pub fn totals(&self) -> (usize, usize) {
        (self.count, self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t(h: i64) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    #[test]
    fn totals_follow_each_keys_latest_hold_and_expire() {
        let mut b = HoldBudget::default();
        b.set("a", 2, 500, t(72));
        b.set("b", 1, 300, t(80));
        assert_eq!(b.totals(), (3, 800));
        b.set("a", 3, 700, t(75));
        assert_eq!(b.totals(), (4, 1000));
        assert!(b.admits(100, 5, 1100).is_ok());
        assert!(b.admits(101, 5, 1100).is_err());
        assert!(b.admits(1, 4, 10_000).is_err());
        b.expire(t(75));
        assert_eq!(b.totals(), (1, 300), "a's hold has expired");
        b.set("b", 0, 0, t(80));
        assert_eq!(b.totals(), (0, 0));
        b.expire(t(1000));
        assert_eq!(b.totals(), (0, 0));
    }
}
