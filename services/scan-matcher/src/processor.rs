//! Decoding for the matcher's two input topics, and its outputs as records.

use wismo_codec::{subjects, Codec};
use wismo_config::Topics;
use wismo_core::matcher::{self, MatcherConfig, MatcherInput, MatcherOutput, TrackingState};
use wismo_core::model::{CarrierScan, ShipmentRegistered, Timestamp};
use wismo_runtime::{
    dead_letter, Decoded, InputRecord, OutRecord, Processor, Rejection, RuntimeConfig, Step,
};

pub struct ScanMatcher {
    config: MatcherConfig,
    topics: Topics,
    runtime: RuntimeConfig,
}

impl ScanMatcher {
    pub fn new(config: MatcherConfig, topics: Topics, runtime: RuntimeConfig) -> Self {
        ScanMatcher {
            config,
            topics,
            runtime,
        }
    }

    fn records(&self, outputs: Vec<MatcherOutput>, now: Timestamp) -> Vec<OutRecord> {
        outputs
            .into_iter()
            .filter_map(|out| match out {
                MatcherOutput::Routed(routed) => OutRecord::avro(
                    &self.topics.routed_scans,
                    &routed.order_id,
                    subjects::ROUTED_SCAN,
                    &routed,
                ),
                MatcherOutput::Unmatched {
                    scan,
                    origin,
                    reason,
                } => Some(dead_letter::for_unmatched_scan(
                    &self.runtime,
                    &origin,
                    &scan,
                    &reason,
                    now,
                )),
            })
            .collect()
    }
}

impl Processor for ScanMatcher {
    type State = TrackingState;
    type Input = MatcherInput;

    fn input_topics(&self) -> Vec<String> {
        vec![
            self.topics.carrier_scans.clone(),
            self.topics.shipment_registrations.clone(),
        ]
    }

    fn decode(&self, record: &InputRecord<'_>) -> Result<Decoded<MatcherInput>, Rejection> {
        let codec = Codec::default();
        if record.topic == self.topics.carrier_scans {
            let scan: CarrierScan = codec
                .decode(subjects::CARRIER_SCAN, record.value()?)
                .map_err(Rejection::decode)?;
            scan.validate().map_err(Rejection::invalid)?;
            record.require_key("tracking_number", &scan.tracking_number)?;
            Ok(Decoded {
                key: scan.tracking_number.clone(),
                input: MatcherInput::Scan {
                    scan,
                    origin: record.origin(),
                },
            })
        } else {
            let reg: ShipmentRegistered = codec
                .decode(subjects::SHIPMENT_REGISTERED, record.value()?)
                .map_err(Rejection::decode)?;
            record.require_key("tracking_number", &reg.tracking_number)?;
            Ok(Decoded {
                key: reg.tracking_number.clone(),
                input: MatcherInput::ShipmentRegistered(reg),
            })
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
