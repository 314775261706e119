//! Typed configuration from the environment, optionally seeded from a file.
//!
//! `WISMO_CONFIG_FILE` may name a file of `KEY=VALUE` lines (the shape a Kubernetes
//! ConfigMap or an env file has); real environment variables override it. Every
//! error names the key, so a bad value stops the service with a message a platform
//! team can act on.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Display;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

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
    /// Every key and prefix asked for (shared by clones), for `reject_unknown`.
    asked: Arc<Mutex<Asked>>,
}

#[derive(Debug, Default)]
struct Asked {
    keys: BTreeSet<String>,
    prefixes: BTreeSet<String>,
}

/// Read before configuration, straight from the process environment (log setup).
const READ_OUTSIDE_ENV: &[&str] = &["WISMO_LOG_FORMAT"];

/// Variables of wismo's scripts and tests; a service inherits them from a harness.
const SCRIPT_PREFIXES: &[&str] = &[
    "WISMO_E2E_",
    "WISMO_BROKER_",
    "WISMO_BIN_DIR",
    "WISMO_HTTP_BASE_PORT",
];

impl Env {
    /// Reads `WISMO_CONFIG_FILE` (if set) and the process environment.
    pub fn from_process() -> Result<Self, ConfigError> {
        let env = Env::default();
        env.ask("WISMO_CONFIG_FILE");
        let mut values = HashMap::new();
        if let Ok(path) = std::env::var("WISMO_CONFIG_FILE") {
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::File {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            values.extend(parse_env_file(&path, &text)?);
        }
        values.extend(std::env::vars());
        Ok(Env { values, ..env })
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Env {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            asked: Arc::default(),
        }
    }

    /// Sets `key`, as a command-line flag overriding the environment would.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_string(), value.into());
    }

    fn asked(&self) -> std::sync::MutexGuard<'_, Asked> {
        self.asked.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ask(&self, key: &str) {
        self.asked().keys.insert(key.to_string());
    }

    /// The value of `key`, remembering that it was asked for.
    fn get(&self, key: &str) -> Option<&String> {
        self.ask(key);
        self.values.get(key)
    }

    pub fn string(&self, key: &str, default: &str) -> String {
        self.get(key)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }

    pub fn required(&self, key: &str) -> Result<String, ConfigError> {
        match self.get(key) {
            Some(v) if !v.trim().is_empty() => Ok(v.clone()),
            _ => Err(ConfigError::invalid(key, "is required and not set")),
        }
    }

    pub fn optional(&self, key: &str) -> Option<String> {
        self.get(key).filter(|v| !v.trim().is_empty()).cloned()
    }

    /// Parses `key` if set, else returns `default`.
    pub fn parse<T>(&self, key: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => raw.trim().parse().map_err(|e: T::Err| {
                ConfigError::invalid(key, format!("`{raw}` is not valid: {e}"))
            }),
        }
    }

    /// Every `(suffix, value)` whose key starts with `prefix`, sorted by key.
    pub fn prefixed(&self, prefix: &str) -> Vec<(String, String)> {
        self.asked().prefixes.insert(prefix.to_string());
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
        match self.get(key) {
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

    /// Fails naming every `WISMO_*` key that is set (environment or config file)
    /// but that nothing reads: most likely a typo, which would otherwise be ignored
    /// silently. Call it once all configuration is read. Also accepted: keys the
    /// other wismo services read (one env file may serve them all), keys read
    /// outside `Env`, and the variables of wismo's scripts and tests.
    pub fn reject_unknown(&self) -> Result<(), ConfigError> {
        let asked = self.asked();
        let wismo_keys = keys_services_read();
        let known = |k: &str| {
            asked.keys.contains(k)
                || wismo_keys.contains(k)
                || READ_OUTSIDE_ENV.contains(&k)
                || asked.prefixes.iter().any(|p| k.starts_with(p.as_str()))
                || SCRIPT_PREFIXES.iter().any(|p| k.starts_with(p))
        };
        let mut unknown: Vec<&String> = (self.values.keys())
            .filter(|k| k.starts_with("WISMO_") && !known(k))
            .collect();
        unknown.sort();
        let Some(first) = unknown.first() else {
            return Ok(());
        };
        let candidates = asked.keys.iter().chain(&wismo_keys);
        let mut reason = String::from("is set but no wismo service reads it");
        if let Some(near) = candidates.min_by_key(|c| edit_distance(first, c)) {
            if edit_distance(first, near) <= 3 {
                reason.push_str(&format!(" (a typo of {near}?)"));
            }
        }
        if unknown.len() > 1 {
            let rest: Vec<&str> = unknown[1..].iter().map(|k| k.as_str()).collect();
            reason.push_str(&format!("; also unknown: {}", rest.join(", ")));
        }
        Err(ConfigError::invalid(first, reason))
    }
}

/// The keys the configuration readers of this crate ask for, whichever service
/// runs them (asked with nothing set, so no file is read). The shell's own keys
/// need no such list: every service reads them.
fn keys_services_read() -> BTreeSet<String> {
    let probe = Env::default();
    let _ = crate::matcher_config(&probe);
    let _ = crate::tracker_config(&probe);
    let _ = crate::policy::policy_from_env(&probe);
    crate::Topics::from_env(&probe);
    let keys = std::mem::take(&mut probe.asked().keys);
    keys
}

/// Levenshtein distance, for naming the key a typo was meant to be.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
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
    fn unknown_keys_are_named() {
        let env = Env::from_pairs([
            ("WISMO_BOOTSTRAP_SERVERS", "b:9092"),
            ("WISMO_COALESCE_WINDOWS", "2s"),
            ("WISMO_KAFKA_SECURITY_PROTOCOL", "ssl"),
            ("WISMO_LOG_FORMAT", "json"),
            ("WISMO_E2E_KEEP_LOGS", "1"),
            ("WISMO_BROKER_PORT", "19092"),
            // Read by the order-tracker, not by this service: a shared env file.
            ("WISMO_POLICY_FILE", "/etc/wismo/policy.toml"),
            ("HOME", "/root"),
        ]);
        env.required("WISMO_BOOTSTRAP_SERVERS").unwrap();
        env.prefixed("WISMO_KAFKA_");
        let err = env.reject_unknown().unwrap_err().to_string();
        assert_eq!(
            err,
            "configuration key WISMO_COALESCE_WINDOWS: is set but no wismo service \
             reads it (a typo of WISMO_COALESCE_WINDOW?)"
        );
    }

    #[test]
    fn keys_read_and_prefixes_asked_are_known() {
        let env = Env::from_pairs([("WISMO_NEW_KNOB", "1"), ("WISMO_EXTRA_A", "x")]);
        let clone = env.clone();
        assert!(env.reject_unknown().unwrap_err().to_string().contains(
            "configuration key WISMO_EXTRA_A: is set but no wismo service reads it; \
             also unknown: WISMO_NEW_KNOB"
        ));
        clone.string("WISMO_NEW_KNOB", "0");
        clone.prefixed("WISMO_EXTRA_");
        env.reject_unknown().unwrap();
    }

    #[test]
    fn the_config_file_key_is_known() {
        let env = Env::from_process().unwrap();
        assert!(env.asked().keys.contains("WISMO_CONFIG_FILE"));
        assert!(keys_services_read().contains("WISMO_MATCHER_HOLD_WINDOW"));
        assert_eq!(edit_distance("WISMO_BATCH_MAZ", "WISMO_BATCH_MAX"), 1);
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
