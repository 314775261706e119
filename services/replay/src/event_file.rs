//! The JSON-lines event file format shared by `replay` and the sample publisher.

use anyhow::{bail, Context};
use serde_json::Value;
use wismo_core::model::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub enum LineValue {
    /// The record in its schema's JSON shape.
    Record(Value),
    /// Bytes that are not a record (a publisher's bug), kept to test dead-lettering.
    Raw(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventLine {
    pub topic: String,
    pub key: Option<String>,
    pub timestamp: Timestamp,
    pub value: LineValue,
}

/// Parses every non-blank line not starting with `#`; errors name the line. Lines
/// are returned with their 1-based numbers, sorted by timestamp (stable).
pub fn parse(text: &str) -> anyhow::Result<Vec<(usize, EventLine)>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let raw = raw.trim();
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let v: Value = serde_json::from_str(raw).with_context(|| format!("line {n}: not JSON"))?;
        out.push((n, line(&v).with_context(|| format!("line {n}"))?));
    }
    out.sort_by_key(|(_, l)| l.timestamp);
    Ok(out)
}

fn line(v: &Value) -> anyhow::Result<EventLine> {
    let topic = v
        .get("topic")
        .and_then(Value::as_str)
        .context("`topic` is missing")?;
    let key = v.get("key").and_then(Value::as_str).map(str::to_string);
    let timestamp = match v.get("timestamp") {
        Some(Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
            .with_context(|| format!("`timestamp` {s:?} is not RFC 3339"))?
            .with_timezone(&chrono::Utc),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(chrono::DateTime::from_timestamp_millis)
            .context("`timestamp` is not epoch milliseconds")?,
        _ => bail!("`timestamp` is missing"),
    };
    let value = match (v.get("value"), v.get("value_raw")) {
        (Some(record), None) => LineValue::Record(record.clone()),
        (None, Some(Value::String(raw))) => LineValue::Raw(raw.clone()),
        _ => bail!("exactly one of `value` or `value_raw` (a string) is needed"),
    };
    Ok(EventLine {
        topic: topic.to_string(),
        key,
        timestamp,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_sorts_by_timestamp_and_names_bad_lines() {
        let text = "# comment\n{\"topic\":\"orders\",\"key\":\"o\",\"timestamp\":\"2026-03-02T10:00:00Z\",\"value\":{}}\n{\"topic\":\"carrier-scans\",\"timestamp\":1772442000000,\"value_raw\":\"junk\"}\n";
        let lines = parse(text).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].0, 3, "the earlier timestamp first");
        assert_eq!(lines[0].1.value, LineValue::Raw("junk".into()));
        let err = parse("{\"topic\":\"orders\"}").unwrap_err();
        assert!(format!("{err:#}").contains("line 1"), "{err:#}");
    }
}
