//! The carrier mapping table loader: one CSV table, loaded the way an operator's
//! `WISMO_MAPPINGS_DIR` is (a file named after its carrier, over the built-ins).
//!
//! Asserted:
//! - no panic, abort or huge allocation, whatever the text;
//! - an error names the file, and a line that exists when it names a line;
//! - a table that loads maps each of its rows to exactly that row's status and
//!   sub-status (read back with the csv crate as an independent oracle), never
//!   to `unmapped`; a code it lacks is `unknown`/`unmapped` (no other table is
//!   consulted); the built-in carriers stay loaded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::OnceLock;
use wismo_core::status::{MappingError, Normalized, StatusMapper, SubStatus};

const CARRIER: &str = "fuzzcarrier";

/// One directory per fuzzing process; the loader reads tables from a directory.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("wismo-fuzz-mapping-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    })
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return; // the loader reads tables as UTF-8 text
    };
    let path = dir().join(format!("{CARRIER}.csv"));
    std::fs::write(&path, text).expect("write table");
    match StatusMapper::with_dir(dir()) {
        Ok(mapper) => loaded(&mapper, text),
        Err(MappingError::Table { file, reason }) => {
            assert_eq!(file, path.display().to_string(), "error names another file");
            if let Some(rest) = reason.strip_prefix("line ") {
                let n: usize = rest
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("unparsable line number in {reason:?}"));
                let lines = text.lines().count().max(1);
                assert!(
                    (1..=lines + 1).contains(&n),
                    "line {n} of {lines}: {reason}"
                );
            }
        }
    }
});

fn loaded(mapper: &StatusMapper, text: &str) {
    let carriers: Vec<&str> = mapper.carriers().collect();
    for builtin in [
        "dhl", "easypost", "fedex", "generic", "shopify", "ups", "usps", CARRIER,
    ] {
        assert!(
            carriers.contains(&builtin),
            "{builtin} missing after loading a table"
        );
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut codes = HashSet::new();
    let mut rows = 0;
    for record in reader.records() {
        let record = record.expect("the loader accepted this table");
        let (code, detail, status, sub_status) = (&record[0], &record[1], &record[2], &record[3]);
        let got = mapper.normalize(CARRIER, code, Some(detail));
        assert!(got.mapped, "row {record:?} does not map");
        assert_ne!(got.sub_status, SubStatus::Unmapped, "row {record:?}");
        assert_eq!(
            (got.status.as_str(), got.sub_status.as_str()),
            (status, sub_status),
            "row {record:?}"
        );
        codes.insert(code.trim().to_lowercase());
        rows += 1;
    }
    assert!(rows > 0, "a table with no rows loaded");
    // A code no row has: grown from the longest code until it is new.
    let mut absent = codes
        .iter()
        .max_by_key(|c| c.len())
        .cloned()
        .unwrap_or_default();
    while codes.contains(&absent) {
        absent.push('x');
    }
    assert_eq!(
        mapper.normalize(CARRIER, &absent, None),
        Normalized::UNMAPPED,
        "a code the table lacks mapped"
    );
}
