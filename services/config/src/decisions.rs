//! The decision core's knobs, read from `WISMO_*` keys (defaults from the brief).

use crate::env::{ConfigError, Env};
use crate::limits::input_limits;
use std::path::Path;
use wismo_core::calendar::HolidayTables;
use wismo_core::matcher::MatcherConfig;
use wismo_core::status::StatusMapper;
use wismo_core::tracker::TrackerConfig;

pub fn matcher_config(env: &Env) -> Result<MatcherConfig, ConfigError> {
    let d = MatcherConfig::default();
    Ok(MatcherConfig {
        limits: input_limits(env)?,
        hold_window: env.duration("WISMO_MATCHER_HOLD_WINDOW", d.hold_window)?,
        max_held_per_tracking: env.positive(
            "WISMO_MATCHER_MAX_HELD_PER_TRACKING",
            d.max_held_per_tracking as u64,
            10_000,
        )? as usize,
        max_held_bytes_per_tracking: env.positive(
            "WISMO_MATCHER_MAX_HELD_BYTES_PER_TRACKING",
            d.max_held_bytes_per_tracking as u64,
            MAX_KEY_HOLD_BYTES,
        )? as usize,
        max_held_total: env.positive(
            "WISMO_MATCHER_MAX_HELD_TOTAL",
            d.max_held_total as u64,
            MAX_TOTAL_HELD,
        )? as usize,
        max_held_total_bytes: env.positive(
            "WISMO_MATCHER_MAX_HELD_TOTAL_BYTES",
            d.max_held_total_bytes as u64,
            MAX_TOTAL_HELD_BYTES,
        )? as usize,
        mapping_retention: env.duration("WISMO_MATCHER_MAPPING_RETENTION", d.mapping_retention)?,
    })
}

/// A key's hold stays far below the broker's 1 MB record limit, changelog included.
const MAX_KEY_HOLD_BYTES: u64 = 512 * 1024;
const MAX_TOTAL_HELD: u64 = 10_000_000;
const MAX_TOTAL_HELD_BYTES: u64 = 16 << 30;

pub fn tracker_config(env: &Env) -> Result<TrackerConfig, ConfigError> {
    let mapper = match env.optional("WISMO_MAPPINGS_DIR") {
        None => StatusMapper::builtin(),
        Some(dir) => StatusMapper::with_dir(Path::new(&dir))
            .map_err(|e| ConfigError::invalid("WISMO_MAPPINGS_DIR", e.to_string()))?,
    };
    let d = TrackerConfig::default();
    let mut policy = crate::policy::policy_from_env(env)?;
    policy.delay.holidays = match env.optional("WISMO_HOLIDAYS_DIR") {
        None => HolidayTables::builtin(),
        Some(dir) => HolidayTables::with_dir(Path::new(&dir))
            .map_err(|e| ConfigError::invalid("WISMO_HOLIDAYS_DIR", e.to_string()))?,
    };
    check_holiday_countries(&policy.delay)?;
    Ok(TrackerConfig {
        limits: input_limits(env)?,
        mapper,
        coalesce_window: env.duration("WISMO_COALESCE_WINDOW", d.coalesce_window)?,
        stale_window: env.duration("WISMO_STALE_WINDOW", d.stale_window)?,
        hold_window: env.duration("WISMO_TRACKER_HOLD_WINDOW", d.hold_window)?,
        max_held_scans: env.positive(
            "WISMO_TRACKER_MAX_HELD_SCANS",
            d.max_held_scans as u64,
            10_000,
        )? as usize,
        max_held_bytes: env.positive(
            "WISMO_TRACKER_MAX_HELD_BYTES",
            d.max_held_bytes as u64,
            MAX_KEY_HOLD_BYTES,
        )? as usize,
        max_held_total: env.positive(
            "WISMO_TRACKER_MAX_HELD_TOTAL",
            d.max_held_total as u64,
            MAX_TOTAL_HELD,
        )? as usize,
        max_held_total_bytes: env.positive(
            "WISMO_TRACKER_MAX_HELD_TOTAL_BYTES",
            d.max_held_total_bytes as u64,
            MAX_TOTAL_HELD_BYTES,
        )? as usize,
        max_shipments: env.positive("WISMO_TRACKER_MAX_SHIPMENTS", d.max_shipments as u64, 200)?
            as usize,
        seen_scans: env.positive("WISMO_TRACKER_SEEN_SCANS", d.seen_scans as u64, 10_000)? as usize,
        retention: env.duration("WISMO_ORDER_RETENTION", d.retention)?,
        delay: policy.delay,
        notifications: policy.notifications,
        reviews: policy.reviews,
    })
}

