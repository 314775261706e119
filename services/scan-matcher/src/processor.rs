//! Decoding for the matcher's input topics, and its outputs as records.

use wismo_codec::{subjects, Codec};
use wismo_config::Topics;
use wismo_core::matcher::{self, MatcherConfig, MatcherInput, MatcherOutput, TrackingState};
use wismo_core::model::{CarrierScan, OrderEvent, ShipmentRegistered, Timestamp};
use wismo_engine::{
    DeadLetters, Decoded, ForwardOnly, Input, InputRecord, OutRecord, Processor, Rejection, Step,
    Topology,
};

pub const SERVICE: &str = "scan-matcher";

pub struct ScanMatcher {
    config: MatcherConfig,
    topics: Topics,
    dead_letters: DeadLetters,
}

impl ScanMatcher {
    pub fn new(config: MatcherConfig, topics: Topics) -> Self {
        ScanMatcher {
            dead_letters: DeadLetters::new(SERVICE, &topics.dead_letter),
            config,
            topics,
        }
    }

    fn records(&self, outputs: Vec<MatcherOutput>, now: Timestamp) -> Vec<OutRecord> {
        outputs
            .into_iter()
            .filter_map(|out| match out {
                MatcherOutput::Routed { routed, held_since } => OutRecord::avro(
                    &self.topics.routed_scans,
                    &routed.order_id,
                    subjects::ROUTED_SCAN,
                    &routed,
                )
                .map(|r| OutRecord {
                    not_before: held_since,
                    ..r
                }),
                MatcherOutput::Unmatched {
                    scan,
                    origin,
                    reason,
                } => Some(
                    self.dead_letters
                        .for_unmatched_scan(&origin, &scan, &reason, now),
                ),
            })
            .collect()
    }
}

impl Processor for ScanMatcher {
    type State = TrackingState;
    type Input = MatcherInput;

    /// Scans and registrations, co-partitioned by tracking number, in one keyed
    /// task; `orders` forward-only: its shipment-created events re-keyed onto the
    /// registrations topic, so routing never waits on another service and `orders`
    /// may have its own partition count. Registrations go first at equal times.
    fn topology(&self) -> Topology {
        Topology {
            keyed: vec![
                Input::internal(&self.topics.shipment_registrations),
                Input::external(&self.topics.carrier_scans),
            ],
            keyed_writes: vec![self.topics.routed_scans.clone()],
            forward_only: vec![ForwardOnly {
                input: Input::external(&self.topics.orders),
                writes: vec![self.topics.shipment_registrations.clone()],
            }],
            changelog: Some(self.topics.matcher_changelog.clone()),
        }
    }

    /// `GET /tracking/{tracking_number}`: which order a number belongs to, and the
    /// scans still waiting for their shipment.
    fn lookup_route(&self) -> Option<&'static str> {
        Some("tracking")
    }

    fn service(&self) -> &str {
        SERVICE
    }

    fn dead_letter_topic(&self) -> &str {
        &self.topics.dead_letter
    }

    fn decode(&self, record: &InputRecord<'_>) -> Result<Decoded<MatcherInput>, Rejection> {
        let codec = Codec::default();
        if record.topic == self.topics.orders {
            // A bad order record is the order-tracker's to dead-letter; one letter each.
            let registration = record
                .payload
                .and_then(|p| codec.decode::<OrderEvent>(subjects::ORDER_EVENT, p).ok())
                .and_then(|event| matcher::registration(&event));
            return Ok(Decoded::Forward(
                registration
                    .and_then(|reg| {
                        OutRecord::avro(
                            &self.topics.shipment_registrations,
                            &reg.tracking_number,
                            subjects::SHIPMENT_REGISTERED,
                            &reg,
                        )
                    })
                    .into_iter()
                    .collect(),
            ));
        }
        if record.topic == self.topics.carrier_scans {
            let scan: CarrierScan = codec
                .decode(subjects::CARRIER_SCAN, record.value()?)
                .map_err(Rejection::decode)?;
            scan.validate().map_err(Rejection::invalid)?;
            record.require_key("tracking_number", &scan.tracking_number)?;
            Ok(Decoded::keyed(
                scan.tracking_number.clone(),
                MatcherInput::Scan {
                    scan,
                    origin: record.origin(),
                },
            ))
        } else {
            let reg: ShipmentRegistered = codec
                .decode(subjects::SHIPMENT_REGISTERED, record.value()?)
                .map_err(Rejection::decode)?;
            record.require_key("tracking_number", &reg.tracking_number)?;
            Ok(Decoded::keyed(
                reg.tracking_number.clone(),
                MatcherInput::ShipmentRegistered(reg),
            ))
        }
    }

    fn decide(
        &mut self,
        _key: &str,
        state: Option<TrackingState>,
        input: MatcherInput,
        now: Timestamp,
    ) -> Step<TrackingState> {
        let step = matcher::decide(&self.config, state, input, now);
        Step {
            state: step.state,
            records: self.records(step.outputs, now),
        }
    }

    fn on_timer(
        &mut self,
        _key: &str,
        state: TrackingState,
        now: Timestamp,
    ) -> Step<TrackingState> {
        let step = matcher::on_timer(&self.config, state, now);
        Step {
            state: step.state,
            records: self.records(step.outputs, now),
        }
    }

    fn next_deadline(&self, state: &TrackingState) -> Option<Timestamp> {
        matcher::next_deadline(&self.config, state)
    }
}
