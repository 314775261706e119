//! The decision core's knobs, read from `WISMO_*` keys (defaults from the brief).

use crate::env::{ConfigError, Env};
use std::path::Path;
use wismo_core::matcher::MatcherConfig;
use wismo_core::status::StatusMapper;
use wismo_core::tracker::TrackerConfig;

pub fn matcher_config(env: &Env) -> Result<MatcherConfig, ConfigError> {
    let d = MatcherConfig::default();
    Ok(MatcherConfig {
        hold_window: env.duration("WISMO_MATCHER_HOLD_WINDOW", d.hold_window)?,
        max_held_per_tracking: env.positive(
            "WISMO_MATCHER_MAX_HELD_PER_TRACKING",
            d.max_held_per_tracking as u64,
            10_000,
        )? as usize,
        mapping_retention: env.duration("WISMO_MATCHER_MAPPING_RETENTION", d.mapping_retention)?,
    })
}

pub fn tracker_config(env: &Env) -> Result<TrackerConfig, ConfigError> {
    let mapper = match env.optional("WISMO_MAPPINGS_DIR") {
        None => StatusMapper::builtin(),
        Some(dir) => StatusMapper::with_dir(Path::new(&dir))
            .map_err(|e| ConfigError::invalid("WISMO_MAPPINGS_DIR", e.to_string()))?,
    };
    let d = TrackerConfig::default();
    let policy = crate::policy::policy_from_env(env)?;
    Ok(TrackerConfig {
        mapper,
        coalesce_window: env.duration("WISMO_COALESCE_WINDOW", d.coalesce_window)?,
        stale_window: env.duration("WISMO_STALE_WINDOW", d.stale_window)?,
        hold_window: env.duration("WISMO_TRACKER_HOLD_WINDOW", d.hold_window)?,
        max_held_scans: env.positive(
            "WISMO_TRACKER_MAX_HELD_SCANS",
            d.max_held_scans as u64,
            10_000,
        )? as usize,
        retention: env.duration("WISMO_ORDER_RETENTION", d.retention)?,
        delay: policy.delay,
        notifications: policy.notifications,
        reviews: policy.reviews,
    })
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
    fn a_bad_mappings_dir_names_the_key() {
        let env = Env::from_pairs([("WISMO_MAPPINGS_DIR", "/nonexistent/wismo-mappings")]);
        let err = tracker_config(&env).unwrap_err().to_string();
        assert!(err.contains("WISMO_MAPPINGS_DIR"), "{err}");
    }
}
