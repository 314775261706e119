//! Typed configuration from the environment, optionally seeded from a file.
//!
//! `WISMO_CONFIG_FILE` may name a file of `KEY=VALUE` lines (the shape a Kubernetes
//! ConfigMap or an env file has); real environment variables override it. Every
//! error names the key, so a bad value stops the service with a message a platform
//! team can act on.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration key {key}: {reason}")]
    Invalid { key: String, reason: String },
    #[error("configuration file {path}: {reason}")]
    File { path: String, reason: String },
    /// A policy file (see `crate::policy`) that cannot be read or is invalid.
    /// `field` is the path of the offending key, e.g. `delay.thresholds[1].in_transit`;
    /// `None` when the whole file is at fault (unreadable, not TOML).
    #[error("policy file {origin}: {}{reason}", field_prefix(.field))]
    Policy {
        origin: String,
        field: Option<String>,
        reason: String,
    },
}

fn field_prefix(field: &Option<String>) -> String {
    field
        .as_ref()
        .map(|f| format!("field {f}: "))
        .unwrap_or_default()
}

impl ConfigError {
    pub fn invalid(key: &str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.to_string(),
            reason: reason.into(),
        }
    }
}

/// A snapshot of configuration values: file first, environment on top.
#[derive(Debug, Clone, Default)]
pub struct Env {
    values: HashMap<String, String>,
}

impl Env {
    /// Reads `WISMO_CONFIG_FILE` (if set) and the process environment.
    pub fn from_process() -> Result<Self, ConfigError> {
        let mut values = HashMap::new();
        if let Ok(path) = std::env::var("WISMO_CONFIG_FILE") {
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::File {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            values.extend(parse_env_file(&path, &text)?);
        }
        values.extend(std::env::vars());
        Ok(Env { values })
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Env {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// Sets `key`, as a command-line flag overriding the environment would.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_string(), value.into());
    }

    pub fn string(&self, key: &str, default: &str) -> String {
        self.values
            .get(key)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }

    pub fn required(&self, key: &str) -> Result<String, ConfigError> {
        match self.values.get(key) {
            Some(v) if !v.trim().is_empty() => Ok(v.clone()),
            _ => Err(ConfigError::invalid(key, "is required and not set")),
        }
    }

    pub fn optional(&self, key: &str) -> Option<String> {
        self.values
            .get(key)
            .filter(|v| !v.trim().is_empty())
            .cloned()
    }

    /// Parses `key` if set, else returns `default`.
    pub fn parse<T>(&self, key: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.values.get(key) {
            None => Ok(default),
            Some(raw) => raw.trim().parse().map_err(|e: T::Err| {
                ConfigError::invalid(key, format!("`{raw}` is not valid: {e}"))
            }),
        }
    }

    /// Every `(suffix, value)` whose key starts with `prefix`, sorted by key.
    pub fn prefixed(&self, prefix: &str) -> Vec<(String, String)> {
        let mut out: Vec<_> = self
            .values
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|s| (s.to_string(), v.clone())))
            .collect();
        out.sort();
        out
    }

    /// A duration written as `<n>ms`, `<n>s`, `<n>m`, `<n>h` or `<n>d`.
    pub fn duration(
        &self,
        key: &str,
        default: chrono::Duration,
    ) -> Result<chrono::Duration, ConfigError> {
        match self.values.get(key) {
            None => Ok(default),
            Some(raw) => parse_duration(raw).ok_or_else(|| {
                ConfigError::invalid(
                    key,
                    format!("`{raw}` is not a duration like 500ms, 30s, 15m, 72h or 7d"),
                )
            }),
        }
    }

    /// A positive integer, with a sanity ceiling.
    pub fn positive(&self, key: &str, default: u64, max: u64) -> Result<u64, ConfigError> {
        let v: u64 = self.parse(key, default)?;
        if v == 0 || v > max {
            return Err(ConfigError::invalid(
                key,
                format!("{v} is outside 1..={max}"),
            ));
        }
        Ok(v)
    }
}

pub(crate) fn parse_duration(raw: &str) -> Option<chrono::Duration> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = raw.split_at(split);
    let n: i64 = n.parse().ok()?;
    // The checked constructors: an absurd value is a config error, not a panic.
    match unit {
        "ms" => chrono::Duration::try_milliseconds(n),
        "s" => chrono::Duration::try_seconds(n),
        "m" => chrono::Duration::try_minutes(n),
        "h" => chrono::Duration::try_hours(n),
        "d" => chrono::Duration::try_days(n),
        _ => None,
    }
}

fn parse_env_file(path: &str, text: &str) -> Result<HashMap<String, String>, ConfigError> {
    let mut out = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(ConfigError::File {
                path: path.to_string(),
                reason: format!("line {}: expected KEY=VALUE", n + 1),
            });
        };
        out.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_key() {
        let env = Env::from_pairs([("WISMO_BATCH_MAX", "lots")]);
        let err = env
            .positive("WISMO_BATCH_MAX", 10, 100)
            .unwrap_err()
            .to_string();
        assert!(err.contains("WISMO_BATCH_MAX"), "{err}");
        let err = env
            .required("WISMO_BOOTSTRAP_SERVERS")
            .unwrap_err()
            .to_string();
        assert!(err.contains("WISMO_BOOTSTRAP_SERVERS"), "{err}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("72h"), Some(chrono::Duration::hours(72)));
        assert_eq!(
            parse_duration("500ms"),
            Some(chrono::Duration::milliseconds(500))
        );
        assert_eq!(parse_duration("7"), None);
        assert_eq!(parse_duration("7w"), None);
        assert_eq!(parse_duration("99999999999999d"), None);
        let env = Env::from_pairs([("K", "soon")]);
        assert!(env
            .duration("K", chrono::Duration::zero())
            .unwrap_err()
            .to_string()
            .contains("K"));
    }

    #[test]
    fn env_file_lines() {
        let parsed = parse_env_file("f", "# c\nA=1\n B = \"two\" \n").unwrap();
        assert_eq!(parsed["A"], "1");
        assert_eq!(parsed["B"], "two");
        assert!(parse_env_file("f", "nonsense")
            .unwrap_err()
            .to_string()
            .contains("line 1"));
    }
}
