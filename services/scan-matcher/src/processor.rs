//! Decoding for the matcher's two input topics, and its outputs as records.

use wismo_codec::{dead_letter_kind as kind, subjects, Codec};
use wismo_config::Topics;
use wismo_core::matcher::{self, MatcherConfig, MatcherInput, MatcherOutput, TrackingState};
use wismo_core::model::{CarrierScan, Origin, ShipmentRegistered, Timestamp};
use wismo_runtime::{
    dead_letter, Decoded, InputRecord, OutRecord, Processor, Rejection, RejectionKind,
    RuntimeConfig, Step,
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
                } => {
                    let value = Codec::default()
                        .encode(subjects::CARRIER_SCAN, &scan)
                        .unwrap_or_default();
                    Some(dead_letter::for_decision(
                        &self.runtime,
                        &origin,
                        Some(&scan.tracking_number),
                        value,
                        kind::UNMATCHED,
                        &reason,
                        now,
                    ))
                }
            })
            .collect()
    }
}

fn rejection(kind: RejectionKind, reason: impl ToString) -> Rejection {
    Rejection {
        kind,
        reason: reason.to_string(),
    }
}

/// State for a tracking number lives in the partition its key hashes to, so a
/// record keyed by anything else would split the join: refuse it.
fn check_key(record: &InputRecord<'_>, expected: &str) -> Result<(), Rejection> {
    match record.key {
        Some(k) if k == expected.as_bytes() => Ok(()),
        other => Err(rejection(
            RejectionKind::Invalid,
            format!(
                "record key {:?} does not match tracking_number {expected:?}; scans must be keyed by tracking number",
                other.map(String::from_utf8_lossy)
            ),
        )),
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
        let payload = record
            .payload
            .ok_or_else(|| rejection(RejectionKind::Decode, "record has no value"))?;
        let catalog = Codec::default();
        if record.topic == self.topics.carrier_scans {
            let scan: CarrierScan = catalog
                .decode(subjects::CARRIER_SCAN, payload)
                .map_err(|e| rejection(RejectionKind::Decode, e))?;
            scan.validate()
                .map_err(|e| rejection(RejectionKind::Invalid, e))?;
            check_key(record, &scan.tracking_number)?;
            let origin = Origin {
                topic: record.topic.to_string(),
                partition: record.partition,
                offset: record.offset,
            };
            Ok(Decoded {
                key: scan.tracking_number.clone(),
                input: MatcherInput::Scan { scan, origin },
            })
        } else {
            let reg: ShipmentRegistered = catalog
                .decode(subjects::SHIPMENT_REGISTERED, payload)
                .map_err(|e| rejection(RejectionKind::Decode, e))?;
            check_key(record, &reg.tracking_number)?;
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
