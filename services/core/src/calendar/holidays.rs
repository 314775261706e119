//! Public holidays by country, as data: one CSV per country (`us.csv` serves `US`),
//! `date,name` rows. The built-in tables live in `services/core/holidays/` (their
//! header names the source); an operator adds a country or replaces one with
//! [`HolidayTables::with_dir`], without a rebuild.

use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};

macro_rules! builtin_holidays {
    ($($cc:literal),* $(,)?) => {
        [$((
            $cc,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/holidays/", $cc, ".csv")),
        )),*]
    };
}

const BUILTIN: [(&str, &str); 20] = builtin_holidays![
    "at", "au", "be", "ca", "ch", "cn", "de", "dk", "es", "fr", "gb", "ie", "it", "jp", "mx", "nl",
    "nz", "pl", "se", "us"
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HolidayError {
    #[error("holiday table {file}: {reason}")]
    Table { file: String, reason: String },
}

/// Holiday dates by ISO country code (upper case). Cheap to clone.
#[derive(Clone, PartialEq, Eq)]
pub struct HolidayTables {
    by_country: Arc<BTreeMap<String, BTreeSet<NaiveDate>>>,
}

impl HolidayTables {
    /// The tables shipped with wismo, parsed once per process.
    pub fn builtin() -> Self {
        static BUILTIN_TABLES: OnceLock<HolidayTables> = OnceLock::new();
        BUILTIN_TABLES
            .get_or_init(|| {
                let mut by_country = BTreeMap::new();
                for (cc, text) in BUILTIN {
                    let file = format!("holidays/{cc}.csv");
                    // Compiled-in data, checked by the tests: failing here is a bug.
                    let dates = parse(&file, text).unwrap_or_else(|e| panic!("built-in {e}"));
                    by_country.insert(cc.to_ascii_uppercase(), dates);
                }
                HolidayTables {
                    by_country: Arc::new(by_country),
                }
            })
            .clone()
    }

    /// No holidays at all.
    pub fn empty() -> Self {
        HolidayTables {
            by_country: Arc::new(BTreeMap::new()),
        }
    }

    /// The built-in tables plus every `<cc>.csv` in `dir`; a file replaces the
    /// built-in table of its country.
    pub fn with_dir(dir: &Path) -> Result<Self, HolidayError> {
        let fail = |file: &Path, reason: String| HolidayError::Table {
            file: file.display().to_string(),
            reason,
        };
        let mut paths = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| fail(dir, e.to_string()))?;
        for entry in entries {
            let path = entry.map_err(|e| fail(dir, e.to_string()))?.path();
            if path.is_file()
                && path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
            {
                paths.push(path);
            }
        }
        paths.sort();
        let mut by_country = Self::builtin().by_country.as_ref().clone();
        let mut seen = BTreeSet::new();
        for path in paths {
            let country = path
                .file_stem()
                .and_then(|s| s.to_str())
                .map(|s| s.trim().to_ascii_uppercase())
                .filter(|s| s.len() == 2 && s.chars().all(|c| c.is_ascii_alphabetic()))
                .ok_or_else(|| {
                    fail(
                        &path,
                        "file name is not a two-letter country code (ISO 3166-1, e.g. de.csv)"
                            .into(),
                    )
                })?;
            if !seen.insert(country.clone()) {
                return Err(fail(&path, format!("country {country} has two tables")));
            }
            let text = std::fs::read_to_string(&path).map_err(|e| fail(&path, e.to_string()))?;
            by_country.insert(country, parse(&path.display().to_string(), &text)?);
        }
        Ok(HolidayTables {
            by_country: Arc::new(by_country),
        })
    }

    /// The holidays of `country` (any case), if a table has it.
    pub fn country(&self, country: &str) -> Option<&BTreeSet<NaiveDate>> {
        if country.len() != 2 {
            return None;
        }
        self.by_country.get(&country.to_ascii_uppercase())
    }

    pub fn countries(&self) -> impl Iterator<Item = &str> {
        self.by_country.keys().map(String::as_str)
    }
}

impl Default for HolidayTables {
    fn default() -> Self {
        Self::builtin()
    }
}

impl std::fmt::Debug for HolidayTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HolidayTables ")?;
        f.debug_map()
            .entries(self.by_country.iter().map(|(c, d)| (c, d.len())))
            .finish()
    }
}

/// Parses a `date,name` table; errors name the file and line.
fn parse(file: &str, text: &str) -> Result<BTreeSet<NaiveDate>, HolidayError> {
    let fail = |reason: String| HolidayError::Table {
        file: file.to_string(),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| fail(e.to_string()))?.clone();
    if headers.iter().ne(["date", "name"]) {
        let line = headers.position().map_or(1, |p| p.line());
        return Err(fail(format!(
            "line {line}: header must be `date,name`, found `{}`",
            headers.iter().collect::<Vec<_>>().join(",")
        )));
    }
    let mut dates = BTreeSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| match e.position() {
            Some(p) => fail(format!("line {}: {e}", p.line())),
            None => fail(e.to_string()),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let raw = record.get(0).unwrap_or_default();
        let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
            fail(format!(
                "line {line}: {raw:?} is not a date like 2026-12-25"
            ))
        })?;
        dates.insert(date);
    }
    Ok(dates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn builtin_tables_cover_the_carriers_home_countries_for_years_ahead() {
        let t = HolidayTables::builtin();
        let us = t.country("us").expect("US");
        // Independence Day 2026 falls on a Saturday: observed Friday 3 July.
        assert!(us.contains(&date(2026, 7, 3)) && us.contains(&date(2026, 11, 26)));
        assert!(us.contains(&date(2030, 12, 25)));
        assert!(t.country("DE").unwrap().contains(&date(2026, 10, 3)));
        assert!(t.country("GB").unwrap().contains(&date(2026, 12, 28)));
        assert!(t.country("CA").unwrap().contains(&date(2026, 7, 1)));
        assert!(t.country("FR").unwrap().contains(&date(2026, 7, 14)));
        assert_eq!(t.country("USA"), None);
        assert_eq!(t.countries().count(), BUILTIN.len());
    }

    #[test]
    fn bad_rows_name_file_and_line() {
        let e = parse("x.csv", "# c\ndate,name\n2026-01-01,a\n2026-02-30,b\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "holiday table x.csv: line 4: \"2026-02-30\" is not a date like 2026-12-25"
        );
        let e = parse("x.csv", "day,name\n").unwrap_err();
        assert!(
            e.to_string().contains("line 1: header must be `date,name`"),
            "{e}"
        );
        let e = parse("x.csv", "date,name\n2026-01-01\n").unwrap_err();
        assert!(e.to_string().contains("line 2: "), "{e}");
    }
}
