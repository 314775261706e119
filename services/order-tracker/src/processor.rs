//! Decoding for the tracker's two input topics, and its outputs as records.

use crate::metrics;
use wismo_codec::{subjects, Codec};
use wismo_config::Topics;
use wismo_core::model::{OrderEvent, RoutedScan, Timestamp};
use wismo_core::tracker::{self, OrderState, TrackerConfig, TrackerInput, TrackerOutput};
use wismo_engine::{
    DeadLetters, Decoded, Input, InputRecord, OutRecord, Processor, Rejection, Step, Topology,
};

pub const SERVICE: &str = "order-tracker";

pub struct OrderTracker {
    config: TrackerConfig,
    topics: Topics,
    dead_letters: DeadLetters,
}

impl OrderTracker {
    pub fn new(config: TrackerConfig, topics: Topics) -> Self {
        OrderTracker {
            dead_letters: DeadLetters::new(SERVICE, &topics.dead_letter),
            config,
            topics,
        }
    }

    fn records(&self, outputs: Vec<TrackerOutput>, now: Timestamp) -> Vec<OutRecord> {
        let m = metrics::get();
        let mut records = Vec::new();
        for out in outputs {
            match out {
                TrackerOutput::Notification(cmd) => {
                    let channel = format!("{:?}", cmd.channel).to_lowercase();
                    m.commands
                        .with_label_values(&[cmd.milestone.as_str(), &channel])
                        .inc();
                    tracing::info!(order_id = %cmd.order_id, command_id = %cmd.command_id, milestone = cmd.milestone.as_str(), "notification decided");
                    records.extend(OutRecord::avro(
                        &self.topics.outbox,
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
                    records.push(
                        self.dead_letters
                            .for_unmatched_scan(&origin, &scan, &reason, now),
                    );
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
                TrackerOutput::DelayApology(cmd) => {
                    m.apologies
                        .with_label_values(&[cmd.reason.as_str(), cmd.severity.as_str()])
                        .inc();
                    tracing::info!(order_id = %cmd.order_id, command_id = %cmd.command_id, reason = cmd.reason.as_str(), stage = cmd.stage, "delay apology decided");
                    records.extend(OutRecord::avro(
                        &self.topics.outbox,
                        &cmd.customer_id,
                        subjects::DELAY_APOLOGY_COMMAND,
                        &cmd,
                    ));
                }
                TrackerOutput::ReviewRequest(cmd) => {
                    m.reviews.inc();
                    tracing::info!(order_id = %cmd.order_id, command_id = %cmd.command_id, "review request decided");
                    records.extend(OutRecord::avro(
                        &self.topics.outbox,
                        &cmd.customer_id,
                        subjects::REVIEW_REQUEST_COMMAND,
                        &cmd,
                    ));
                }
                TrackerOutput::SuppressedReview { order_id, why } => {
                    m.suppressed
                        .with_label_values(&["review_request", why.as_str()])
                        .inc();
                    tracing::info!(%order_id, why = why.as_str(), "review request suppressed");
                }
                TrackerOutput::SuppressedApology {
                    order_id,
                    reason,
                    why,
                } => {
                    m.suppressed
                        .with_label_values(&[reason.as_str(), why.as_str()])
                        .inc();
                    tracing::info!(%order_id, reason = reason.as_str(), why = why.as_str(), "delay apology suppressed");
                }
                TrackerOutput::IncidentOpened { reason, carrier } => {
                    m.incidents_opened
                        .with_label_values(&[reason.as_str(), &carrier])
                        .inc();
                }
                TrackerOutput::IncidentClosed { reason, carrier } => {
                    m.incidents_closed
                        .with_label_values(&[reason.as_str(), &carrier])
                        .inc();
                }
                TrackerOutput::Delivered { carrier, timing } => {
                    m.deliveries
                        .with_label_values(&[&carrier, timing.as_str()])
                        .inc();
                }
                TrackerOutput::CarrierException {
                    carrier,
                    sub_status,
                } => {
                    m.carrier_exceptions
                        .with_label_values(&[&carrier, &sub_status.to_string()])
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
                    m.unmapped.with_label_values(&[&carrier]).inc();
                    tracing::warn!(%carrier, %raw_status, "carrier status code has no mapping; kept as unknown/unmapped");
                }
            }
        }
        records
    }
}

impl Processor for OrderTracker {
    type State = OrderState;
    type Input = TrackerInput;

    /// Orders and the scans the matcher routed, co-partitioned by order id; every
    /// command goes to the outbox, keyed by customer, for the dispatcher.
    fn topology(&self) -> Topology {
        Topology {
            keyed: vec![
                Input::external(&self.topics.orders),
                Input::internal(&self.topics.routed_scans),
            ],
            keyed_writes: vec![self.topics.outbox.clone()],
            forward_only: Vec::new(),
            changelog: Some(self.topics.tracker_changelog.clone()),
        }
    }

    fn service(&self) -> &str {
        SERVICE
    }

    fn dead_letter_topic(&self) -> &str {
        &self.topics.dead_letter
    }

    /// `GET /orders/{order_id}`: the order's state, for support and tracking pages.
    fn lookup_route(&self) -> Option<&'static str> {
        Some("orders")
    }

    fn decode(&self, record: &InputRecord<'_>) -> Result<Decoded<TrackerInput>, Rejection> {
        let codec = Codec::default();
        if record.topic == self.topics.orders {
            let event: OrderEvent = codec
                .decode(subjects::ORDER_EVENT, record.value()?)
                .map_err(Rejection::decode)?;
            event.validate().map_err(Rejection::invalid)?;
            record.require_key("order_id", &event.order_id)?;
            Ok(Decoded::keyed(
                event.order_id.clone(),
                TrackerInput::Order(event),
            ))
        } else {
            let routed: RoutedScan = codec
                .decode(subjects::ROUTED_SCAN, record.value()?)
                .map_err(Rejection::decode)?;
            record.require_key("order_id", &routed.order_id)?;
            Ok(Decoded::keyed(
                routed.order_id,
                TrackerInput::Scan {
                    scan: routed.scan,
                    origin: record.origin(),
                },
            ))
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
