//! Which status is worth telling the customer about, and building that command.

use super::state::{AppliedScan, OrderState, Placed, Shipment};
use crate::ids::command_id;
use crate::model::{ChannelKind, Milestone, NotificationCommand, Timestamp};
use crate::policy::NotificationPolicy;
use crate::status::Status;
use std::collections::{BTreeMap, BTreeSet};

/// The milestone a shipment's current scan stands for, if any.
pub(super) fn milestone_of(scan: &AppliedScan) -> Option<Milestone> {
    match scan.status {
        Status::InTransit => Some(Milestone::Shipped),
        Status::OutForDelivery => Some(Milestone::OutForDelivery),
        Status::AvailableForPickup => Some(Milestone::AvailableForPickup),
        Status::AttemptFail => Some(Milestone::FailedAttempt),
        Status::Delivered => Some(Milestone::Delivered),
        // Only an exception the customer can act on is worth a message; the rest
        // is wismo's own problem to apologise for.
        Status::Exception if scan.sub_status.customer_action_required() => {
            Some(Milestone::Exception)
        }
        Status::ReturnedToSender => Some(Milestone::ReturnedToSender),
        _ => None,
    }
}

/// Position on the way to the door; `None` for milestones off that path.
fn progress(m: Milestone) -> Option<u8> {
    match m {
        Milestone::Shipped => Some(1),
        Milestone::OutForDelivery => Some(2),
        Milestone::FailedAttempt => Some(3),
        Milestone::AvailableForPickup => Some(4),
        Milestone::Delivered => Some(5),
        Milestone::OrderConfirmed | Milestone::Exception | Milestone::ReturnedToSender => None,
    }
}

/// Once per milestone per shipment, and never a step backwards along the way to the
/// door (no "shipped" after "out for delivery", nothing of the kind after "delivered").
pub(super) fn allowed(m: Milestone, sent: &BTreeSet<Milestone>) -> bool {
    if sent.contains(&m) {
        return false;
    }
    match progress(m) {
        None => true,
        Some(p) => !sent.iter().filter_map(|s| progress(*s)).any(|q| q > p),
    }
}

/// The first channel the customer allows transactional messages on.
pub(super) fn transactional_channel(placed: &Placed) -> Option<ChannelKind> {
    placed
        .customer
        .channels
        .iter()
        .find(|c| c.transactional_consent)
        .map(|c| c.kind)
}

/// Whom a notification is for, and on which channel.
pub(super) struct Recipient<'a> {
    pub order: &'a OrderState,
    pub placed: &'a Placed,
    pub channel: ChannelKind,
}

pub(super) fn order_confirmed(
    policy: &NotificationPolicy,
    to: &Recipient<'_>,
    now: Timestamp,
) -> NotificationCommand {
    let (order, placed) = (to.order, to.placed);
    let mut variables = BTreeMap::new();
    variables.insert("order_id".into(), order.order_id.clone());
    variables.insert("item_count".into(), placed.items.len().to_string());
    if let Some(date) = placed.promised_delivery_date {
        variables.insert("promised_delivery_date".into(), date.to_string());
    }
    command(policy, to, None, Milestone::OrderConfirmed, variables, now)
}

pub(super) fn shipment_milestone(
    policy: &NotificationPolicy,
    to: &Recipient<'_>,
    shipment: &Shipment,
    milestone: Milestone,
    now: Timestamp,
) -> NotificationCommand {
    let order = to.order;
    let mut variables = BTreeMap::new();
    variables.insert("order_id".into(), order.order_id.clone());
    variables.insert("carrier".into(), shipment.carrier.clone());
    variables.insert("tracking_number".into(), shipment.tracking_number.clone());
    variables.insert("shipments_total".into(), order.shipments.len().to_string());
    if let Some(current) = &shipment.current {
        variables.insert("status".into(), current.status.to_string());
        variables.insert("sub_status".into(), current.sub_status.to_string());
        if milestone == Milestone::Exception {
            variables.insert("customer_action_required".into(), "true".into());
        }
    }
    if let Some(edd) = &shipment.latest_edd {
        variables.insert("estimated_delivery_date".into(), edd.date.to_string());
    }
    if let Some(progress) = order_progress(order, milestone) {
        variables.insert("order_progress".into(), progress.into());
    }
    command(policy, to, Some(shipment), milestone, variables, now)
}

/// A parcel we apologised for as stuck or lost is moving again: an in-transit update
/// with its own template and an id of its own per incident.
pub(super) fn back_on_track(
    policy: &NotificationPolicy,
    to: &Recipient<'_>,
    shipment: &Shipment,
    incident_id: &str,
    now: Timestamp,
) -> NotificationCommand {
    let mut cmd = shipment_milestone(policy, to, shipment, Milestone::Shipped, now);
    cmd.command_id = command_id(
        "notification",
        &[&to.order.order_id, incident_id, "back_on_track"],
    );
    cmd.template_key = policy.template("back_on_track");
    cmd.variables.insert(
        "incident_id".into(),
        format!("{}:{incident_id}", to.order.order_id),
    );
    cmd
}

/// Split shipments: where the order as a whole stands after this shipment's milestone.
fn order_progress(order: &OrderState, milestone: Milestone) -> Option<&'static str> {
    let all = |pred: fn(&Shipment) -> bool| order.shipments.values().all(pred);
    match milestone {
        Milestone::Shipped => Some(
            if all(|s| s.status().precedence() >= Status::InTransit.precedence()) {
                "all_shipped"
            } else {
                "partially_shipped"
            },
        ),
        Milestone::Delivered => Some(if all(|s| s.delivered_at.is_some()) {
            "all_delivered"
        } else {
            "partially_delivered"
        }),
        _ => None,
    }
}

fn command(
    policy: &NotificationPolicy,
    to: &Recipient<'_>,
    shipment: Option<&Shipment>,
    milestone: Milestone,
    variables: BTreeMap<String, String>,
    now: Timestamp,
) -> NotificationCommand {
    let (order, placed) = (to.order, to.placed);
    let shipment_id = shipment.map(|s| s.shipment_id.clone());
    let id = command_id(
        "notification",
        &[
            &order.order_id,
            shipment_id.as_deref().unwrap_or("-"),
            milestone.as_str(),
        ],
    );
    NotificationCommand {
        command_id: id,
        order_id: order.order_id.clone(),
        customer_id: placed.customer.customer_id.clone(),
        shipment_id,
        tracking_number: shipment.map(|s| s.tracking_number.clone()),
        milestone,
        channel: to.channel,
        template_key: policy.template(milestone.as_str()),
        locale: placed.customer.locale.clone(),
        send_at: placed.send_at(policy, now),
        decided_at: now,
        variables,
    }
}
