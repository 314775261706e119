//! `replay --explain`: what wismo built and why it stayed silent.
//!
//! Works on plain data: the order states the order-tracker kept (their status
//! timeline and recent held-back decisions, the same the order lookup shows), the
//! recipients' states the dispatcher kept (what its cap held back), and the output
//! lines (dead letters). Every reason is the core's own ([`HeldBack`]); nothing is
//! re-derived here.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;
use wismo_core::dispatch::RecipientHold;
use wismo_core::tracker::{HeldBack, OrderState, Outcome, StatusChange};

/// One order's story.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderStory {
    pub customer: Option<String>,
    pub timezone: Option<String>,
    /// `(tracking number, carrier, status/sub-status)` as the order stands.
    pub shipments: Vec<(String, String, String)>,
    pub timeline: Vec<StatusChange>,
    /// The tracker's and the cap's, in time order.
    pub held_back: Vec<HeldBack>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Explanation {
    pub orders: BTreeMap<String, OrderStory>,
    pub unmapped_by_carrier: BTreeMap<String, u64>,
    /// By dead-letter kind (`decode`, `invalid`, `unmatched`), with their reasons.
    pub dead_letters: BTreeMap<String, Vec<String>>,
    /// Held decisions (sent later) by cause.
    pub deferrals: BTreeMap<String, u64>,
    /// Decisions never sent, by outcome and cause (`suppressed no_consented_channel`).
    pub not_sent: BTreeMap<String, u64>,
}

impl Explanation {
    /// From the order-tracker's states (as JSON, as the lookup serves them), the
    /// dispatcher's states by recipient, and replay's output lines.
    pub fn from_parts(orders: &[Value], recipients: &[Value], lines: &[Value]) -> Self {
        let mut e = Explanation::default();
        for v in orders {
            let Ok(state) = serde_json::from_value::<OrderState>(v.clone()) else {
                continue;
            };
            e.orders.insert(state.order_id.clone(), story(&state));
        }
        for v in recipients {
            let Ok(hold) = serde_json::from_value::<RecipientHold>(v.clone()) else {
                continue;
            };
            for note in hold.recent {
                e.orders
                    .entry(note.order_id.clone())
                    .or_default()
                    .held_back
                    .push(note);
            }
        }
        for story in e.orders.values_mut() {
            story.held_back.sort_by_key(|n| n.at);
            for c in story.timeline.iter().filter(|c| !c.mapped) {
                *e.unmapped_by_carrier.entry(c.carrier.clone()).or_default() += 1;
            }
            for n in &story.held_back {
                let (map, key) = match n.outcome {
                    Outcome::Held => (&mut e.deferrals, n.reason.as_str().to_string()),
                    other => (
                        &mut e.not_sent,
                        format!("{} {}", other.as_str(), n.reason.as_str()),
                    ),
                };
                *map.entry(key).or_default() += 1;
            }
        }
        for line in lines {
            let value = &line["value"];
            if let (Some(kind), Some(reason)) =
                (value["error_kind"].as_str(), value["reason"].as_str())
            {
                e.dead_letters
                    .entry(kind.to_string())
                    .or_default()
                    .push(reason.to_string());
            }
        }
        e
    }

    /// As text, every line starting with `# ` so JSON-lines readers can skip it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (order_id, s) in &self.orders {
            let who = match (&s.customer, &s.timezone) {
                (Some(c), Some(tz)) => format!(" (customer {c}, {tz})"),
                _ => String::new(),
            };
            let _ = writeln!(out, "# order {order_id}{who}");
            for (tracking, carrier, status) in &s.shipments {
                let _ = writeln!(out, "#   shipment {tracking} ({carrier}): {status}");
            }
            if !s.timeline.is_empty() {
                let _ = writeln!(out, "#   timeline");
            }
            for c in &s.timeline {
                let unmapped = if c.mapped { "" } else { "  (unmapped code)" };
                let _ = writeln!(
                    out,
                    "#     {}  {} {} {:?} -> {}/{}{unmapped}",
                    c.occurred_at.to_rfc3339(),
                    c.tracking_number,
                    c.carrier,
                    c.raw_status,
                    c.status,
                    c.sub_status
                );
            }
            if !s.held_back.is_empty() {
                let _ = writeln!(out, "#   held back");
            }
            for n in &s.held_back {
                let _ = writeln!(out, "#     {}", note_line(n));
            }
        }
        let _ = writeln!(out, "# counters");
        let _ = writeln!(
            out,
            "#   unmapped codes by carrier: {}",
            counts(&self.unmapped_by_carrier)
        );
        let dead: BTreeMap<String, u64> = self
            .dead_letters
            .iter()
            .map(|(k, v)| (k.clone(), v.len() as u64))
            .collect();
        let _ = writeln!(out, "#   dead letters by reason: {}", counts(&dead));
        for (kind, reasons) in &self.dead_letters {
            for r in reasons {
                let _ = writeln!(out, "#     {kind}: {r}");
            }
        }
        let _ = writeln!(out, "#   deferrals by cause: {}", counts(&self.deferrals));
        let _ = writeln!(out, "#   not sent by cause: {}", counts(&self.not_sent));
        out
    }
}

