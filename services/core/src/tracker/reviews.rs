//! Review timing: one request per order, once the customer has had time to use
//! the product, and never while something is wrong.
//!
//! The request is a durable timer in the order's state rather than a command
//! scheduled in advance: a return, a cancellation or a problem that arrives before
//! the send time simply means it is not sent (yet, or at all), and the messaging
//! service needs no way to cancel a command it already holds.

use super::milestones::quiet_hours_note;
use super::notes::{HeldBack, HoldReason, Outcome};
use super::state::OrderState;
use super::{SuppressReason, TrackerConfig, TrackerOutput};
use crate::calendar::plus;
use crate::ids::command_id;
use crate::model::{ReviewBasis, ReviewRequestCommand, Timestamp};
use crate::status::{Status, SubStatus};

const WHAT: &str = "review_request";

struct Plan {
    due: Timestamp,
    basis: ReviewBasis,
    delivered_at: Option<Timestamp>,
}

/// What rules the request out for good: the order cancelled or returned, a parcel
/// going back, refused or reported lost by the carrier.
fn cancelled_by(order: &OrderState) -> Option<HoldReason> {
    if order.cancelled_at.is_some() {
        return Some(HoldReason::OrderCancelled);
    }
    if order.return_requested_at.is_some() {
        return Some(HoldReason::Return);
    }
    let statuses = order.shipments.values().filter_map(|s| s.current.as_ref());
    let mut reason = None;
    for c in statuses {
        let found = match (c.status, c.sub_status) {
            (_, SubStatus::Refused) => HoldReason::Refused,
            (Status::ReturningToSender | Status::ReturnedToSender, _) => HoldReason::Return,
            (Status::Exception, SubStatus::Lost) => HoldReason::Loss,
            _ => continue,
        };
        reason = reason.max(Some(found));
    }
    reason
}

/// A problem still open: a delay episode, an incident, or a carrier exception.
fn open_problem(order: &OrderState) -> bool {
    order.open_episode().is_some()
        || order.open_incidents().next().is_some()
        || order
            .shipments
            .values()
            .any(|s| s.status() == Status::Exception)
}

/// The order had trouble the customer heard of (or would have, with a consented
/// channel): a delay episode, or an incident apologised for in the per-incident
/// mode. A problem resolved before its apology went out (a delivery relayed
/// overnight) was none.
fn had_trouble(order: &OrderState) -> bool {
    !order.episodes.is_empty() || order.incidents.iter().any(|i| i.announced)
}

/// When the request would be due if nothing held it back.
fn plan(config: &TrackerConfig, order: &OrderState) -> Option<Plan> {
    let placed = order.placed.as_ref()?;
    if order.review_decided || order.shipments.is_empty() {
        return None;
    }
    let policy = &config.reviews;
    let delivered = order
        .shipments
        .values()
        .map(|s| s.delivered_at)
        .collect::<Option<Vec<_>>>();
    let (base, basis, delivered_at) = match delivered.and_then(|d| d.into_iter().max()) {
        Some(at) => (
            plus(
                at,
                policy.delay_for(placed.items.iter().map(|i| i.category.as_str())),
            ),
            ReviewBasis::Delivered,
            Some(at),
        ),
        None => {
            let fulfilled = order.shipments.values().map(|s| s.created_at).max()?;
            (
                plus(fulfilled, policy.fallback_after_fulfilled),
                ReviewBasis::FulfilledFallback,
                None,
            )
        }
    };
    let due = if had_trouble(order) {
        plus(base, policy.late_extra)
    } else {
        base
    };
    Some(Plan {
        due: placed.send_at(&config.notifications, due),
        basis,
        delivered_at,
    })
}

/// Cancels, holds or sends the request.
pub(super) fn evaluate(
    config: &TrackerConfig,
    order: &mut OrderState,
    now: Timestamp,
    outputs: &mut Vec<TrackerOutput>,
) {
    if now < plus(order.changed_at, config.coalesce_window)
        || order.review_decided
        || order.placed.is_none()
    {
        return;
    }
    if let Some(why) = cancelled_by(order) {
        order.review_decided = true;
        outputs.push(note(order, now, Outcome::Cancelled, why));
        return;
    }
    let Some(plan) = plan(config, order).filter(|p| p.due <= now) else {
        return;
    };
    if open_problem(order) {
        if !order.review_held_noted {
            order.review_held_noted = true;
            outputs.push(note(order, now, Outcome::Held, HoldReason::OpenProblem));
        }
        return;
    }
    let Some(placed) = order.placed.as_ref() else {
        return;
    };
    order.review_decided = true;
    // A review request is marketing: it needs marketing consent.
    let Some(channel) = placed
        .customer
        .channels
        .iter()
        .find(|c| c.marketing_consent)
        .map(|c| c.kind)
    else {
        outputs.push(TrackerOutput::SuppressedReview {
            order_id: order.order_id.clone(),
            why: SuppressReason::NoMarketingConsent,
        });
        outputs.push(note(
            order,
            now,
            Outcome::Suppressed,
            HoldReason::NoMarketingConsent,
        ));
        return;
    };
    let mut categories: Vec<String> = placed.items.iter().map(|i| i.category.clone()).collect();
    categories.sort();
    categories.dedup();
    let cmd = ReviewRequestCommand {
        command_id: command_id("review_request", &[&order.order_id]),
        order_id: order.order_id.clone(),
        customer_id: placed.customer.customer_id.clone(),
        basis: plan.basis,
        delivered_at: plan.delivered_at,
        skus: placed.items.iter().map(|i| i.sku.clone()).collect(),
        categories,
        channel,
        template_key: config.notifications.template(WHAT),
        locale: placed.customer.locale.clone(),
        send_at: placed.send_at(&config.notifications, now),
        decided_at: now,
        recipient_timezone: Some(placed.customer.timezone.clone()),
        recipient_country: placed.destination_country.clone(),
    };
    if let Some(n) = quiet_hours_note(order, WHAT, None, &cmd.command_id, cmd.send_at, now) {
        outputs.push(TrackerOutput::HeldBack(n));
    }
    outputs.push(TrackerOutput::ReviewRequest(cmd));
}

fn note(order: &OrderState, now: Timestamp, outcome: Outcome, why: HoldReason) -> TrackerOutput {
    TrackerOutput::HeldBack(HeldBack::new(&order.order_id, now, WHAT, outcome, why))
}

pub(super) fn next_deadline(config: &TrackerConfig, order: &OrderState) -> Option<Timestamp> {
    if order.review_decided || order.placed.is_none() {
        return None;
    }
    let floor = plus(order.changed_at, config.coalesce_window);
    if cancelled_by(order).is_some() {
        return Some(floor);
    }
    let plan = plan(config, order)?;
    // While a problem is open the request waits for the change that resolves it,
    // after noting once that it is held.
    if open_problem(order) && order.review_held_noted {
        return None;
    }
    Some(plan.due.max(floor))
}
