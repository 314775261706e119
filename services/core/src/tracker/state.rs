//! Per-order state: what the order-tracker knows about one order.

use super::notes::HeldBack;
use super::notes::OrderNote;
use super::seen::SeenScans;
use super::shipments::Shipments;
use super::vec_set::VecSet;
use super::StatusChange;
use crate::matcher::HeldScan;
use crate::model::{serde_time, DelayReason, Milestone, OrderPlaced, ShipmentCreated, Timestamp};
use crate::status::{Status, SubStatus};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderState {
    pub order_id: String,
    pub placed: Option<Placed>,
    #[serde(with = "serde_time::opt_millis")]
    pub cancelled_at: Option<Timestamp>,
    #[serde(with = "serde_time::opt_millis")]
    pub return_requested_at: Option<Timestamp>,
    /// Shipments by tracking number.
    pub shipments: Shipments,
    /// Scans routed to this order before their shipment was created.
    pub held_scans: Vec<HeldScan>,
    pub confirmation: MilestoneSlot,
    #[serde(with = "serde_time::millis")]
    pub last_activity_at: Timestamp,
    /// Arrival time of the last input that changed anything.
    #[serde(with = "serde_time::millis")]
    pub changed_at: Timestamp,
    /// When incidents are next re-evaluated after a change (the coalescing window).
    #[serde(default, with = "serde_time::opt_millis")]
    pub evaluate_due: Option<Timestamp>,
    /// Open and closed incidents, oldest first.
    #[serde(default)]
    pub incidents: Vec<Incident>,
    /// Incidents opened so far per family, for stable incident ids.
    #[serde(default)]
    pub incident_seq: BTreeMap<String, u32>,
    /// The review request was sent, suppressed or cancelled: never again for this order.
    #[serde(default)]
    pub review_decided: bool,
    /// A due review request waiting for an open problem was noted (once).
    #[serde(default)]
    pub review_held_noted: bool,
    /// Delay episodes, oldest first: what the customer was told about the order's troubles.
    #[serde(default)]
    pub episodes: Vec<Episode>,
    /// `send_at` of the last apology to this order, for the least gap between two.
    #[serde(default, with = "serde_time::opt_millis")]
    pub last_apology_at: Option<Timestamp>,
    /// The most recent decisions that did not become a command (or became a
    /// deferred one), and why: what a support agent needs.
    #[serde(default)]
    pub held_back: Vec<OrderNote>,
}

impl OrderState {
    pub fn new(order_id: String, now: Timestamp) -> Self {
        OrderState {
            order_id,
            placed: None,
            cancelled_at: None,
            return_requested_at: None,
            shipments: Shipments::default(),
            held_scans: Vec::new(),
            confirmation: MilestoneSlot::default(),
            last_activity_at: now,
            changed_at: now,
            evaluate_due: None,
            incidents: Vec::new(),
            incident_seq: BTreeMap::new(),
            review_decided: false,
            review_held_noted: false,
            episodes: Vec::new(),
            last_apology_at: None,
            held_back: Vec::new(),
        }
    }

    pub fn open_incidents(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.iter().filter(|i| i.closed_at.is_none())
    }

    pub fn open_episode(&self) -> Option<&Episode> {
        self.episodes.last().filter(|e| e.closed_at.is_none())
    }

    /// The status changes its shipments keep, by when they occurred (then by
    /// tracking number), each as it was decided.
    pub fn timeline(&self) -> Vec<StatusChange> {
        let mut changes: Vec<StatusChange> = self
            .shipments
            .values()
            .flat_map(|s| s.timeline.iter().map(|step| step.change(&self.order_id, s)))
            .collect();
        changes.sort_by(|a, b| {
            (a.occurred_at, &a.tracking_number).cmp(&(b.occurred_at, &b.tracking_number))
        });
        changes
    }

