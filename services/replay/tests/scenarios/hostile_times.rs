//! Times at the ends of chrono's range. Found during the decoder fuzzing work (see
//! docs/reliability.md): a shipment or scan whose `occurred_at` is a day before
//! `DateTime::MAX_UTC`, or an order promised for `NaiveDate::MAX`, panicked the
//! order-tracker's deadline arithmetic (`calendar::next_day` via
//! `findings::stuck_deadline` and `findings::promise_end`).
//!
//! Two layers keep them harmless. The codec refuses times outside years 0000 to
//! 9999, so from Kafka such a record is a `decode` dead letter and the order goes
//! on. And the decision core itself saturates its arithmetic, so even a time that
//! reached it (a future codec, a bug) decides without a panic: the core is driven
//! directly here, past the codec.

use crate::common::{Input, Out, Scenario};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use wismo_core::matcher::MatcherConfig;
use wismo_core::model::{
    CarrierScan, ChannelKind, ContactChannel, Customer, Item, OrderEvent, OrderPlaced, Origin,
    ShipmentCreated,
};
use wismo_core::tracker::{self, TrackerConfig, TrackerInput};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn event(id: &str, at: DateTime<Utc>) -> OrderEvent {
    OrderEvent {
        event_id: id.into(),
        order_id: "o-1".into(),
        occurred_at: at,
        placed: None,
        shipment_created: None,
        cancelled: None,
        return_requested: None,
    }
}

fn placed(promised: NaiveDate) -> OrderEvent {
    OrderEvent {
        placed: Some(OrderPlaced {
            customer: Customer {
                customer_id: "c-1".into(),
                locale: "en-US".into(),
                timezone: "America/New_York".into(),
                channels: vec![ContactChannel {
                    kind: ChannelKind::Email,
                    transactional_consent: true,
                    marketing_consent: true,
                }],
            },
            items: vec![Item {
                sku: "sku-1".into(),
                category: "apparel".into(),
                quantity: 1,
            }],
            promised_delivery_date: Some(promised),
            destination_country: Some("US".into()),
        }),
        ..event("e-placed", now())
    }
}

fn created(at: DateTime<Utc>) -> OrderEvent {
    OrderEvent {
        shipment_created: Some(ShipmentCreated {
            shipment_id: "s-1".into(),
            tracking_number: "1Z1".into(),
            carrier: "ups".into(),
            service_level: None,
            origin_country: None,
            skus: vec!["sku-1".into()],
        }),
        ..event("e-created", at)
    }
}

fn scan(at: DateTime<Utc>) -> CarrierScan {
    CarrierScan {
        scan_id: "scan-1".into(),
        tracking_number: "1Z1".into(),
        carrier: "ups".into(),
        raw_status: "P".into(),
        raw_status_detail: None,
        description: None,
        occurred_at: at,
        location: None,
        carrier_edd: None,
        order_id: None,
    }
}

fn promised() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 6).unwrap()
}

fn far() -> DateTime<Utc> {
    DateTime::<Utc>::MAX_UTC - Duration::days(1)
}

fn early() -> DateTime<Utc> {
    DateTime::<Utc>::MIN_UTC + Duration::days(1)
}

/// The decision core alone, with no codec in front: the three inputs decided, then
/// every timer it asks for over a month. Nothing may panic, and the scan is applied.
fn decide_directly(placed: OrderEvent, created: OrderEvent, scan: CarrierScan) {
    let config = TrackerConfig::default();
    let origin = Origin {
        topic: "routed".into(),
        partition: 0,
        offset: 0,
    };
    let inputs = [
        TrackerInput::Order(placed),
        TrackerInput::Order(created),
        TrackerInput::Scan { scan, origin },
    ];
    let mut state = None;
    for (n, input) in inputs.into_iter().enumerate() {
        let at = now() + Duration::hours(n as i64);
        state = tracker::decide(&config, state, "o-1", input, at).state;
    }
    let mut order = state.expect("the order's state");
    let end = now() + Duration::days(30);
    // As the engine runs timers: a deadline that does not move forward is pushed a
    // millisecond on, so it cannot fire for ever; a month takes few steps.
    let mut clock = now() + Duration::hours(2);
    let mut fired = 0;
    while let Some(due) = tracker::next_deadline(&config, &order) {
        clock = due.max(clock + Duration::milliseconds(1));
        if clock > end {
            break;
        }
        let Some(next) = tracker::on_timer(&config, order, clock).state else {
            return;
        };
        order = next;
        fired += 1;
        assert!(fired < 100, "timers never settle");
    }
    let shipment = order.shipments.get("1Z1").expect("the shipment");
    assert!(
        shipment.seen_scan_ids.contains("scan-1"),
        "the scan was applied: {shipment:?}"
    );
}

/// Through the three services: the hostile record is a dead letter (the codec
/// refuses it), and an ordinary order after it is still confirmed.
fn through_services(hostile: Input) {
    let mut s = Scenario::new(MatcherConfig::default(), TrackerConfig::default(), now());
    s.feed(now(), &hostile);
    let next = OrderEvent {
        order_id: "o-2".into(),
        ..placed(promised())
    };
    s.feed(now() + Duration::minutes(1), &Input::Order(next));
    let out = s.run_to(now() + Duration::days(1));
    let dead: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Out::DeadLetter(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(dead.len(), 1, "{out:#?}");
    assert_eq!(dead[0].error_kind, "decode", "{:?}", dead[0].reason);
    assert!(
        dead[0].reason.contains("outside years 0000 to 9999"),
        "{}",
        dead[0].reason
    );
    assert!(
        out.iter()
            .any(|o| matches!(o, Out::Notification(n) if n.order_id == "o-2")),
        "the next order is still decided: {out:#?}"
    );
}

#[test]
fn ordinary_times_are_decided() {
    decide_directly(
        placed(promised()),
        created(now()),
        scan(now() + Duration::hours(2)),
    );
}

#[test]
fn a_shipment_created_at_the_end_of_time_does_not_panic() {
    decide_directly(placed(promised()), created(far()), scan(now()));
    through_services(Input::Order(created(far())));
}

#[test]
fn a_scan_at_the_end_of_time_does_not_panic() {
    decide_directly(placed(promised()), created(now()), scan(far()));
    through_services(Input::Scan(scan(far())));
}

#[test]
fn an_order_promised_for_the_last_date_does_not_panic() {
    decide_directly(placed(NaiveDate::MAX), created(now()), scan(now()));
    through_services(Input::Order(placed(NaiveDate::MAX)));
}

#[test]
fn times_at_the_start_of_time_do_not_panic() {
    decide_directly(placed(promised()), created(early()), scan(early()));
    through_services(Input::Scan(scan(early())));
}
