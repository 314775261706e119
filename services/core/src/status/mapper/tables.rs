//! One carrier's CSV table: parsing, checking and lookup.
//!
//! Format: a header `code,detail,status,sub_status,description`, then one row per
//! carrier code. `detail` is empty for "any detail" or names one second-level code
//! (EasyPost's `status_detail`, FedEx's `exceptionCode`). Lines starting with `#`
//! are comments. Codes and details match case-insensitively, trimmed.

use super::{MappingError, Normalized};
use crate::status::{Status, SubStatus};
use serde::Deserialize;
use std::collections::HashMap;
use std::str::FromStr;

/// `(carrier, file contents)` for each named table in `mappings/`.
macro_rules! builtin_tables {
    ($($carrier:literal),* $(,)?) => {
        [$((
            $carrier,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/mappings/", $carrier, ".csv")),
        )),*]
    };
}

/// The tables shipped with wismo, compiled in so the binary needs no files.
pub(super) const BUILTIN: [(&str, &str); 7] =
    builtin_tables!["dhl", "easypost", "fedex", "generic", "shopify", "ups", "usps"];

/// The table used for a carrier that has none of its own.
pub(super) const GENERIC: &str = "generic";

const HEADER: [&str; 5] = ["code", "detail", "status", "sub_status", "description"];

/// How carriers, codes and details are compared.
pub(super) fn key(s: &str) -> String {
    s.trim().to_lowercase()
}

/// A row as written; `description` is for people and is not kept.
#[derive(Deserialize)]
struct Row {
    code: String,
    detail: String,
    status: String,
    sub_status: String,
}

#[derive(Debug, Default)]
pub(super) struct Table {
    /// code → detail → mapping; the empty detail is the "any detail" row.
    rows: HashMap<String, HashMap<String, Normalized>>,
    len: usize,
}

impl Table {
    /// Parses and checks a whole table; `file` names it in errors.
    pub(super) fn parse(file: &str, text: &str) -> Result<Table, MappingError> {
        let fail = |reason: String| MappingError::Table {
            file: file.to_owned(),
            reason,
        };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| fail(csv_reason(&e)))?.clone();
        if headers.iter().ne(HEADER) {
            let line = headers.position().map_or(1, |p| p.line());
            return Err(fail(format!(
                "line {line}: header must be `{}`, found `{}`",
                HEADER.join(","),
                headers.iter().collect::<Vec<_>>().join(",")
            )));
        }

        let mut table = Table::default();
        let mut first_line: HashMap<(String, String), u64> = HashMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| fail(csv_reason(&e)))?;
            let line = record.position().map_or(0, |p| p.line());
            let at = |reason: String| fail(format!("line {line}: {reason}"));

            let row: Row = record
                .deserialize(Some(&headers))
                .map_err(|e| at(e.to_string()))?;
            let code = key(&row.code);
            if code.is_empty() {
                return Err(at("empty code".into()));
            }
            let detail = key(&row.detail);
            let status = Status::from_str(&row.status).map_err(at)?;
            let sub_status = SubStatus::from_str(&row.sub_status).map_err(at)?;
            // `unmapped` must keep meaning "no row matched", or alerts on new codes go quiet.
            if sub_status == SubStatus::Unmapped {
                return Err(at("`unmapped` is reserved for codes with no row".into()));
            }
            if let Some(first) = first_line.insert((code.clone(), detail.clone()), line) {
                return Err(at(format!(
                    "duplicate row for code `{code}`, detail `{detail}` (first at line {first})"
                )));
            }
            table.rows.entry(code).or_default().insert(
                detail,
                Normalized {
                    status,
                    sub_status,
                    mapped: true,
                },
            );
            table.len += 1;
        }
        if table.len == 0 {
            return Err(fail("no rows".into()));
        }
        Ok(table)
    }

    /// The row for `(code, detail)`, else the code's any-detail row. Both keys
    /// must already be normalised with [`key`].
    pub(super) fn lookup(&self, code: &str, detail: &str) -> Option<Normalized> {
        let by_detail = self.rows.get(code)?;
        by_detail.get(detail).or_else(|| by_detail.get("")).copied()
    }

    pub(super) fn row_count(&self) -> usize {
        self.len
    }
}

/// A csv error as `line N: what`, the shape every table error has.
fn csv_reason(e: &csv::Error) -> String {
    match (e.position(), e.kind()) {
        (
            Some(pos),
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            },
        ) => {
            format!(
                "line {}: expected {expected_len} fields, found {len}",
                pos.line()
            )
        }
        (Some(pos), _) => format!("line {}: {e}", pos.line()),
        (None, _) => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> String {
        match Table::parse("t.csv", text) {
            Err(MappingError::Table { reason, .. }) => reason,
            Ok(_) => panic!("table should not load"),
        }
    }

    #[test]
    fn every_builtin_table_parses() {
        for (carrier, text) in BUILTIN {
            let table = Table::parse(carrier, text).unwrap_or_else(|e| panic!("{e}"));
            assert!(table.row_count() > 0, "{carrier}");
        }
    }

    #[test]
    fn comments_and_blank_lines_keep_line_numbers() {
        let text = "# note\ncode,detail,status,sub_status,description\n\nA,,delivered,generic,x\nB,,delivered,nope,x\n";
        assert!(reason(text).starts_with("line 5: "), "{}", reason(text));
    }

    #[test]
    fn short_row_names_its_line() {
        let text = "code,detail,status,sub_status,description\nA,,delivered,generic\n";
        assert_eq!(reason(text), "line 2: expected 5 fields, found 4");
    }

    #[test]
    fn unmapped_and_empty_codes_are_rejected() {
        let head = "code,detail,status,sub_status,description\n";
        assert!(reason(&format!("{head}A,,unknown,unmapped,x\n")).contains("reserved"));
        assert!(reason(&format!("{head} ,,delivered,generic,x\n")).contains("empty code"));
        assert_eq!(reason(head), "no rows");
    }

    #[test]
    fn detail_falls_back_to_any_detail_row() {
        let text = "code,detail,status,sub_status,description\nF,,exception,generic,x\nF,Lost,exception,lost,x\n";
        let table = Table::parse("t.csv", text).unwrap();
        assert_eq!(
            table.lookup("f", "lost").unwrap().sub_status,
            SubStatus::Lost
        );
        assert_eq!(
            table.lookup("f", "other").unwrap().sub_status,
            SubStatus::Generic
        );
        assert_eq!(
            table.lookup("f", "").unwrap().sub_status,
            SubStatus::Generic
        );
        assert!(table.lookup("g", "").is_none());
    }
}