    /// The held-back decisions it keeps, oldest first, each as it was decided.
    pub fn held_back_decisions(&self) -> Vec<HeldBack> {
        self.held_back
            .iter()
            .map(|n| n.decision(&self.order_id))
            .collect()
    }
}

/// An order's delay episode: from its first apology until every affected parcel
/// moves again or is delivered. Later troubles fold into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    /// `episode-<n>`, unique within the order.
    pub id: String,
    #[serde(with = "serde_time::millis")]
    pub opened_at: Timestamp,
    /// Apologies sent in this episode (the stage of the last one).
    pub apologies: u8,
    /// What the last apology told: its reason, how grave, the estimate it gave.
    pub told_reason: Option<DelayReason>,
    pub told_gravity: u8,
    #[serde(default, with = "serde_time::opt_date")]
    pub told_edd: Option<NaiveDate>,
    /// The escalation for a problem that persists was sent.
    pub escalated: bool,
    /// An apology deferred by the least gap: when it is due, and its reason then.
    #[serde(default, with = "serde_time::opt_millis")]
    pub pending_due: Option<Timestamp>,
    #[serde(default)]
    pub pending_reason: Option<DelayReason>,
    pub tracking_numbers: VecSet<String>,
    #[serde(default, with = "serde_time::opt_millis")]
    pub closed_at: Option<Timestamp>,
}

/// A problem with the order that wismo apologised for: one per family at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// `<family>-<n>`, unique within the order.
    pub id: String,
    pub reason: DelayReason,
    /// When the problem became detectable.
    #[serde(with = "serde_time::millis")]
    pub opened_at: Timestamp,
    pub stage: u8,
    pub tracking_numbers: VecSet<String>,
    #[serde(default, with = "serde_time::opt_millis")]
    pub closed_at: Option<Timestamp>,
    /// The customer was told about it (an apology went out while it was open).
    #[serde(default = "told_by_default")]
    pub announced: bool,
}

/// Incidents written before episodes each had their own apology.
fn told_by_default() -> bool {
    true
}

/// What the shop told us at checkout, and when. Reads as the [`OrderPlaced`] event
/// itself (`placed.customer`, `placed.items`, …); stored flat in the changelog.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Placed {
    #[serde(flatten)]
    pub event: OrderPlaced,
    #[serde(with = "serde_time::millis")]
    pub placed_at: Timestamp,
}

/// Written as one struct, not with serde's `flatten` (which writes a map): Avro
/// records take structs, fields in their schema's order.
impl Serialize for Placed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Date(Option<NaiveDate>);
        impl Serialize for Date {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                serde_time::opt_date::serialize(&self.0, s)
            }
        }
        let OrderPlaced {
            customer,
            items,
            promised_delivery_date,
            destination_country,
        } = &self.event;
        let mut st = s.serialize_struct("Placed", 5)?;
        st.serialize_field("customer", customer)?;
        st.serialize_field("items", items)?;
        st.serialize_field("promised_delivery_date", &Date(*promised_delivery_date))?;
        st.serialize_field("destination_country", destination_country)?;
        st.serialize_field("placed_at", &self.placed_at.timestamp_millis())?;
        st.end()
    }
}

impl std::ops::Deref for Placed {
    type Target = OrderPlaced;

    fn deref(&self) -> &OrderPlaced {
        &self.event
    }
}

impl Placed {
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.customer.timezone.parse().unwrap_or(chrono_tz::Tz::UTC)
    }

    /// The earliest allowed send time at or after `t` under the recipient's quiet hours.
    pub fn send_at(&self, policy: &crate::policy::NotificationPolicy, t: Timestamp) -> Timestamp {
        policy
            .quiet_hours_for(self.destination_country.as_deref())
            .next_allowed(t, self.timezone())
    }
}

/// An order-level milestone that is sent once: waiting, sent, or neither.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MilestoneSlot {
    pub sent: bool,
    #[serde(with = "serde_time::opt_millis")]
    pub due: Option<Timestamp>,
}

