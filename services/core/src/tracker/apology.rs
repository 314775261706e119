//! Building a delay apology: severity, compensation, the estimate, the send time.

use super::findings::Finding;
use super::milestones::{quiet_hours_note, transactional_channel};
use super::notes::{HeldBack, HoldReason, Outcome};
use super::state::{OrderState, Placed};
use super::vec_set::VecSet;
use super::{SuppressReason, TrackerConfig, TrackerOutput};
use crate::delay::Severity;
use crate::ids::command_id;
use crate::model::{DelayApologyCommand, DelayReason, Timestamp};
use chrono::Duration;

/// What one apology is about.
pub(super) struct Apology<'a> {
    /// The incident or episode id (`stuck-1`, `episode-2`), unique within the order.
    pub id: &'a str,
    pub stage: u8,
    pub reason: DelayReason,
    pub tracking: &'a VecSet<String>,
    pub finding: &'a Finding,
    pub detectable_at: Timestamp,
}

fn severity(config: &TrackerConfig, a: &Apology<'_>) -> Severity {
    let base = match a.reason {
        DelayReason::Late | DelayReason::PredictedLate => config
            .delay
            .severity(a.finding.lateness.unwrap_or_else(Duration::zero)),
        DelayReason::PresumedLost | DelayReason::Damaged | DelayReason::Lost => Severity::Severe,
        DelayReason::Customs => Severity::Moderate,
        DelayReason::NotPickedUp
        | DelayReason::StuckInTransit
        | DelayReason::NotDeliveredToday
        | DelayReason::Weather => Severity::Minor,
    };
    if a.stage >= 2 {
        base.max(Severity::Moderate)
    } else {
        base
    }
}

/// The newest carrier estimate among the apology's parcels.
pub(super) fn new_edd(order: &OrderState, tracking: &VecSet<String>) -> Option<chrono::NaiveDate> {
    tracking
        .iter()
        .filter_map(|t| order.shipments.get(t)?.latest_edd.as_ref().map(|e| e.date))
        .max()
}

/// The apology as outputs: the command (with a quiet-hours note when it is held
/// for the morning), or a suppression when the customer allows no channel.
pub(super) fn outputs(
    config: &TrackerConfig,
    order: &OrderState,
    placed: &Placed,
    a: &Apology<'_>,
    now: Timestamp,
) -> Vec<TrackerOutput> {
    let what = format!("delay_apology.{}", a.reason.as_str());
    let Some(channel) = transactional_channel(placed) else {
        return vec![
            TrackerOutput::SuppressedApology {
                order_id: order.order_id.clone(),
                reason: a.reason,
                why: SuppressReason::NoConsentedChannel,
            },
            TrackerOutput::HeldBack(HeldBack::new(
                &order.order_id,
                now,
                what,
                Outcome::Suppressed,
                HoldReason::NoConsentedChannel,
            )),
        ];
    };
    let severity = severity(config, a);
    let stage = a.stage.to_string();
    let cmd = DelayApologyCommand {
        command_id: command_id("delay_apology", &[&order.order_id, a.id, &stage]),
        order_id: order.order_id.clone(),
        customer_id: placed.customer.customer_id.clone(),
        incident_id: format!("{}:{}", order.order_id, a.id),
        reason: a.reason,
        stage: a.stage.into(),
        severity,
        // Whole days, rounded up: a parcel an hour past its promise is a day late.
        days_late: a
            .finding
            .lateness
            .map(|l| ((l.num_minutes() + 1439) / 1440).max(1) as i32),
        silent_hours: a.finding.silent_since.map(|s| (now - s).num_hours() as i32),
        promised_delivery_date: placed.promised_delivery_date,
        new_estimated_delivery_date: new_edd(order, a.tracking),
        compensation: config.delay.compensation.get(&severity).cloned(),
        tracking_numbers: a.tracking.iter().cloned().collect(),
        channel,
        template_key: config.notifications.template(&what),
        locale: placed.customer.locale.clone(),
        send_at: placed.send_at(&config.notifications, now),
        decided_at: now,
        detectable_at: a.detectable_at,
        recipient_timezone: Some(placed.customer.timezone.clone()),
        recipient_country: placed.destination_country.clone(),
    };
    let mut out = Vec::with_capacity(2);
    if let Some(note) = quiet_hours_note(order, &what, None, &cmd.command_id, cmd.send_at, now) {
        out.push(TrackerOutput::HeldBack(note));
    }
    out.push(TrackerOutput::DelayApology(cmd));
    out
}
