//! The instance's scratch directory for spills of merged inputs (see the engine's
//! merged queue): made empty at start-up, removed on a clean stop.

use anyhow::Context;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Removes the directory when the service stops.
pub struct SpillDir {
    path: PathBuf,
}

impl SpillDir {
    /// `<root>/<service>-<instance>-<pid>`: a restarted container (same pid, same
    /// emptyDir) finds its predecessor's files and removes them; instances sharing
    /// a root never meet.
    pub fn prepare(root: &Path, service: &str, instance: &str) -> anyhow::Result<Self> {
        let name: String = format!("{service}-{instance}-{}", std::process::id())
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = root.join(name);
        let fail = || {
            format!(
                "WISMO_SPILL_DIR: {} is not a writable directory",
                root.display()
            )
        };
        if path.exists() {
            fs::remove_dir_all(&path).with_context(fail)?;
        }
        fs::create_dir_all(&path).with_context(fail)?;
        let probe = path.join("probe");
        fs::write(&probe, b"wismo").with_context(fail)?;
        fs::remove_file(&probe).with_context(fail)?;
        Ok(SpillDir { path })
    }

    pub fn path(&self) -> Arc<Path> {
        Arc::from(self.path.as_path())
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_empty_and_removed_on_drop_and_a_bad_root_names_the_key() {
        let root = std::env::temp_dir().join(format!("wismo-spilldir-test-{}", std::process::id()));
        let first = SpillDir::prepare(&root, "order-tracker", "pod/0").expect("prepare");
        fs::write(first.path().join("left-over.spill"), b"x").expect("write");
        std::mem::forget(first);
        // The same instance again, as after a crash: its old files are gone.
        let again = SpillDir::prepare(&root, "order-tracker", "pod/0").expect("prepare");
        assert_eq!(fs::read_dir(again.path()).expect("dir").count(), 0);
        let path = again.path();
        drop(again);
        assert!(!path.exists());
        fs::remove_dir_all(&root).expect("clean");

        let file = std::env::temp_dir().join(format!("wismo-spilldir-file-{}", std::process::id()));
        fs::write(&file, b"not a directory").expect("write");
        let e = SpillDir::prepare(&file, "dispatcher", "x")
            .err()
            .expect("refused");
        assert!(format!("{e:#}").contains("WISMO_SPILL_DIR"), "{e:#}");
        fs::remove_file(&file).expect("clean");
    }
}
