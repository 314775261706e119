//! Decision quality: what wismo sent, measured against what really happened.

use super::generator::{Order, Parcel};
use super::model::Truth;
use chrono::{Datelike, Duration, Weekday};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use wismo_core::model::{
    DelayApologyCommand, NotificationCommand, ReviewRequestCommand, Timestamp,
};
use wismo_core::policy::NotificationPolicy;

/// One kind of parcel truth: how many, how many should hear an apology and could
/// (a consented channel), how many did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Class {
    pub parcels: u64,
    pub reachable: u64,
    pub apologised: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Quality {
    pub orders: u64,
    pub parcels: u64,
    pub by_truth: BTreeMap<Truth, Class>,
    /// Hours from the end of the promised day to the first apology naming the parcel.
    pub lead_hours: Vec<f64>,
    /// Parcels whose truth was fine (or a return) named in an apology, by the rule.
    pub false_by_rule: BTreeMap<String, u64>,
    /// The same, by the kind of day it was detected on.
    pub false_by_day: BTreeMap<String, u64>,
    pub false_parcels: u64,
    pub quiet_sends: u64,
    pub duplicate_milestones: u64,
    pub max_apologies_per_24h: usize,
    pub apologies_by_rule: BTreeMap<String, u64>,
    pub notifications: u64,
    pub apologies: u64,
    pub reviews: u64,
    pub reviews_for_problem_orders: u64,
    pub reviews_outside_window: u64,
    /// Orders by how many messages they got.
    pub messages_per_order: BTreeMap<usize, u64>,
    /// Returned or refused parcels of reachable customers, and of them those told
    /// both that the parcel is on its way back and that it is back.
    pub returns: u64,
    pub returns_told: u64,
}

impl Quality {
    pub fn recall(&self) -> (u64, u64) {
        self.by_truth
            .iter()
            .filter(|(t, _)| t.wants_apology())
            .fold((0, 0), |(r, a), (_, c)| (r + c.reachable, a + c.apologised))
    }
}

struct Commands {
    notifications: Vec<NotificationCommand>,
    apologies: Vec<DelayApologyCommand>,
    reviews: Vec<ReviewRequestCommand>,
}

fn parse(lines: &[Value]) -> Commands {
    let mut c = Commands {
        notifications: Vec::new(),
        apologies: Vec::new(),
        reviews: Vec::new(),
    };
    for line in lines {
        let value = line["value"].clone();
        match line["topic"].as_str() {
            Some("notification-commands") => {
                c.notifications.extend(serde_json::from_value(value).ok())
            }
            Some("delay-apology-commands") => {
                c.apologies.extend(serde_json::from_value(value).ok())
            }
            Some("review-request-commands") => c.reviews.extend(serde_json::from_value(value).ok()),
            _ => {}
        }
    }
    c
}

