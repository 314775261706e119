//! The tracker's outputs as records and metrics. Metric labels come from closed
//! sets: enums, and carriers this deployment knows (any other is `other`).

use crate::metrics;
use std::collections::BTreeSet;
use wismo_codec::subjects;
use wismo_config::Topics;
use wismo_core::model::Timestamp;
use wismo_core::quote::quote;
use wismo_core::tracker::TrackerOutput;
use wismo_engine::{DeadLetters, OutRecord};

/// The label for `carrier`: itself (lowercased) when known, else `other`, counted.
pub(crate) fn carrier_label(known: &BTreeSet<String>, carrier: &str) -> String {
    let key = carrier.trim().to_lowercase();
    if known.contains(&key) {
        key
    } else {
        metrics::get().carrier_other.inc();
        "other".to_string()
    }
}

pub(crate) fn records(
    topics: &Topics,
    dead_letters: &DeadLetters,
    known: &BTreeSet<String>,
    outputs: Vec<TrackerOutput>,
    now: Timestamp,
) -> Vec<OutRecord> {
    let m = metrics::get();
    let mut records = Vec::new();
    for out in outputs {
        match out {
            TrackerOutput::Notification(cmd) => {
                let channel = format!("{:?}", cmd.channel).to_lowercase();
                m.commands
                    .with_label_values(&[cmd.milestone.as_str(), &channel])
                    .inc();
                tracing::debug!(order_id = %quote(&cmd.order_id), command_id = %cmd.command_id, milestone = cmd.milestone.as_str(), "notification decided");
                records.extend(OutRecord::avro(
                    &topics.outbox,
                    &cmd.customer_id,
                    subjects::NOTIFICATION_COMMAND,
                    &cmd,
                ));
            }
            TrackerOutput::Unmatched {
                scan,
                origin,
                reason,
            } => {
                records.push(dead_letters.for_unmatched_scan(&origin, &scan, &reason, now));
            }
            TrackerOutput::Suppressed {
                order_id,
                milestone,
                reason,
            } => {
                m.suppressed
                    .with_label_values(&[milestone.as_str(), reason.as_str()])
                    .inc();
                tracing::debug!(order_id = %quote(&order_id), milestone = milestone.as_str(), reason = reason.as_str(), "notification suppressed");
            }
            TrackerOutput::DelayApology(cmd) => {
                m.apologies
                    .with_label_values(&[cmd.reason.as_str(), cmd.severity.as_str()])
                    .inc();
                tracing::debug!(order_id = %quote(&cmd.order_id), command_id = %cmd.command_id, reason = cmd.reason.as_str(), stage = cmd.stage, "delay apology decided");
                records.extend(OutRecord::avro(
                    &topics.outbox,
                    &cmd.customer_id,
                    subjects::DELAY_APOLOGY_COMMAND,
                    &cmd,
                ));
            }
            TrackerOutput::ReviewRequest(cmd) => {
                m.reviews.inc();
                tracing::debug!(order_id = %quote(&cmd.order_id), command_id = %cmd.command_id, "review request decided");
                records.extend(OutRecord::avro(
                    &topics.outbox,
                    &cmd.customer_id,
                    subjects::REVIEW_REQUEST_COMMAND,
                    &cmd,
                ));
            }
            TrackerOutput::SuppressedReview { order_id, why } => {
                m.suppressed
                    .with_label_values(&["review_request", why.as_str()])
                    .inc();
                tracing::debug!(order_id = %quote(&order_id), why = why.as_str(), "review request suppressed");
            }
            TrackerOutput::SuppressedApology {
                order_id,
                reason,
                why,
            } => {
                m.suppressed
                    .with_label_values(&[reason.as_str(), why.as_str()])
                    .inc();
                tracing::debug!(order_id = %quote(&order_id), reason = reason.as_str(), why = why.as_str(), "delay apology suppressed");
            }
            TrackerOutput::IncidentOpened { reason, carrier } => {
                m.incidents_opened
                    .with_label_values(&[reason.as_str(), &carrier_label(known, &carrier)])
                    .inc();
            }
            TrackerOutput::IncidentClosed { reason, carrier } => {
                m.incidents_closed
                    .with_label_values(&[reason.as_str(), &carrier_label(known, &carrier)])
                    .inc();
            }
            TrackerOutput::Delivered { carrier, timing } => {
                m.deliveries
                    .with_label_values(&[&carrier_label(known, &carrier), timing.as_str()])
                    .inc();
            }
            TrackerOutput::CarrierException {
                carrier,
                sub_status,
            } => {
                m.carrier_exceptions
                    .with_label_values(&[&carrier_label(known, &carrier), &sub_status.to_string()])
                    .inc();
            }
            // What explains a decision (replay --explain, the lookup API), counted by cause.
            TrackerOutput::HeldBack(note) => {
                m.held_back
                    .with_label_values(&[note.outcome.as_str(), note.reason.as_str()])
                    .inc();
            }
            TrackerOutput::StatusChanged(_) => {}
            TrackerOutput::UnmappedStatus {
                carrier,
                raw_status,
            } => {
                let label = carrier_label(known, &carrier);
                m.unmapped.with_label_values(&[&label]).inc();
                tracing::warn!(carrier = %label, raw_status = %quote(&raw_status), "carrier status code has no mapping; kept as unknown/unmapped");
            }
        }
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_carrier_is_its_own_label_and_any_other_is_other() {
        let known = wismo_core::tracker::TrackerConfig::default().known_carriers();
        assert_eq!(carrier_label(&known, " UPS "), "ups");
        assert_eq!(carrier_label(&known, "generic"), "generic");
        let before = metrics::get().carrier_other.get();
        for n in 0..100 {
            assert_eq!(carrier_label(&known, &format!("made-up-{n}")), "other");
        }
        assert_eq!(carrier_label(&known, &"x".repeat(100_000)), "other");
        assert_eq!(metrics::get().carrier_other.get() - before, 101);
    }
}
