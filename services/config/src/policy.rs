//! The policy file: one TOML file with the business rules the services and `replay`
//! apply — delay detection (`[delay]`), notification policy (`[notifications]`:
//! quiet hours, template keys, caps) and review requests (`[reviews]`).
//!
//! `WISMO_POLICY_FILE` names the file; without it every rule keeps its built-in
//! default. A section that is absent keeps the defaults, a partially given section
//! overrides only the keys it gives (see `docs/policy.md` for the two exceptions:
//! `[[delay.thresholds]]` and `[delay.compensation]` replace the default lists).
//!
//! Every error names the file and the path of the offending key, e.g.
//! `policy file /etc/wismo/policy.toml: field delay.thresholds[1].in_transit: "3x" is
//! not a duration like 30s, 72h or 7d`. Unknown keys are errors too, so a typo cannot
//! silently leave a default in force.
//!
//! Adding a section: give [`Policy`] a field, `RawPolicy` an `Option<RawX>` field
//! (with `#[serde(deny_unknown_fields)]` on `RawX`), and merge it in `build`.

use crate::env::{ConfigError, Env};
use chrono::Duration;
use serde::Deserialize;
use std::path::Path;
use wismo_core::delay::DelayPolicy;
use wismo_core::policy::{NotificationPolicy, ReviewPolicy};

mod delay;
mod notifications;
mod reviews;
#[cfg(test)]
mod tests;
mod values;

use values::PolicyDuration;

pub use notifications::COMMAND_KINDS;

/// The environment key naming the policy file.
pub const POLICY_FILE_KEY: &str = "WISMO_POLICY_FILE";

/// The longest duration the policy file accepts anywhere.
pub const MAX_POLICY_DURATION: Duration = Duration::days(366);

/// Everything the policy file configures. `Policy::default()` is the built-in policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// `[delay]`: late and stuck delivery detection.
    pub delay: DelayPolicy,
    /// `[notifications]`: quiet hours, template keys, per-recipient cap, egress rate.
    pub notifications: NotificationPolicy,
    /// `[reviews]`: when to ask for a review.
    pub reviews: ReviewPolicy,
}

/// The policy named by `WISMO_POLICY_FILE`, or the defaults when it is not set.
pub fn policy_from_env(env: &Env) -> Result<Policy, ConfigError> {
    match env.optional(POLICY_FILE_KEY) {
        None => Ok(Policy::default()),
        Some(path) => load_policy(Path::new(path.trim())),
    }
}

/// Reads and validates the policy file at `path`.
pub fn load_policy(path: &Path) -> Result<Policy, ConfigError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Policy {
        origin: origin.clone(),
        field: None,
        reason: format!("cannot be read: {e}"),
    })?;
    parse_policy(&text, &origin)
}

/// Parses and validates policy TOML; `origin` names it in errors (usually its path).
pub fn parse_policy(text: &str, origin: &str) -> Result<Policy, ConfigError> {
    let deserializer = toml::de::Deserializer::parse(text).map_err(|e| ConfigError::Policy {
        origin: origin.to_string(),
        field: None,
        reason: with_position(text, &e),
    })?;
    let raw: RawPolicy = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ConfigError::Policy {
            origin: origin.to_string(),
            // "." is the document itself; "" an empty key (`"" = 1`): no field.
            field: (path != "." && !path.is_empty()).then_some(path),
            reason: inner.message().to_string(),
        }
    })?;
    build(raw).map_err(|(field, reason)| ConfigError::Policy {
        origin: origin.to_string(),
        field: Some(field),
        reason,
    })
}

/// A TOML syntax error with its line and column.
fn with_position(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!("line {line}, column {column}: {}", e.message())
        }
        None => e.message().to_string(),
    }
}

// ---------------------------------------------------------------------------------
// The file as written. Every struct denies unknown keys; values that can be checked
// on their own (durations, weekdays, dates, names) are checked while deserializing,
// so their errors carry the key path. Checks across keys happen in `build`.

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    delay: Option<delay::RawDelay>,
    notifications: Option<notifications::RawNotifications>,
    reviews: Option<reviews::RawReviews>,
}

/// Merges the file over the defaults and runs the checks that span several keys.
/// Errors are `(field path, reason)`.
fn build(raw: RawPolicy) -> Result<Policy, (String, String)> {
    let mut policy = Policy::default();
    if let Some(delay) = raw.delay {
        delay::merge_delay(&mut policy.delay, delay)?;
    }
    if let Some(n) = raw.notifications {
        notifications::merge_notifications(&mut policy.notifications, n)?;
    }
    if let Some(r) = raw.reviews {
        reviews::merge_reviews(&mut policy.reviews, r)?;
    }
    Ok(policy)
}