pub fn measure(orders: &[Order], lines: &[Value]) -> Quality {
    let c = parse(lines);
    let mut q = Quality {
        orders: orders.len() as u64,
        notifications: c.notifications.len() as u64,
        apologies: c.apologies.len() as u64,
        reviews: c.reviews.len() as u64,
        ..Quality::default()
    };
    let mut apologies_of: HashMap<&str, Vec<&DelayApologyCommand>> = HashMap::new();
    for a in &c.apologies {
        apologies_of.entry(a.order_id.as_str()).or_default().push(a);
        *q.apologies_by_rule
            .entry(a.reason.as_str().to_string())
            .or_default() += 1;
    }
    let mut notices_of: HashMap<&str, Vec<&NotificationCommand>> = HashMap::new();
    for n in &c.notifications {
        notices_of.entry(n.order_id.as_str()).or_default().push(n);
    }
    let policy = NotificationPolicy::default();
    let holidays = wismo_core::delay::DelayPolicy::default().holidays;

    for order in orders {
        let placed = order.placed.placed.as_ref();
        let consented = placed.is_some_and(|p| {
            p.customer
                .channels
                .iter()
                .any(|ch| ch.transactional_consent)
        });
        let country = placed
            .and_then(|p| p.destination_country.clone())
            .unwrap_or_default();
        let mine = apologies_of
            .get(order.placed.order_id.as_str())
            .cloned()
            .unwrap_or_default();
        for parcel in &order.parcels {
            q.parcels += 1;
            let class = q.by_truth.entry(parcel.truth).or_default();
            class.parcels += 1;
            let naming: Vec<&&DelayApologyCommand> = mine
                .iter()
                .filter(|a| a.tracking_numbers.contains(&parcel.tracking))
                .collect();
            if parcel.truth.wants_apology() {
                if consented {
                    class.reachable += 1;
                    if let Some(first) = naming.iter().min_by_key(|a| a.send_at) {
                        class.apologised += 1;
                        q.lead_hours
                            .push((first.send_at - parcel.promise_end).num_minutes() as f64 / 60.0);
                    }
                }
            } else if let Some(first) = naming.iter().min_by_key(|a| a.detectable_at) {
                q.false_parcels += 1;
                *q.false_by_rule
                    .entry(first.reason.as_str().to_string())
                    .or_default() += 1;
                let day = first
                    .detectable_at
                    .with_timezone(&order.timezone)
                    .date_naive();
                let after_holiday = holidays
                    .country(&country)
                    .is_some_and(|h| h.contains(&(day - Duration::days(1))) || h.contains(&day));
                let kind = match day.weekday() {
                    _ if after_holiday => "on or after a public holiday",
                    Weekday::Sat | Weekday::Sun => "weekend",
                    Weekday::Mon => "Monday",
                    _ => "Tuesday to Friday",
                };
                *q.false_by_day.entry(kind.to_string()).or_default() += 1;
            }
            if consented && matches!(parcel.truth, Truth::Returned | Truth::Refused) {
                q.returns += 1;
                let told = |template: &str| {
                    notices_of
                        .get(order.placed.order_id.as_str())
                        .is_some_and(|ns| {
                            ns.iter().any(|n| {
                                n.tracking_number.as_deref() == Some(&parcel.tracking)
                                    && n.template_key == template
                            })
                        })
                };
                if told("returning_to_sender") && told("returned_to_sender") {
                    q.returns_told += 1;
                }
            }
        }
        q.max_apologies_per_24h = q
            .max_apologies_per_24h
            .max(max_in_a_day(mine.iter().map(|a| a.send_at)));
    }

    // Every command: inside quiet hours? Counted per order.
    let sends = c
        .notifications
        .iter()
        .map(|n| {
            (
                &n.order_id,
                n.send_at,
                &n.recipient_timezone,
                &n.recipient_country,
            )
        })
        .chain(c.apologies.iter().map(|a| {
            (
                &a.order_id,
                a.send_at,
                &a.recipient_timezone,
                &a.recipient_country,
            )
        }))
        .chain(c.reviews.iter().map(|r| {
            (
                &r.order_id,
                r.send_at,
                &r.recipient_timezone,
                &r.recipient_country,
            )
        }));
    let mut per_order: HashMap<&str, usize> = HashMap::new();
    for (order, send_at, tz, country) in sends {
        *per_order.entry(order.as_str()).or_default() += 1;
        let tz = tz
            .as_deref()
            .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
            .unwrap_or(chrono_tz::UTC);
        if policy
            .quiet_hours_for(country.as_deref())
            .is_quiet(send_at, tz)
        {
            q.quiet_sends += 1;
        }
    }
    for order in orders {
        let n = per_order
            .get(order.placed.order_id.as_str())
            .copied()
            .unwrap_or(0);
        *q.messages_per_order.entry(n).or_default() += 1;
    }

    // A milestone (or the return notice) twice for one parcel, or any id twice.
    // "Back on track" is once per incident by design, so it may come again.
    let mut seen: HashMap<(&str, Option<&str>, &str), u64> = HashMap::new();
    for n in c
        .notifications
        .iter()
        .filter(|n| n.template_key != "back_on_track")
    {
        *seen
            .entry((&n.order_id, n.shipment_id.as_deref(), &n.template_key))
            .or_default() += 1;
    }
    let mut ids: HashMap<&str, u64> = HashMap::new();
    for id in c
        .notifications
        .iter()
        .map(|n| &n.command_id)
        .chain(c.apologies.iter().map(|a| &a.command_id))
        .chain(c.reviews.iter().map(|r| &r.command_id))
    {
        *ids.entry(id.as_str()).or_default() += 1;
    }
    q.duplicate_milestones = seen.values().chain(ids.values()).map(|n| n - 1).sum();

    let by_id: HashMap<&str, &Order> = orders
        .iter()
        .map(|o| (o.placed.order_id.as_str(), o))
        .collect();
    for r in &c.reviews {
        let Some(order) = by_id.get(r.order_id.as_str()) else {
            continue;
        };
        if order.parcels.iter().any(|p| p.truth.rules_out_review()) {
            q.reviews_for_problem_orders += 1;
        } else if !in_window(order, r.send_at) {
            q.reviews_outside_window += 1;
        }
    }
    q
}

/// Delivered + 7 days (10 for an order that had trouble), moved at most to the
/// next local morning, plus the coalescing window.
fn in_window(order: &Order, send_at: Timestamp) -> bool {
    let Some(delivered) = order
        .parcels
        .iter()
        .map(|p: &Parcel| p.delivered_at)
        .collect::<Option<Vec<_>>>()
    else {
        return false;
    };
    let Some(last) = delivered.into_iter().max() else {
        return false;
    };
    let trouble = order.parcels.iter().any(|p| p.truth.wants_apology());
    let earliest = last + Duration::days(7);
    let latest = earliest + Duration::days(if trouble { 3 } else { 0 }) + Duration::hours(13);
    send_at >= earliest && send_at <= latest
}

/// The most instants within any 24 hours.
fn max_in_a_day(times: impl Iterator<Item = Timestamp>) -> usize {
    let mut t: Vec<Timestamp> = times.collect();
    t.sort();
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..t.len() {
        while t[hi] - t[lo] >= Duration::hours(24) {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

/// The p-th percentile (0..=100) of `v`.
pub fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let i = ((p / 100.0) * (s.len() - 1) as f64).round() as usize;
    s[i.min(s.len() - 1)]
}