fn story(state: &OrderState) -> OrderStory {
    let placed = state.placed.as_ref();
    OrderStory {
        customer: placed.map(|p| p.customer.customer_id.clone()),
        timezone: placed.map(|p| p.customer.timezone.clone()),
        shipments: state
            .shipments
            .values()
            .map(|s| {
                let status = s
                    .current
                    .as_ref()
                    .map_or("pending/generic".to_string(), |c| {
                        format!("{}/{}", c.status, c.sub_status)
                    });
                (s.tracking_number.clone(), s.carrier.clone(), status)
            })
            .collect(),
        timeline: state.timeline(),
        held_back: state.held_back_decisions(),
    }
}

fn note_line(n: &HeldBack) -> String {
    let mut line = format!("{}  {}", n.at.to_rfc3339(), n.what);
    if let Some(t) = &n.tracking_number {
        let _ = write!(line, " {t}");
    }
    let _ = write!(line, ": {} ({})", n.outcome.as_str(), n.reason.as_str());
    if let Some(until) = n.until {
        let _ = write!(line, " until {}", until.to_rfc3339());
    }
    line
}

fn counts(m: &BTreeMap<String, u64>) -> String {
    if m.is_empty() {
        return "none".to_string();
    }
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn notes_of_the_tracker_and_the_cap_meet_per_order_and_are_counted() {
        let order = json!({
            "order_id": "o-1", "placed": null, "cancelled_at": null, "return_requested_at": null,
            "shipments": {"T": {
                "shipment_id": "s-1", "tracking_number": "T", "carrier": "ups",
                "service_level": null, "origin_country": null, "skus": [], "created_at": 0,
                "current": null, "last_scan": null, "first_edd": null, "latest_edd": null,
                "delivered_at": null, "failed_attempts": [], "seen_scan_ids": [],
                "milestones_sent": [], "pending": null,
                "timeline": [{"occurred_at": 1000, "status": "unknown", "sub_status": "unmapped",
                              "raw_status": "ZQ", "mapped": false}]}},
            "held_scans": [], "confirmation": {"sent": true, "due": null},
            "last_activity_at": 0, "changed_at": 0,
            "held_back": [{"at": 2000, "what": "shipped", "outcome": "held",
                           "reason": "quiet_hours", "until": 3000},
                          {"at": 500, "what": "order_confirmed",
                           "outcome": "suppressed", "reason": "no_consented_channel"}]
        });
        let recipient = json!({"held": [], "retry_at": null, "recent": [
            {"order_id": "o-1", "at": 4000, "what": "delivered", "outcome": "held", "reason": "cap", "until": 5000}
        ]});
        let lines = vec![
            json!({"topic": "dead-letter", "value": {"error_kind": "decode", "reason": "not Avro"}}),
        ];
        let e = Explanation::from_parts(&[order], &[recipient], &lines);
        let whats: Vec<&str> = e.orders["o-1"]
            .held_back
            .iter()
            .map(|n| n.what.as_str())
            .collect();
        assert_eq!(whats, ["order_confirmed", "shipped", "delivered"]);
        assert_eq!(e.unmapped_by_carrier, [("ups".to_string(), 1)].into());
        assert_eq!(
            e.deferrals,
            [("cap".to_string(), 1), ("quiet_hours".to_string(), 1)].into()
        );
        assert_eq!(
            e.not_sent,
            [("suppressed no_consented_channel".to_string(), 1)].into()
        );
        let text = e.render();
        assert!(text.lines().all(|l| l.starts_with("# ")), "{text}");
        assert!(
            text.contains("T ups \"ZQ\" -> unknown/unmapped  (unmapped code)"),
            "{text}"
        );
        assert!(
            text.contains("shipped: held (quiet_hours) until 1970-01-01T00:00:03+00:00"),
            "{text}"
        );
        assert!(text.contains("dead letters by reason: decode 1"), "{text}");
    }

    #[test]
    fn the_sample_explains_its_unmapped_code_consent_and_quiet_hours() {
        let text = include_str!("../../../scripts/sample/events.jsonl");
        let (matcher, tracker) = (Default::default(), Default::default());
        let topics = wismo_config::Topics::from_env(&wismo_config::Env::from_pairs([("X", "y")]));
        let (lines, e) = crate::explain_file(
            text,
            matcher,
            tracker,
            topics,
            crate::FileRun {
                horizon: chrono::Duration::hours(1),
                shift: chrono::Duration::zero(),
            },
        )
        .expect("replays");
        assert!(!lines.is_empty());
        let text = e.render();
        for expected in [
            "#     2026-03-03T08:30:00+00:00  1Z999AA10123456784 ups \"ZQ\" -> unknown/unmapped  (unmapped code)",
            "#     2026-03-02T09:00:30+00:00  order_confirmed: suppressed (no_consented_channel)",
            "#     2026-03-02T09:00:30+00:00  order_confirmed: held (quiet_hours) until 2026-03-02T13:00:00+00:00",
            "#   unmapped codes by carrier: ups 1",
            "#   dead letters by reason: decode 1",
        ] {
            assert!(text.lines().any(|l| l == expected), "missing {expected:?} in\n{text}");
        }
    }
}
