//! The `replay` event file reader: JSON lines to events, and each line's payload
//! (the Avro record `wismoctl publish` sends), unshifted and shifted the way
//! `publish --shift-to-now` shifts it.
//!
//! Asserted:
//! - no panic, abort or huge allocation, whatever the text or the shift;
//! - an error names its line;
//! - every event line is returned once, with its own line number, sorted by
//!   timestamp, ties in file order;
//! - a `value_raw` payload is the raw bytes; a record's payload decodes as its
//!   topic's subject to the line's record with every time moved by the shift, or
//!   is an error when the record is invalid or the shift would take it out of the
//!   range the codec reads back (years 0000 to 9999).
#![no_main]

// The module itself rather than the `replay` crate, which would bring the Kafka
// runtime (librdkafka, tokio) into every fuzz build; it needs only codec, config
// and core.
#[path = "../../services/replay/src/event_file.rs"]
mod event_file;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use event_file::{parse, EventLine, LineValue};
use libfuzzer_sys::fuzz_target;
use wismo_codec::{subjects, Codec, DATE_DAYS_RANGE, TIMESTAMP_MILLIS_RANGE};
use wismo_config::{Env, Topics};
use wismo_core::model::{serde_time, CarrierScan, OrderEvent, Timestamp};

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return; // the tools read event files as UTF-8 text
    };
    let lines = match parse(text) {
        Ok(lines) => lines,
        Err(e) => {
            let shown = format!("{e:#}");
            assert!(shown.starts_with("line "), "error names no line: {shown}");
            return;
        }
    };

    let file_lines: Vec<&str> = text.lines().collect();
    let events = file_lines
        .iter()
        .filter(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
        .count();
    assert_eq!(lines.len(), events, "not one event per event line");
    for pair in lines.windows(2) {
        let ((n1, a), (n2, b)) = (&pair[0], &pair[1]);
        assert!(
            a.timestamp < b.timestamp || (a.timestamp == b.timestamp && n1 < n2),
            "lines {n1} and {n2} out of order"
        );
    }
    for (n, _) in &lines {
        let raw = file_lines.get(n.wrapping_sub(1)).map(|l| l.trim());
        assert!(
            raw.is_some_and(|l| !l.is_empty() && !l.starts_with('#')),
            "line {n} is not an event line"
        );
    }

    let topics = Topics::from_env(&Env::default());
    // As `wismoctl publish --shift-to-now` at a fixed "now".
    let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let last = lines
        .iter()
        .map(|(_, l)| l.timestamp)
        .max()
        .unwrap_or_default();
    for shift in [Duration::zero(), now - last] {
        for (_, line) in &lines {
            payload(line, &topics, shift);
        }
    }
});

fn payload(line: &EventLine, topics: &Topics, shift: Duration) {
    let codec = Codec::default();
    let result = line.payload(topics, shift);
    let value = match &line.value {
        LineValue::Raw(raw) => {
            assert_eq!(
                result.expect("raw lines always have a payload"),
                raw.as_bytes()
            );
            return;
        }
        LineValue::Record(value) => value,
    };
    let topic = topics.resolve(&line.topic);
    if topic == topics.orders {
        let Ok(mut want) = codec.decode_json::<OrderEvent>(subjects::ORDER_EVENT, value) else {
            assert!(result.is_err(), "an invalid order event has a payload");
            return;
        };
        let shifted = shift_time(want.occurred_at, shift).and_then(|t| {
            let p = want
                .placed
                .as_mut()
                .and_then(|p| p.promised_delivery_date.as_mut());
            match p {
                Some(d) => {
                    *d = shift_date(*d, shift)?;
                    Some(t)
                }
                None => Some(t),
            }
        });
        let Some(at) = shifted else {
            assert!(result.is_err(), "a shift out of range has a payload");
            return;
        };
        want.occurred_at = at;
        let bytes = result.unwrap_or_else(|e| panic!("valid order event, no payload: {e:#}"));
        let got: OrderEvent = codec
            .decode(subjects::ORDER_EVENT, &bytes)
            .unwrap_or_else(|e| panic!("payload does not decode: {e}"));
        assert_eq!(got, want, "payload is not the shifted record");
    } else if topic == topics.carrier_scans {
        let Ok(mut want) = codec.decode_json::<CarrierScan>(subjects::CARRIER_SCAN, value) else {
            assert!(result.is_err(), "an invalid scan has a payload");
            return;
        };
        let at = shift_time(want.occurred_at, shift);
        let edd = match want.carrier_edd {
            Some(d) => shift_date(d, shift).map(Some),
            None => Some(None),
        };
        let (Some(at), Some(edd)) = (at, edd) else {
            assert!(result.is_err(), "a shift out of range has a payload");
            return;
        };
        (want.occurred_at, want.carrier_edd) = (at, edd);
        let bytes = result.unwrap_or_else(|e| panic!("valid scan, no payload: {e:#}"));
        let got: CarrierScan = codec
            .decode(subjects::CARRIER_SCAN, &bytes)
            .unwrap_or_else(|e| panic!("payload does not decode: {e}"));
        assert_eq!(got, want, "payload is not the shifted record");
    } else {
        assert!(
            result.is_err(),
            "a record for {topic}, which is not an input topic"
        );
    }
}

/// Where a shift must land for the payload to exist: inside what the codec reads.
fn shift_time(t: Timestamp, shift: Duration) -> Option<Timestamp> {
    t.checked_add_signed(shift)
        .filter(|t| TIMESTAMP_MILLIS_RANGE.contains(&t.timestamp_millis()))
}

fn shift_date(d: NaiveDate, shift: Duration) -> Option<NaiveDate> {
    d.checked_add_signed(Duration::days(shift.num_days()))
        .filter(|d| DATE_DAYS_RANGE.contains(&serde_time::date::to_days(*d)))
}
