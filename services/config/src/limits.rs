//! The bounds on input (`WISMO_LIMIT_*`), shared by the scan-matcher and the
//! order-tracker so that both refuse exactly the same records.

use crate::env::{ConfigError, Env};
use chrono::Duration;
use wismo_core::model::{InputLimits, Limit};

/// Reads every `WISMO_LIMIT_*` key; a value out of its range names the key.
pub fn input_limits(env: &Env) -> Result<InputLimits, ConfigError> {
    let d = InputLimits::default();
    let size = |limit: Limit, default: usize, min: u64, max: u64| -> Result<usize, ConfigError> {
        let v = env.positive(limit.key(), default as u64, max)?;
        if v < min {
            return Err(ConfigError::invalid(
                limit.key(),
                format!("{v} is outside {min}..={max}"),
            ));
        }
        Ok(v as usize)
    };
    let limits = InputLimits {
        record_bytes: size(Limit::RecordBytes, d.record_bytes, 256, 64 << 20)?,
        field_bytes: size(Limit::FieldBytes, d.field_bytes, 16, 64 << 10)?,
        text_bytes: size(Limit::TextBytes, d.text_bytes, 16, 1 << 20)?,
        items: size(Limit::Items, d.items, 1, 10_000)?,
        channels: size(Limit::Channels, d.channels, 1, 1_000)?,
        event_age: span(env, Limit::EventAge, d.event_age, true)?,
        event_future: span(env, Limit::EventFuture, d.event_future, false)?,
        scan_future: span(env, Limit::ScanFuture, d.scan_future, false)?,
        promise_ahead: span(env, Limit::PromiseAhead, d.promise_ahead, true)?,
        edd_ahead: span(env, Limit::EddAhead, d.edd_ahead, true)?,
    };
    Ok(limits)
}

/// The longest window a time bound may have: far below the years 0000 to 9999 the
/// format carries, so that every deadline computed from an accepted time exists.
const MAX_SPAN_DAYS: i64 = 10 * 366;

/// A duration in `0s..=10 years` (`positive`: above zero).
fn span(
    env: &Env,
    limit: Limit,
    default: Duration,
    positive: bool,
) -> Result<Duration, ConfigError> {
    let v = env.duration(limit.key(), default)?;
    let low_ok = if positive {
        v > Duration::zero()
    } else {
        v >= Duration::zero()
    };
    if !low_ok || v > Duration::days(MAX_SPAN_DAYS) {
        let low = if positive { "above 0s" } else { "at least 0s" };
        return Err(ConfigError::invalid(
            limit.key(),
            format!("must be {low} and at most {MAX_SPAN_DAYS}d"),
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_when_nothing_is_set() {
        assert_eq!(
            input_limits(&Env::default()).unwrap(),
            InputLimits::default()
        );
    }

    #[test]
    fn every_key_is_read_and_overrides_its_default() {
        let env = Env::from_pairs([
            ("WISMO_LIMIT_RECORD_BYTES", "4096"),
            ("WISMO_LIMIT_FIELD_BYTES", "64"),
            ("WISMO_LIMIT_TEXT_BYTES", "512"),
            ("WISMO_LIMIT_ITEMS", "5"),
            ("WISMO_LIMIT_CHANNELS", "2"),
            ("WISMO_LIMIT_EVENT_AGE", "30d"),
            ("WISMO_LIMIT_EVENT_FUTURE", "0s"),
            ("WISMO_LIMIT_SCAN_FUTURE", "10m"),
            ("WISMO_LIMIT_PROMISE_AHEAD", "60d"),
            ("WISMO_LIMIT_EDD_AHEAD", "30d"),
        ]);
        let l = input_limits(&env).unwrap();
        assert_eq!(
            l,
            InputLimits {
                record_bytes: 4096,
                field_bytes: 64,
                text_bytes: 512,
                items: 5,
                channels: 2,
                event_age: Duration::days(30),
                event_future: Duration::zero(),
                scan_future: Duration::minutes(10),
                promise_ahead: Duration::days(60),
                edd_ahead: Duration::days(30),
            }
        );
        env.reject_unknown().unwrap();
    }

    #[test]
    fn a_bad_value_stops_with_the_key_named() {
        for (key, value) in [
            ("WISMO_LIMIT_RECORD_BYTES", "0"),
            ("WISMO_LIMIT_RECORD_BYTES", "100"),
            ("WISMO_LIMIT_FIELD_BYTES", "lots"),
            ("WISMO_LIMIT_ITEMS", "10001"),
            ("WISMO_LIMIT_EVENT_AGE", "0s"),
            ("WISMO_LIMIT_SCAN_FUTURE", "soon"),
            ("WISMO_LIMIT_PROMISE_AHEAD", "5000d"),
        ] {
            let err = input_limits(&Env::from_pairs([(key, value)]))
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("configuration key {key}:")),
                "{err}"
            );
        }
    }
}
