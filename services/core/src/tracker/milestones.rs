//! Which status is worth telling the customer about, and building that command.

use super::notes::{HeldBack, HoldReason, Outcome};
use super::state::{AppliedScan, OrderState, Placed, Shipment};
use super::vec_set::VecSet;
use super::TrackerOutput;
use crate::ids::command_id;
use crate::model::{ChannelKind, Milestone, NotificationCommand, Timestamp};
use crate::policy::NotificationPolicy;
use crate::status::Status;
use std::collections::BTreeMap;

/// The notice "your parcel is on its way back to the sender". It rides on the
/// `RETURNED_TO_SENDER` milestone symbol with its own template key and id, so
/// consumers of the earlier schema keep reading it (a new enum symbol would break them).
pub const RETURNING_TO_SENDER: &str = "returning_to_sender";

/// What a status is worth telling: a milestone, or a notice riding on one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Notice {
    pub milestone: Milestone,
    pub notice: Option<&'static str>,
}

impl Notice {
    fn of(milestone: Milestone) -> Self {
        Notice {
            milestone,
            notice: None,
        }
    }

    /// The command kind, as in template keys.
    pub fn kind(self) -> &'static str {
        self.notice.unwrap_or(self.milestone.as_str())
    }
}

/// What a shipment's current scan is worth telling the customer, if anything.
pub(super) fn milestone_of(scan: &AppliedScan) -> Option<Notice> {
    let milestone = match scan.status {
        Status::InTransit => Milestone::Shipped,
        Status::OutForDelivery => Milestone::OutForDelivery,
        Status::AvailableForPickup => Milestone::AvailableForPickup,
        Status::AttemptFail => Milestone::FailedAttempt,
        Status::Delivered => Milestone::Delivered,
        // Only an exception the customer can act on is worth a message; the rest
        // is wismo's own problem to apologise for.
        Status::Exception if scan.sub_status.customer_action_required() => Milestone::Exception,
        Status::ReturningToSender => {
            return Some(Notice {
                milestone: Milestone::ReturnedToSender,
                notice: Some(RETURNING_TO_SENDER),
            })
        }
        Status::ReturnedToSender => Milestone::ReturnedToSender,
        _ => return None,
    };
    Some(Notice::of(milestone))
}

/// Whether a notice may still go out: once each, never backwards (see [`allowed`]);
/// "on its way back" not once the parcel is back.
pub(super) fn notice_allowed(n: Notice, shipment: &Shipment) -> bool {
    match n.notice {
        None => allowed(n.milestone, &shipment.milestones_sent),
        Some(kind) => {
            !shipment.notices_sent.contains(kind)
                && !shipment.milestones_sent.contains(&n.milestone)
        }
    }
}

/// Whether a notice not allowed was held back because a later milestone was sent
/// (not merely because it was sent already).
pub(super) fn backwards(n: Notice, shipment: &Shipment) -> bool {
    let already = match n.notice {
        None => shipment.milestones_sent.contains(&n.milestone),
        Some(kind) => shipment.notices_sent.contains(kind),
    };
    !already && !notice_allowed(n, shipment)
}

/// A note when a command is held for the end of the recipient's quiet hours.
pub(super) fn quiet_hours_note(
    order: &OrderState,
    what: &str,
    tracking: Option<&str>,
    command_id: &str,
    send_at: Timestamp,
    now: Timestamp,
) -> Option<HeldBack> {
    (send_at > now).then(|| {
        HeldBack::new(
            &order.order_id,
            now,
            what,
            Outcome::Held,
            HoldReason::QuietHours,
        )
        .tracking(tracking)
        .until(send_at)
        .command(command_id)
    })
}

/// A notification and, when quiet hours hold it, the note that says so.
pub(super) fn with_quiet_note(
    order: &OrderState,
    what: &str,
    cmd: NotificationCommand,
    now: Timestamp,
) -> Vec<TrackerOutput> {
    let note = quiet_hours_note(
        order,
        what,
        cmd.tracking_number.as_deref(),
        &cmd.command_id,
        cmd.send_at,
        now,
    );
    note.map(TrackerOutput::HeldBack)
        .into_iter()
        .chain([TrackerOutput::Notification(cmd)])
        .collect()
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
pub(super) fn allowed(m: Milestone, sent: &VecSet<Milestone>) -> bool {
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

/// The parcel is on its way back to the sender.
pub(super) fn returning_to_sender(
    policy: &NotificationPolicy,
    to: &Recipient<'_>,
    shipment: &Shipment,
    now: Timestamp,
) -> NotificationCommand {
    let mut cmd = shipment_milestone(policy, to, shipment, Milestone::ReturnedToSender, now);
    cmd.command_id = command_id(
        "notification",
        &[
            &to.order.order_id,
            &shipment.shipment_id,
            RETURNING_TO_SENDER,
        ],
    );
    cmd.template_key = policy.template(RETURNING_TO_SENDER);
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
        recipient_timezone: Some(placed.customer.timezone.clone()),
        recipient_country: placed.destination_country.clone(),
    }
}
