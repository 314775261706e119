//! Deterministic command ids: a hash of what caused the command, so a replay or a
//! redelivery after a crash yields the same id and downstream can deduplicate.

use sha2::{Digest, Sha256};

/// A 32-hex-character id from the parts that identify a decision.
pub fn command_id(kind: &str, parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(kind.as_bytes());
    for part in parts {
        // Length-prefix each part so ("ab","c") and ("a","bc") differ.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_cause_same_id_and_boundaries_matter() {
        assert_eq!(
            command_id("n", &["o1", "delivered"]),
            command_id("n", &["o1", "delivered"])
        );
        assert_ne!(command_id("n", &["ab", "c"]), command_id("n", &["a", "bc"]));
        assert_ne!(command_id("n", &["o1"]), command_id("d", &["o1"]));
        assert_eq!(command_id("n", &["x"]).len(), 32);
    }
}