/// How many failed delivery attempts a shipment records; a real parcel has a few.
pub const KEPT_FAILED_ATTEMPTS: usize = 16;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    pub shipment_id: String,
    pub tracking_number: String,
    pub carrier: String,
    pub service_level: Option<String>,
    pub origin_country: Option<String>,
    pub skus: Vec<String>,
    /// When the shipment (its label) was created.
    #[serde(with = "serde_time::millis")]
    pub created_at: Timestamp,
    /// The scan that decides the current status (latest, then by precedence).
    pub current: Option<AppliedScan>,
    /// The most recent scan of any kind, mapped or not.
    pub last_scan: Option<AppliedScan>,
    pub first_edd: Option<EddSighting>,
    pub latest_edd: Option<EddSighting>,
    #[serde(with = "serde_time::opt_millis")]
    pub delivered_at: Option<Timestamp>,
    /// Scan ids of failed delivery attempts (a set, so resends do not count twice);
    /// the first [`KEPT_FAILED_ATTEMPTS`].
    pub failed_attempts: VecSet<String>,
    /// The most recent scan ids, to tell resends (see [`SeenScans`]).
    pub seen_scan_ids: SeenScans,
    pub milestones_sent: VecSet<Milestone>,
    pub pending: Option<PendingMilestone>,
    /// Notices that ride on a milestone symbol but are sent apart from it, once
    /// each (`returning_to_sender`).
    #[serde(default)]
    pub notices_sent: VecSet<String>,
    /// When the parcel started back to the sender (its earliest such scan).
    #[serde(default, with = "serde_time::opt_millis")]
    pub return_started_at: Option<Timestamp>,
    /// Its most recent status changes (and unmapped codes), oldest first.
    #[serde(default)]
    pub timeline: Vec<StatusStep>,
}

impl Shipment {
    /// A shipment as its `shipment_created` event announces it, before any scan.
    pub fn created(s: &ShipmentCreated, created_at: Timestamp) -> Self {
        Shipment {
            shipment_id: s.shipment_id.clone(),
            tracking_number: s.tracking_number.clone(),
            carrier: s.carrier.clone(),
            service_level: s.service_level.clone(),
            origin_country: s.origin_country.clone(),
            skus: s.skus.clone(),
            created_at,
            current: None,
            last_scan: None,
            first_edd: None,
            latest_edd: None,
            delivered_at: None,
            failed_attempts: VecSet::new(),
            seen_scan_ids: SeenScans::default(),
            milestones_sent: VecSet::new(),
            pending: None,
            notices_sent: VecSet::new(),
            return_started_at: None,
            timeline: Vec::new(),
        }
    }

    pub fn status(&self) -> Status {
        self.current.as_ref().map_or(Status::Pending, |c| c.status)
    }
}

/// One step of a shipment's timeline, as its state keeps it: a [`StatusChange`]
/// without what the shipment already holds (the order, the tracking number, and the
/// carrier unless the scan came from another one, as on a hand-off).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusStep {
    #[serde(with = "serde_time::millis")]
    pub occurred_at: Timestamp,
    pub status: Status,
    pub sub_status: SubStatus,
    pub raw_status: String,
    /// False for a code no table maps (`unknown`/`unmapped`).
    pub mapped: bool,
    /// The scan's carrier, when it is not the shipment's.
    #[serde(default)]
    pub carrier: Option<String>,
}

impl StatusStep {
    /// The step `change` makes on `shipment`.
    pub fn of(change: &StatusChange, shipment: &Shipment) -> Self {
        StatusStep {
            occurred_at: change.occurred_at,
            status: change.status,
            sub_status: change.sub_status,
            raw_status: change.raw_status.clone(),
            mapped: change.mapped,
            carrier: (change.carrier != shipment.carrier).then(|| change.carrier.clone()),
        }
    }

