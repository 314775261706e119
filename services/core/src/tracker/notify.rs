//! Sending what waited out its coalescing window: the order confirmation and each
//! shipment's pending milestone, once each, on the first consented channel.

use super::milestones::{self, transactional_channel, Notice, Recipient};
use super::state::OrderState;
use super::{suppressed, SuppressReason, TrackerConfig, TrackerOutput};
use crate::model::{Milestone, Timestamp};

pub(super) fn fire_due(
    config: &TrackerConfig,
    order: &mut OrderState,
    now: Timestamp,
    outputs: &mut Vec<TrackerOutput>,
) {
    let confirmation_due = order.confirmation.due.is_some_and(|due| due <= now);
    let milestone_due = order
        .shipments
        .values()
        .any(|s| s.pending.as_ref().is_some_and(|p| p.due <= now));
    if !confirmation_due && !milestone_due {
        // Most timers are for something else: the order is not copied for them.
        return;
    }
    // Notifications need the customer; until the order is placed they keep waiting.
    let Some(placed) = order.placed.clone() else {
        return;
    };
    let channel = transactional_channel(&placed);
    if confirmation_due {
        order.confirmation.due = None;
        order.confirmation.sent = true;
        match channel {
            Some(channel) => {
                let to = Recipient {
                    order,
                    placed: &placed,
                    channel,
                };
                let cmd = milestones::order_confirmed(&config.notifications, &to, now);
                outputs.extend(milestones::with_quiet_note(
                    order,
                    Milestone::OrderConfirmed.as_str(),
                    cmd,
                    now,
                ));
            }
            None => outputs.extend(suppressed(
                order,
                Milestone::OrderConfirmed,
                None,
                SuppressReason::NoConsentedChannel,
                now,
            )),
        }
    }
    let due: Vec<String> = order
        .shipments
        .values()
        .filter(|s| s.pending.as_ref().is_some_and(|p| p.due <= now))
        .map(|s| s.tracking_number.clone())
        .collect();
    for tracking in due {
        let Some(pending) = order
            .shipments
            .get_mut(&tracking)
            .and_then(|s| s.pending.take())
        else {
            continue;
        };
        let Some(shipment) = order.shipments.get(&tracking) else {
            continue;
        };
        let notice = Notice {
            milestone: pending.milestone,
            notice: pending
                .notice
                .as_deref()
                .filter(|n| *n == milestones::RETURNING_TO_SENDER)
                .map(|_| milestones::RETURNING_TO_SENDER),
        };
        if !milestones::notice_allowed(notice, shipment) {
            continue;
        }
        match channel {
            Some(channel) => {
                let to = Recipient {
                    order,
                    placed: &placed,
                    channel,
                };
                let policy = &config.notifications;
                let cmd = match notice.notice {
                    Some(_) => milestones::returning_to_sender(policy, &to, shipment, now),
                    None => {
                        milestones::shipment_milestone(policy, &to, shipment, notice.milestone, now)
                    }
                };
                outputs.extend(milestones::with_quiet_note(order, notice.kind(), cmd, now));
            }
            None => outputs.extend(suppressed(
                order,
                notice.milestone,
                Some(&tracking),
                SuppressReason::NoConsentedChannel,
                now,
            )),
        }
        if let Some(s) = order.shipments.get_mut(&tracking) {
            match notice.notice {
                Some(kind) => {
                    s.notices_sent.insert(kind.to_string());
                }
                None => {
                    s.milestones_sent.insert(notice.milestone);
                }
            }
        }
    }
}
