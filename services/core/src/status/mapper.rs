//! Carrier code → canonical status, driven by CSV tables (one per carrier).
//! PLACEHOLDER: the loader and the tables are being written; interface is fixed.

use super::{Status, SubStatus};
use std::path::Path;

/// The outcome of mapping one raw code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Normalized {
    pub status: Status,
    pub sub_status: SubStatus,
    /// False when no table row matched: the status is then `unknown`/`unmapped`.
    pub mapped: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("mapping table {file}: {reason}")]
    Table { file: String, reason: String },
}

#[derive(Debug, Clone, Default)]
pub struct StatusMapper {}

impl StatusMapper {
    /// The tables shipped with wismo.
    pub fn builtin() -> Self {
        StatusMapper {}
    }

    /// The built-in tables plus every `*.csv` in `dir` (a file overrides the built-in
    /// table of the carrier it is named after).
    pub fn with_dir(_dir: &Path) -> Result<Self, MappingError> {
        Ok(StatusMapper {})
    }

    pub fn normalize(
        &self,
        _carrier: &str,
        _raw_status: &str,
        _raw_detail: Option<&str>,
    ) -> Normalized {
        Normalized {
            status: Status::Unknown,
            sub_status: SubStatus::Unmapped,
            mapped: false,
        }
    }
}
