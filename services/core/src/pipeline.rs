//! The whole decision pipeline in one process, on a virtual clock.
//!
//! Live, the matcher and the tracker are separate services joined by topics. Here
//! the same `decide`/`on_timer` functions are chained through an in-memory queue,
//! and timers fire exactly at their deadlines. `replay` and the scenario tests run
//! this, so what they print is what the services would send.

use crate::dispatch::{Gate, GateOutput, OutboundCommand, RecipientHold};
use crate::matcher::{self, MatcherConfig, MatcherInput, MatcherOutput, TrackingState};
use crate::model::Milestone;
use crate::model::{
    CarrierScan, DelayApologyCommand, NotificationCommand, OrderEvent, Origin,
    ReviewRequestCommand, Timestamp,
};
use crate::tracker::{
    self, HeldBack, OrderState, StatusChange, SuppressReason, TrackerConfig, TrackerInput,
    TrackerOutput,
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// An input record as it arrives on an input topic.
#[derive(Debug, Clone, PartialEq)]
pub enum PipelineInput {
    Order(OrderEvent),
    Scan(CarrierScan),
}

/// What leaves the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum Emitted {
    Notification(NotificationCommand),
    DeadLetter {
        scan: CarrierScan,
        origin: Origin,
        reason: String,
    },
    Suppressed {
        order_id: String,
        milestone: Milestone,
        reason: SuppressReason,
    },
    DelayApology(DelayApologyCommand),
    ReviewRequest(ReviewRequestCommand),
    /// A decision held back, and why (the tracker's, and the cap's).
    HeldBack(HeldBack),
    /// A step of a shipment's timeline.
    StatusChanged(StatusChange),
}

enum Work {
    Matcher(String, MatcherInput),
    Tracker(String, TrackerInput),
}

pub struct Pipeline {
    matcher_config: MatcherConfig,
    tracker_config: TrackerConfig,
    tracking: BTreeMap<String, TrackingState>,
    orders: BTreeMap<String, OrderState>,
    now: Timestamp,
    emitted: Vec<Emitted>,
    gate: Gate,
    held: BTreeMap<String, RecipientHold>,
    /// Every key's next deadline, ordered, so the next timer is found without a scan.
    timers: BTreeSet<(Timestamp, Target)>,
    deadline_of: BTreeMap<Target, Timestamp>,
}

