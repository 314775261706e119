//! Decoding for the tracker's two input topics, and its outputs as records.

use crate::metrics;
use wismo_codec::{dead_letter_kind as kind, subjects, Codec};
use wismo_config::Topics;
use wismo_core::model::{OrderEvent, Origin, RoutedScan, Timestamp};
use wismo_core::tracker::{self, OrderState, TrackerConfig, TrackerInput, TrackerOutput};
use wismo_runtime::{
    dead_letter, Decoded, InputRecord, OutRecord, Processor, Rejection, RejectionKind,
    RuntimeConfig, Step,
};

pub struct OrderTracker {
    config: TrackerConfig,
    topics: Topics,
    runtime: RuntimeConfig,
}

impl OrderTracker {
    pub fn new(config: TrackerConfig, topics: Topics, runtime: RuntimeConfig) -> Self {
        OrderTracker {
            config,
            topics,
            runtime,
        }
    }

    fn records(&self, outputs: Vec<TrackerOutput>, now: Timestamp) -> Vec<OutRecord> {
        let m = metrics::get();
        let mut records = Vec::new();
        for out in outputs {
            match out {
                TrackerOutput::Notification(cmd) => {
                    m.commands
                        .with_label_values(&[
                            cmd.milestone.as_str(),
                            &format!("{:?}", cmd.channel).to_lowercase(),
                        ])
                        .inc();
                    tracing::info!(order_id = %cmd.order_id, command_id = %cmd.command_id, milestone = cmd.milestone.as_str(), "notification decided");
                    records.extend(OutRecord::avro(
                        &self.topics.notifications,
                        &cmd.order_id,
                        subjects::NOTIFICATION_COMMAND,
                        &cmd,
                    ));
                }
                TrackerOutput::ShipmentRegistered(reg) => {
                    records.extend(OutRecord::avro(
                        &self.topics.shipment_registrations,
                        &reg.tracking_number,
                        subjects::SHIPMENT_REGISTERED,
                        &reg,
                    ));
                }
                TrackerOutput::Unmatched {
                    scan,
                    origin,
                    reason,
                } => {
                    let value = Codec::default()
                        .encode(subjects::CARRIER_SCAN, &scan)
                        .unwrap_or_default();
                    records.push(dead_letter::for_decision(
                        &self.runtime,
                        &origin,
                        Some(&scan.tracking_number),
                        value,
                        kind::UNMATCHED,
                        &reason,
                        now,
                    ));
                }
                TrackerOutput::Suppressed {
                    order_id,
                    milestone,
                    reason,
                } => {
                    m.suppressed
                        .with_label_values(&[milestone.as_str(), reason.as_str()])
                        .inc();
                    tracing::info!(%order_id, milestone = milestone.as_str(), reason = reason.as_str(), "notification suppressed");
                }
                TrackerOutput::UnmappedStatus {
                    carrier,
                    raw_status,
                } => {
                    m.unmapped.with_label_values(&[&carrier]).inc();
                    tracing::warn!(%carrier, %raw_status, "carrier status code has no mapping; kept as unknown/unmapped");
                }
            }
        }
        records
    }
}

fn rejection(kind: RejectionKind, reason: impl ToString) -> Rejection {
    Rejection {
        kind,
        reason: reason.to_string(),
    }
}

/// Per-order state lives in the partition the order id hashes to; a record keyed
/// otherwise would split the order: refuse it.
fn check_key(record: &InputRecord<'_>, order_id: &str) -> Result<(), Rejection> {
    match record.key {
        Some(k) if k == order_id.as_bytes() => Ok(()),
        other => Err(rejection(
            RejectionKind::Invalid,
            format!(
                "record key {:?} does not match order_id {order_id:?}; records must be keyed by order id",
                other.map(String::from_utf8_lossy)
            ),
        )),
    }
}

impl Processor for OrderTracker {
    type State = OrderState;
    type Input = TrackerInput;

    fn input_topics(&self) -> Vec<String> {
        vec![self.topics.orders.clone(), self.topics.routed_scans.clone()]
    }

    fn decode(&self, record: &InputRecord<'_>) -> Result<Decoded<TrackerInput>, Rejection> {
        let payload = record
            .payload
            .ok_or_else(|| rejection(RejectionKind::Decode, "record has no value"))?;
        let catalog = Codec::default();
        if record.topic == self.topics.orders {
            let event: OrderEvent = catalog
                .decode(subjects::ORDER_EVENT, payload)
                .map_err(|e| rejection(RejectionKind::Decode, e))?;
            event
                .validate()
                .map_err(|e| rejection(RejectionKind::Invalid, e))?;
            check_key(record, &event.order_id)?;
            Ok(Decoded {
                key: event.order_id.clone(),
                input: TrackerInput::Order(event),
            })
        } else {
            let routed: RoutedScan = catalog
                .decode(subjects::ROUTED_SCAN, payload)
                .map_err(|e| rejection(RejectionKind::Decode, e))?;
            check_key(record, &routed.order_id)?;
            let origin = Origin {
                topic: record.topic.to_string(),
                partition: record.partition,
                offset: record.offset,
            };
            Ok(Decoded {
                key: routed.order_id,
                input: TrackerInput::Scan {
                    scan: routed.scan,
                    origin,
                },
            })
        }
    }

    fn decide(
        &mut self,
        key: &str,
        state: Option<OrderState>,
        input: TrackerInput,
        now: Timestamp,
    ) -> Step<OrderState> {
        let step = tracker::decide(&self.config, state, key, input, now);
        Step {
            state: step.state,
            records: self.records(step.outputs, now),
        }
    }

    fn on_timer(&mut self, _key: &str, state: OrderState, now: Timestamp) -> Step<OrderState> {
        let step = tracker::on_timer(&self.config, state, now);
        Step {
            state: step.state,
            records: self.records(step.outputs, now),
        }
    }

    fn next_deadline(&self, state: &OrderState) -> Option<Timestamp> {
        tracker::next_deadline(&self.config, state)
    }
}