/// Every country a carrier observes must have a holiday table, or its holidays
/// would silently count as business days.
fn check_holiday_countries(delay: &wismo_core::delay::DelayPolicy) -> Result<(), ConfigError> {
    for (carrier, countries) in &delay.holiday_countries {
        if let Some(cc) = countries
            .iter()
            .find(|cc| delay.holidays.country(cc).is_none())
        {
            let known: Vec<&str> = delay.holidays.countries().collect();
            return Err(ConfigError::invalid(
                crate::policy::POLICY_FILE_KEY,
                format!(
                    "delay.calendars.{carrier}.holiday_countries: no holiday table for {cc} \
                     (tables: {}); add {}.csv to WISMO_HOLIDAYS_DIR",
                    known.join(", "),
                    cc.to_ascii_lowercase()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let env = Env::from_pairs([("WISMO_COALESCE_WINDOW", "2s")]);
        let c = tracker_config(&env).unwrap();
        assert_eq!(c.coalesce_window, chrono::Duration::seconds(2));
        assert_eq!(c.stale_window, chrono::Duration::days(7));
    }

    #[test]
    fn holiday_tables_come_built_in_and_an_operator_adds_or_replaces_a_country() {
        let c = tracker_config(&Env::from_pairs([("X", "y")])).unwrap();
        let july3 = chrono::NaiveDate::from_ymd_opt(2026, 7, 3).unwrap();
        assert!(c.delay.holidays.country("US").unwrap().contains(&july3));

        let dir = std::env::temp_dir().join(format!("wismo-holidays-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("us.csv"), "date,name\n2026-08-03,Company day\n").unwrap();
        std::fs::write(
            dir.join("pt.csv"),
            "# Portugal\ndate,name\n2026-06-10,Dia de Portugal\n",
        )
        .unwrap();
        let env = Env::from_pairs([("WISMO_HOLIDAYS_DIR", dir.display().to_string())]);
        let c = tracker_config(&env).unwrap();
        let us = c.delay.holidays.country("us").unwrap();
        assert!(!us.contains(&july3), "the file replaces the built-in table");
        assert!(us.contains(&chrono::NaiveDate::from_ymd_opt(2026, 8, 3).unwrap()));
        assert_eq!(c.delay.holidays.country("PT").map(|s| s.len()), Some(1));

        std::fs::write(dir.join("pt.csv"), "date,name\n2026-13-10,x\n").unwrap();
        let err = tracker_config(&env).unwrap_err().to_string();
        assert!(err.contains("WISMO_HOLIDAYS_DIR"), "{err}");
        assert!(
            err.contains("pt.csv: line 2: \"2026-13-10\" is not a date"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_carrier_country_without_a_holiday_table_is_refused() {
        let dir = std::env::temp_dir().join(format!("wismo-policy-cc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("policy.toml");
        std::fs::write(
            &file,
            "[delay.calendars.sagawa]\nholiday_countries = [\"JP\", \"KR\"]\n",
        )
        .unwrap();
        let env = Env::from_pairs([("WISMO_POLICY_FILE", file.display().to_string())]);
        let err = tracker_config(&env).unwrap_err().to_string();
        assert!(
            err.contains("delay.calendars.sagawa.holiday_countries: no holiday table for KR"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bad_mappings_dir_names_the_key() {
        let env = Env::from_pairs([("WISMO_MAPPINGS_DIR", "/nonexistent/wismo-mappings")]);
        let err = tracker_config(&env).unwrap_err().to_string();
        assert!(err.contains("WISMO_MAPPINGS_DIR"), "{err}");
    }
}
