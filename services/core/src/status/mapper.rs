//! Carrier code → canonical status, driven by CSV tables (one per carrier, named
//! after it: `ups.csv` serves carrier `ups`). The built-in tables live in
//! `services/core/mappings/`; an operator adds or replaces one with
//! [`StatusMapper::with_dir`], without a rebuild.
//!
//! Lookup: the scan's carrier (trimmed, lowercased) selects its table, or the
//! `generic` table when it has none. In that table the row for `(code, detail)`
//! wins, then the code's any-detail row. No row means `unknown`/`unmapped` with
//! `mapped: false`: another carrier's table is never consulted.

mod tables;

use self::tables::Table;
use super::{Status, SubStatus};
use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The outcome of mapping one raw code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Normalized {
    pub status: Status,
    pub sub_status: SubStatus,
    /// False when no table row matched: the status is then `unknown`/`unmapped`.
    pub mapped: bool,
}

impl Normalized {
    /// The outcome for a code no row matches.
    pub const UNMAPPED: Normalized = Normalized {
        status: Status::Unknown,
        sub_status: SubStatus::Unmapped,
        mapped: false,
    };
}

#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("mapping table {file}: {reason}")]
    Table { file: String, reason: String },
}

/// The loaded tables. Cheap to clone: clones share them.
#[derive(Clone)]
pub struct StatusMapper {
    tables: Arc<BTreeMap<String, Arc<Table>>>,
}

impl StatusMapper {
    /// The tables shipped with wismo, parsed once per process.
    pub fn builtin() -> Self {
        static BUILTIN: OnceLock<StatusMapper> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                // Compiled-in data, checked by the tests: failing here is a bug, not bad input.
                Self::load_builtin().unwrap_or_else(|e| panic!("built-in {e}"))
            })
            .clone()
    }

    fn load_builtin() -> Result<Self, MappingError> {
        let mut tables = BTreeMap::new();
        for (carrier, text) in tables::BUILTIN {
            let file = format!("mappings/{carrier}.csv");
            tables.insert(carrier.to_owned(), Arc::new(Table::parse(&file, text)?));
        }
        Ok(StatusMapper {
            tables: Arc::new(tables),
        })
    }

    /// The built-in tables plus every `*.csv` in `dir` (a file overrides the built-in
    /// table of the carrier it is named after).
    pub fn with_dir(dir: &Path) -> Result<Self, MappingError> {
        let io_error = |path: &Path, e: std::io::Error| MappingError::Table {
            file: path.display().to_string(),
            reason: e.to_string(),
        };
        let mut paths = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
            let path = entry.map_err(|e| io_error(dir, e))?.path();
            let is_csv = path
                .extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
            if is_csv && path.is_file() {
                paths.push(path);
            }
        }
        // Sorted, so that which error is reported first does not depend on the file system.
        paths.sort();

        let mut tables = Self::builtin().tables.as_ref().clone();
        let mut loaded_from: BTreeMap<String, String> = BTreeMap::new();
        for path in paths {
            let file = path.display().to_string();
            let fail = |reason: String| MappingError::Table {
                file: file.clone(),
                reason,
            };
            let carrier = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .map(tables::key)
                .filter(|carrier| !carrier.is_empty())
                .ok_or_else(|| fail("file name is not a carrier code".into()))?;
            // `UPS.csv` and `ups.csv` would both claim `ups`; refuse to pick one silently.
            if let Some(other) = loaded_from.insert(carrier.clone(), file.clone()) {
                return Err(fail(format!("carrier `{carrier}` also has table {other}")));
            }
            let text = fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
            tables.insert(carrier, Arc::new(Table::parse(&file, &text)?));
        }
        Ok(StatusMapper {
            tables: Arc::new(tables),
        })
    }

    pub fn normalize(
        &self,
        carrier: &str,
        raw_status: &str,
        raw_detail: Option<&str>,
    ) -> Normalized {
        let table = self
            .tables
            .get(&tables::key(carrier))
            .or_else(|| self.tables.get(tables::GENERIC));
        let code = tables::key(raw_status);
        let detail = raw_detail.map(tables::key).unwrap_or_default();
        table
            .and_then(|table| table.lookup(&code, &detail))
            .unwrap_or(Normalized::UNMAPPED)
    }

    /// The carriers that have a table (`generic` included), in order.
    pub fn carriers(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }
}

impl Default for StatusMapper {
    fn default() -> Self {
        Self::builtin()
    }
}

impl fmt::Debug for StatusMapper {
    // Hundreds of rows help no one in a log; carriers and row counts do.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StatusMapper ")?;
        f.debug_map()
            .entries(
                self.tables
                    .iter()
                    .map(|(carrier, table)| (carrier, table.row_count())),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tables_load() {
        let mapper = StatusMapper::load_builtin().unwrap_or_else(|e| panic!("{e}"));
        let carriers: Vec<_> = mapper.carriers().collect();
        assert_eq!(
            carriers,
            ["dhl", "easypost", "fedex", "generic", "shopify", "ups", "usps"]
        );
    }

    #[test]
    fn debug_shows_row_counts_not_rows() {
        let shown = format!("{:?}", StatusMapper::builtin());
        assert!(shown.starts_with("StatusMapper {\"dhl\": "), "{shown}");
    }
}