impl Pipeline {
    pub fn new(
        matcher_config: MatcherConfig,
        tracker_config: TrackerConfig,
        start: Timestamp,
    ) -> Self {
        Pipeline {
            gate: Gate::new(&tracker_config.notifications),
            held: BTreeMap::new(),
            timers: BTreeSet::new(),
            deadline_of: BTreeMap::new(),
            matcher_config,
            tracker_config,
            tracking: BTreeMap::new(),
            orders: BTreeMap::new(),
            now: start,
            emitted: Vec::new(),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn order(&self, order_id: &str) -> Option<&OrderState> {
        self.orders.get(order_id)
    }

    /// Takes what was emitted so far.
    pub fn drain(&mut self) -> Vec<Emitted> {
        std::mem::take(&mut self.emitted)
    }

    /// Delivers one input record at `at` (fires every timer due before it first).
    pub fn feed(&mut self, at: Timestamp, input: PipelineInput, origin: Origin) {
        self.advance_to(at);
        let mut queue = VecDeque::new();
        match input {
            PipelineInput::Order(event) => {
                // The matcher learns the shipment from the same event, through its own
                // re-keyed topic, after the tracker has seen it.
                let registration = matcher::registration(&event);
                queue.push_back(Work::Tracker(
                    event.order_id.clone(),
                    TrackerInput::Order(event),
                ));
                queue.extend(registration.map(|reg| {
                    Work::Matcher(
                        reg.tracking_number.clone(),
                        MatcherInput::ShipmentRegistered(reg),
                    )
                }));
            }
            PipelineInput::Scan(scan) => queue.push_back(Work::Matcher(
                scan.tracking_number.clone(),
                MatcherInput::Scan { scan, origin },
            )),
        }
        self.run(queue);
    }

    /// Moves the clock to `t`, firing each timer at its own deadline, in order.
    pub fn advance_to(&mut self, t: Timestamp) {
        while let Some((deadline, target)) = self.next_timer().filter(|(d, _)| *d <= t) {
            self.now = self.now.max(deadline);
            let mut queue = VecDeque::new();
            match target {
                Target::Tracking(key) => {
                    if let Some(state) = self.tracking.remove(&key) {
                        let step = matcher::on_timer(&self.matcher_config, state, self.now);
                        self.put_tracking(key, step.state);
                        self.route_matcher(step.outputs, &mut queue);
                    }
                }
                Target::Order(key) => {
                    if let Some(state) = self.orders.remove(&key) {
                        let step = tracker::on_timer(&self.tracker_config, state, self.now);
                        self.put_order(key, step.state);
                        self.route_tracker(step.outputs);
                    }
                }
                Target::Recipient(key) => {
                    if let Some(state) = self.held.remove(&key) {
                        let step = self.gate.on_timer(state, self.now);
                        self.put_held(key, step.state);
                        self.route_gate(step.outputs);
                    }
                }
            }
            self.run(queue);
        }
        self.now = self.now.max(t);
    }

    fn next_timer(&self) -> Option<(Timestamp, Target)> {
        self.timers.first().cloned()
    }

    fn index(&mut self, target: Target, deadline: Option<Timestamp>) {
        if let Some(old) = self.deadline_of.remove(&target) {
            self.timers.remove(&(old, target.clone()));
        }
        if let Some(d) = deadline {
            self.timers.insert((d, target.clone()));
            self.deadline_of.insert(target, d);
        }
    }

    fn run(&mut self, mut queue: VecDeque<Work>) {
        while let Some(work) = queue.pop_front() {
            match work {
                Work::Matcher(key, input) => {
                    let state = self.tracking.remove(&key);
                    let step = matcher::decide(&self.matcher_config, state, input, self.now);
                    self.put_tracking(key, step.state);
                    self.route_matcher(step.outputs, &mut queue);
                }
                Work::Tracker(key, input) => {
                    let state = self.orders.remove(&key);
                    let step = tracker::decide(&self.tracker_config, state, &key, input, self.now);
                    self.put_order(key, step.state);
                    self.route_tracker(step.outputs);
                }
            }
        }
    }

    fn route_matcher(&mut self, outputs: Vec<MatcherOutput>, queue: &mut VecDeque<Work>) {
        for out in outputs {
            match out {
                MatcherOutput::Routed { routed, .. } => {
                    // The internal topic carries no origin of its own; the tracker's
                    // hold names the routed topic position, here a synthetic one.
                    let origin = Origin {
                        topic: "routed-scans".into(),
                        partition: 0,
                        offset: -1,
                    };
                    queue.push_back(Work::Tracker(
                        routed.order_id.clone(),
                        TrackerInput::Scan {
                            scan: routed.scan,
                            origin,
                        },
                    ));
                }
                MatcherOutput::Unmatched {
                    scan,
                    origin,
                    reason,
                } => self.emitted.push(Emitted::DeadLetter {
                    scan,
                    origin,
                    reason,
                }),
            }
        }
    }

    fn route_tracker(&mut self, outputs: Vec<TrackerOutput>) {
        for out in outputs {
            match out {
                TrackerOutput::Notification(cmd) => {
                    self.dispatch(OutboundCommand::Notification(cmd))
                }
                TrackerOutput::Unmatched {
                    scan,
                    origin,
                    reason,
                } => self.emitted.push(Emitted::DeadLetter {
                    scan,
                    origin,
                    reason,
                }),
                TrackerOutput::Suppressed {
                    order_id,
                    milestone,
                    reason,
                } => self.emitted.push(Emitted::Suppressed {
                    order_id,
                    milestone,
                    reason,
                }),
                TrackerOutput::DelayApology(cmd) => {
                    self.dispatch(OutboundCommand::DelayApology(cmd))
                }
                TrackerOutput::ReviewRequest(cmd) => {
                    self.dispatch(OutboundCommand::ReviewRequest(cmd))
                }
                TrackerOutput::HeldBack(note) => self.emitted.push(Emitted::HeldBack(note)),
                TrackerOutput::StatusChanged(c) => self.emitted.push(Emitted::StatusChanged(c)),
                TrackerOutput::UnmappedStatus { .. }
                | TrackerOutput::SuppressedApology { .. }
                | TrackerOutput::SuppressedReview { .. }
                | TrackerOutput::IncidentOpened { .. }
                | TrackerOutput::IncidentClosed { .. }
                | TrackerOutput::Delivered { .. }
                | TrackerOutput::CarrierException { .. } => {}
            }
        }
    }

    /// The dispatcher's gate: the per-recipient cap, holding what it refuses.
    fn dispatch(&mut self, cmd: OutboundCommand) {
        let key = cmd.customer_id().to_string();
        let state = self.held.remove(&key);
        let step = self.gate.offer(state, cmd, self.now);
        self.put_held(key, step.state);
        self.route_gate(step.outputs);
    }

    fn route_gate(&mut self, outputs: Vec<GateOutput>) {
        for out in outputs {
            self.emitted.push(match out {
                GateOutput::Note(note) => Emitted::HeldBack(note),
                GateOutput::Send { command, .. } => match command {
                    OutboundCommand::Notification(c) => Emitted::Notification(c),
                    OutboundCommand::DelayApology(c) => Emitted::DelayApology(c),
                    OutboundCommand::ReviewRequest(c) => Emitted::ReviewRequest(c),
                },
            });
        }
    }

    fn put_held(&mut self, key: String, state: Option<RecipientHold>) {
        let deadline = state.as_ref().and_then(RecipientHold::next_deadline);
        self.index(Target::Recipient(key.clone()), deadline);
        if let Some(s) = state {
            self.held.insert(key, s);
        }
    }

    fn put_tracking(&mut self, key: String, state: Option<TrackingState>) {
        let deadline = state
            .as_ref()
            .and_then(|s| matcher::next_deadline(&self.matcher_config, s));
        self.index(Target::Tracking(key.clone()), deadline);
        if let Some(s) = state {
            self.tracking.insert(key, s);
        }
    }

    fn put_order(&mut self, key: String, state: Option<OrderState>) {
        let deadline = state
            .as_ref()
            .and_then(|s| tracker::next_deadline(&self.tracker_config, s));
        self.index(Target::Order(key.clone()), deadline);
        if let Some(s) = state {
            self.orders.insert(key, s);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Tracking(String),
    Order(String),
    Recipient(String),
}