    /// The change as it was decided, for `order_id`'s `shipment`.
    pub fn change(&self, order_id: &str, shipment: &Shipment) -> StatusChange {
        StatusChange {
            order_id: order_id.to_string(),
            tracking_number: shipment.tracking_number.clone(),
            carrier: self
                .carrier
                .clone()
                .unwrap_or_else(|| shipment.carrier.clone()),
            occurred_at: self.occurred_at,
            status: self.status,
            sub_status: self.sub_status,
            raw_status: self.raw_status.clone(),
            mapped: self.mapped,
        }
    }
}

/// A scan after normalization, as kept in state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedScan {
    pub scan_id: String,
    pub status: Status,
    pub sub_status: SubStatus,
    pub raw_status: String,
    pub raw_status_detail: Option<String>,
    #[serde(with = "serde_time::millis")]
    pub occurred_at: Timestamp,
}

impl AppliedScan {
    /// Total order deciding which scan is current: newer wins, then precedence,
    /// then scan id. A total order makes the result independent of arrival order.
    pub fn rank(&self) -> (Timestamp, u8, &str) {
        (self.occurred_at, self.status.precedence(), &self.scan_id)
    }
}

/// A carrier estimated delivery date and the scan that carried it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EddSighting {
    #[serde(with = "serde_time::date")]
    pub date: NaiveDate,
    #[serde(with = "serde_time::millis")]
    pub seen_at: Timestamp,
    pub scan_id: String,
}

/// A milestone waiting out the coalescing window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingMilestone {
    pub milestone: Milestone,
    #[serde(with = "serde_time::millis")]
    pub due: Timestamp,
    /// A notice riding on `milestone` (`returning_to_sender`), not the milestone itself.
    #[serde(default)]
    pub notice: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The changelog holds `Placed` flat, as it did before it wrapped the event:
    /// state written by an older version restores.
    #[test]
    fn placed_is_stored_flat_and_an_older_changelog_entry_restores() {
        let stored = serde_json::json!({
            "customer": {"customer_id": "c-1", "locale": "en-US", "timezone": "Europe/Berlin",
                         "channels": [{"kind": "EMAIL", "transactional_consent": true, "marketing_consent": false}]},
            "items": [{"sku": "s", "category": "home", "quantity": 1}],
            "promised_delivery_date": 20518,
            "destination_country": "DE",
            "placed_at": 1772442000000_i64
        });
        let placed: Placed = serde_json::from_value(stored.clone()).expect("old layout");
        assert_eq!(placed.customer.customer_id, "c-1");
        assert_eq!(
            placed.promised_delivery_date,
            NaiveDate::from_ymd_opt(2026, 3, 6)
        );
        assert_eq!(serde_json::to_value(&placed).expect("serializes"), stored);
    }

    /// A step names its carrier only when the scan's is not the shipment's, and
    /// reads back as the change that was decided, either way.
    #[test]
    fn a_status_step_keeps_the_carrier_only_on_a_hand_off() {
        let created = ShipmentCreated {
            shipment_id: "s-1".into(),
            tracking_number: "T-1".into(),
            carrier: "ups".into(),
            service_level: None,
            origin_country: None,
            skus: Vec::new(),
        };
        let shipment = Shipment::created(&created, Timestamp::UNIX_EPOCH);
        for carrier in ["ups", "usps"] {
            let change = StatusChange {
                order_id: "o-1".into(),
                tracking_number: "T-1".into(),
                carrier: carrier.into(),
                occurred_at: Timestamp::UNIX_EPOCH,
                status: Status::InTransit,
                sub_status: SubStatus::Generic,
                raw_status: "DP".into(),
                mapped: true,
            };
            let step = StatusStep::of(&change, &shipment);
            assert_eq!(step.carrier.is_some(), carrier == "usps");
            assert_eq!(step.change("o-1", &shipment), change);
        }
    }
}
