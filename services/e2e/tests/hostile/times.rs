//! Times no real record has: an Avro long at its ends, chrono's first and last
//! instants, dates at the ends of an Avro int, and record timestamps from 1970.
//! Outside years 0000 to 9999 the codec refuses them (`decode`); inside, the time
//! windows do (`invalid`). Nothing panics, and the next order is decided.

use crate::support::{assert_bounded, letter, Pipeline};
use chrono::{DateTime, Duration, Utc};
use wismo_codec::apache_avro::types::Value;
use wismo_e2e::alter_topic_config;
use wismo_e2e::hostile::{
    order_bytes, placed, scan, scan_bytes, shipment, with_field, Rec, HOSTILE_MILLIS,
};

#[test]
fn times_at_the_ends_of_i64_and_chrono_are_dead_lettered_and_the_next_order_decided(
) -> anyhow::Result<()> {
    // A record stamped ahead waits for the wall clock to reach its time, at most
    // this far ahead, and so do the records behind it in its partition.
    let mut p = Pipeline::start(&[("WISMO_MAX_FUTURE_TIMESTAMP", "2s")], &[])?;
    let (orders, scans) = (p.topic("orders"), p.topic("carrier-scans"));
    let now = Utc::now();
    let framed_scan = |key: &str| scan_bytes(&scan(key, &format!("{key}-1"), "picked_up", now));
    let framed_order = |key: &str| order_bytes(&placed(key, now));

    // (key, topic, value, error kind, what the reason says).
    let mut cases: Vec<(String, &str, Vec<u8>, &str, &str)> = Vec::new();
    const OUT: &str = "outside years 0000 to 9999";
    for (n, millis) in HOSTILE_MILLIS.into_iter().enumerate() {
        let key = format!("TRK-at-{n}");
        let v = with_field(
            &framed_scan(&key)?,
            "occurred_at",
            Value::TimestampMillis(millis),
        )?;
        cases.push((key, &scans, v, "decode", OUT));
        let key = format!("o-at-{n}");
        let v = with_field(
            &framed_order(&key)?,
            "occurred_at",
            Value::TimestampMillis(millis),
        )?;
        cases.push((key, &orders, v, "decode", OUT));
    }
    for (n, days) in [i32::MAX, i32::MIN].into_iter().enumerate() {
        let key = format!("TRK-edd-{n}");
        let v = with_field(&framed_scan(&key)?, "carrier_edd", Value::Date(days))?;
        cases.push((key, &scans, v, "decode", OUT));
    }
    // The last instant the format carries, and the first: decoded, then refused
    // by the time windows.
    let last = DateTime::from_timestamp_millis(253_402_300_799_999).expect("9999");
    let first = DateTime::from_timestamp_millis(-62_167_219_200_000).expect("0000");
    let s = scan("TRK-9999", "TRK-9999-1", "picked_up", last);
    cases.push((
        "TRK-9999".into(),
        &scans,
        scan_bytes(&s)?,
        "invalid",
        "WISMO_LIMIT_SCAN_FUTURE",
    ));
    let o = placed("o-0000", first);
    cases.push((
        "o-0000".into(),
        &orders,
        order_bytes(&o)?,
        "invalid",
        "WISMO_LIMIT_EVENT_AGE",
    ));
    let mut o = placed("o-promise-9999", now);
    o.placed.as_mut().expect("placed").promised_delivery_date = Some(last.date_naive());
    cases.push((
        "o-promise-9999".into(),
        &orders,
        order_bytes(&o)?,
        "invalid",
        "WISMO_LIMIT_PROMISE_AHEAD",
    ));
    let mut records: Vec<Rec> = cases
        .iter()
        .map(|(key, topic, value, _, _)| Rec::new(topic, key, value.clone()))
        .collect();
    // A record timestamp of 1970 makes a scan of today one from the far future
    // (1 ms in: librdkafka reads 0 as "now").
    let epoch = Rec::new(&scans, "TRK-1970", framed_scan("TRK-1970")?).at(1);
    records.push(epoch);
    p.send(&records)?;

    let dead = p.dead_letters(cases.len() + 1)?;
    assert_eq!(
        dead.len(),
        cases.len() + 1,
        "{}",
        crate::support::summary(&dead)
    );
    for (key, _, _, kind, says) in &cases {
        let d = letter(&dead, key);
        assert_eq!(d["error_kind"], *kind, "{}", d["reason"]);
        assert!(
            d["reason"].as_str().is_some_and(|r| r.contains(says)),
            "{}",
            d["reason"]
        );
    }
    let d = letter(&dead, "TRK-1970");
    assert!(
        d["reason"]
            .as_str()
            .is_some_and(|r| r.contains("WISMO_LIMIT_SCAN_FUTURE")),
        "{}",
        d["reason"]
    );
    assert_bounded(&dead, &[]);

    // The next order, its shipment and scan are decided as ever.
    let later = Utc::now();
    p.send(&[
        Rec::new(&orders, "o-after", order_bytes(&placed("o-after", later))?),
        Rec::new(
            &orders,
            "o-after",
            order_bytes(&shipment("o-after", "TRK-after", later))?,
        ),
    ])?;
    p.wait_registered("TRK-after")?;
    // Stamped at the end of an i64, where a broker that allows it puts it: the
    // services take it as at most `WISMO_MAX_FUTURE_TIMESTAMP` ahead.
    let forever = i64::MAX.to_string();
    alter_topic_config(
        &p.stage.bootstrap,
        &scans,
        &[("message.timestamp.after.max.ms", &forever)],
    )?;
    let s = scan("TRK-after", "after-1", "picked_up", later);
    p.send(&[Rec::new(&scans, "TRK-after", scan_bytes(&s)?).at(i64::MAX)])?;
    p.wait_notified("SHIPPED", &["o-after"])?;
    let state = p.order("o-after").expect("o-after");
    let latest = (Utc::now() + Duration::seconds(30)).timestamp_millis();
    let active = state["last_activity_at"].as_i64().unwrap_or(i64::MAX);
    assert!(active < latest, "time moved to {active}");
    for key in ["o-0000", "o-promise-9999", "o-at-0"] {
        assert!(p.order(key).is_none(), "{key} left state");
    }
    p.assert_all_running();
    Ok(())
}
