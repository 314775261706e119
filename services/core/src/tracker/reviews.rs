//! Review timing: one request per order, once the customer has had time to use
//! the product.
//!
//! The request is a durable timer in the order's state rather than a command
//! scheduled in advance: a return, a cancellation or an exception that arrives
//! before the send time simply means it is never sent, and the messaging service
//! needs no way to cancel a command it already holds.

use super::state::OrderState;
use super::{SuppressReason, TrackerConfig, TrackerOutput};
use crate::ids::command_id;
use crate::model::{ReviewBasis, ReviewRequestCommand, Timestamp};
use crate::status::Status;

struct Plan {
    due: Timestamp,
    basis: ReviewBasis,
    delivered_at: Option<Timestamp>,
}

/// When the request would be due, or `None` while it may not be sent at all.
fn plan(config: &TrackerConfig, order: &OrderState) -> Option<Plan> {
    let placed = order.placed.as_ref()?;
    let blocked = order.review_decided
        || order.cancelled_at.is_some()
        || order.return_requested_at.is_some()
        || order.shipments.is_empty()
        || order.shipments.values().any(|s| {
            matches!(
                s.status(),
                Status::Exception | Status::ReturningToSender | Status::ReturnedToSender
            )
        });
    if blocked {
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
            at + policy.delay_for(placed.items.iter().map(|i| i.category.as_str())),
            ReviewBasis::Delivered,
            Some(at),
        ),
        None => {
            let fulfilled = order.shipments.values().map(|s| s.created_at).max()?;
            (
                fulfilled + policy.fallback_after_fulfilled,
                ReviewBasis::FulfilledFallback,
                None,
            )
        }
    };
    let was_late = order
        .incidents
        .iter()
        .any(|i| super::incidents::family(i.reason) == "delay");
    let due = if was_late {
        base + policy.late_extra
    } else {
        base
    };
    Some(Plan {
        due: placed.send_at(&config.notifications, due),
        basis,
        delivered_at,
    })
}

/// Sends the request when it is due and still allowed.
pub(super) fn evaluate(
    config: &TrackerConfig,
    order: &mut OrderState,
    now: Timestamp,
    outputs: &mut Vec<TrackerOutput>,
) {
    if now < order.changed_at + config.coalesce_window {
        return;
    }
    let Some(plan) = plan(config, order).filter(|p| p.due <= now) else {
        return;
    };
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
        return;
    };
    let mut categories: Vec<String> = placed.items.iter().map(|i| i.category.clone()).collect();
    categories.sort();
    categories.dedup();
    outputs.push(TrackerOutput::ReviewRequest(ReviewRequestCommand {
        command_id: command_id("review_request", &[&order.order_id]),
        order_id: order.order_id.clone(),
        customer_id: placed.customer.customer_id.clone(),
        basis: plan.basis,
        delivered_at: plan.delivered_at,
        skus: placed.items.iter().map(|i| i.sku.clone()).collect(),
        categories,
        channel,
        template_key: config.notifications.template("review_request"),
        locale: placed.customer.locale.clone(),
        send_at: placed.send_at(&config.notifications, now),
        decided_at: now,
    }));
}

pub(super) fn next_deadline(config: &TrackerConfig, order: &OrderState) -> Option<Timestamp> {
    plan(config, order).map(|p| p.due.max(order.changed_at + config.coalesce_window))
}
