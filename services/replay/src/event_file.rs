//! The JSON-lines event file format shared by `replay` and the sample publisher.

use anyhow::{bail, Context};
use serde_json::Value;
use wismo_codec::{subjects, Codec, DATE_DAYS_RANGE, TIMESTAMP_MILLIS_RANGE};
use wismo_config::Topics;
use wismo_core::model::{serde_time, CarrierScan, OrderEvent, Timestamp};

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

impl EventLine {
    /// The bytes a shop or a 3PL would publish for this line: Avro with Confluent
    /// framing; `value_raw` as it is. `shift` moves every time in the record (and
    /// day in a date) by that much.
    pub fn payload(&self, topics: &Topics, shift: chrono::Duration) -> anyhow::Result<Vec<u8>> {
        let codec = Codec::default();
        let topic = topics.resolve(&self.topic);
        match &self.value {
            LineValue::Raw(raw) => Ok(raw.clone().into_bytes()),
            LineValue::Record(value) if topic == topics.orders => {
                let mut event: OrderEvent = codec.decode_json(subjects::ORDER_EVENT, value)?;
                event.occurred_at = shift_time(event.occurred_at, shift)?;
                if let Some(p) = event.placed.as_mut() {
                    p.promised_delivery_date = shift_date(p.promised_delivery_date, shift)?;
                }
                Ok(codec.encode(subjects::ORDER_EVENT, &event)?)
            }
            LineValue::Record(value) if topic == topics.carrier_scans => {
                let mut scan: CarrierScan = codec.decode_json(subjects::CARRIER_SCAN, value)?;
                scan.occurred_at = shift_time(scan.occurred_at, shift)?;
                scan.carrier_edd = shift_date(scan.carrier_edd, shift)?;
                Ok(codec.encode(subjects::CARRIER_SCAN, &scan)?)
            }
            LineValue::Record(_) => bail!("topic {topic} is not an input topic"),
        }
    }
}

// Checked, and kept in the range the codec reads back: a shifted time past chrono's
// end would panic, one past year 9999 would be published and then dead-lettered.
fn shift_time(t: Timestamp, shift: chrono::Duration) -> anyhow::Result<Timestamp> {
    t.checked_add_signed(shift)
        .filter(|t| TIMESTAMP_MILLIS_RANGE.contains(&t.timestamp_millis()))
        .with_context(|| format!("`occurred_at` {t} shifted by {shift} is out of range"))
}

fn shift_date(
    d: Option<chrono::NaiveDate>,
    shift: chrono::Duration,
) -> anyhow::Result<Option<chrono::NaiveDate>> {
    let days = chrono::Duration::days(shift.num_days());
    d.map(|d| {
        d.checked_add_signed(days)
            .filter(|d| DATE_DAYS_RANGE.contains(&serde_time::date::to_days(*d)))
            .with_context(|| format!("date {d} shifted by {days} is out of range"))
    })
    .transpose()
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
    // The range records may carry too: replay's horizon and `--shift-to-now` add to it.
    if !TIMESTAMP_MILLIS_RANGE.contains(&timestamp.timestamp_millis()) {
        bail!("`timestamp` {timestamp} is outside years 0000 to 9999");
    }
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

    /// Bug found running `replay` on an edge seed of the `event_file` fuzz target: a
    /// line `timestamp` near the end of chrono's range parsed, then `replay` panicked
    /// adding its horizon (`end + horizon`), as `wismoctl publish --shift-to-now`
    /// did adding the shift.
    #[test]
    fn timestamps_outside_years_0000_to_9999_are_refused() {
        let line = |ts: &str| format!("{{\"topic\":\"t\",\"timestamp\":{ts},\"value_raw\":\"x\"}}");
        for ok in [
            "-62167219200000",
            "253402300799999",
            "\"9999-12-31T23:59:59.999Z\"",
        ] {
            parse(&line(ok)).unwrap_or_else(|e| panic!("{ok}: {e:#}"));
        }
        for bad in [
            "-62167219200001",
            "253402300800000",
            "8210266876799999",
            "\"0000-01-01T00:00:00+01:00\"",
        ] {
            let err = format!("{:#}", parse(&line(bad)).unwrap_err());
            assert!(
                err.starts_with("line 1: ") && err.contains("outside years"),
                "{err}"
            );
        }
    }

    /// Bugs found writing and running the `event_file` fuzz target, which asserts
    /// both: a shift as `wismoctl publish --shift-to-now` computes it (now minus the
    /// last line's `timestamp`) moved a record time or date past the end of chrono's
    /// range and panicked ("`DateTime + TimeDelta` overflowed"); or moved it past
    /// year 9999 (the target's edge seed: a file spanning years 0000 to 9999), giving
    /// a payload wismo's own decoder refuses.
    #[test]
    fn a_shift_out_of_the_representable_range_is_an_error() {
        let topics = Topics::from_env(&wismo_config::Env::default());
        // The first instant and the last date records may carry (years 0000 to 9999).
        let (year_0_ms, year_9999_days) = (-62_167_219_200_000_i64, 2_932_896);
        let scan = |occurred_at: i64, edd: i32| {
            format!(
                "{{\"topic\":\"carrier-scans\",\"timestamp\":0,\"value\":{{\"scan_id\":\"s\",\
                 \"tracking_number\":\"t\",\"carrier\":\"ups\",\"raw_status\":\"D\",\
                 \"occurred_at\":{occurred_at},\"carrier_edd\":{edd}}}}}"
            )
        };
        let order = format!(
            "{{\"topic\":\"orders\",\"timestamp\":0,\"value\":{{\"event_id\":\"e\",\
             \"order_id\":\"o\",\"occurred_at\":{year_0_ms},\"placed\":{{\"customer\":{{\
             \"customer_id\":\"c\",\"locale\":\"en-US\",\"timezone\":\"UTC\",\
             \"channels\":[]}},\"items\":[],\"promised_delivery_date\":{year_9999_days}}}}}}}"
        );
        let years = |n: i64| chrono::Duration::days(n * 366);
        let cases = [
            (scan(1_772_442_000_000, 0), years(300_000)),
            (scan(1_772_442_000_000, 0), years(-300_000)),
            // The time stays in range, the date does not.
            (scan(year_0_ms, year_9999_days), years(255_000)),
            (order.clone(), years(255_000)),
            // Within chrono's range, but past what the codec reads back.
            (order, years(1)),
            (scan(year_0_ms, 0), years(-1)),
        ];
        for (text, shift) in cases {
            let lines = parse(&text).unwrap();
            let line = &lines[0].1;
            let err = line.payload(&topics, shift).unwrap_err();
            assert!(format!("{err:#}").contains("out of range"), "{err:#}");
            line.payload(&topics, chrono::Duration::zero())
                .unwrap_or_else(|e| panic!("{text}: {e:#}"));
        }
    }
}
