//! The scenario harness: the three services on the engine, through `replay`, with
//! what they put on the output topics decoded into typed records, and what they
//! keep in state (held-back decisions, status timelines) read back by key.

use replay::cluster::Service;
use replay::{Input, Replay};
use std::collections::{BTreeSet, HashMap};
use wismo_codec::{subjects, Codec, DeadLetter};
use wismo_config::Topics;
use wismo_core::dispatch::RecipientHold;
use wismo_core::matcher::MatcherConfig;
use wismo_core::model::{
    CarrierScan, DelayApologyCommand, NotificationCommand, ReviewRequestCommand, Timestamp,
};
use wismo_core::tracker::{
    HeldBack, OrderState, StatusChange, TrackerConfig, KEPT_NOTES, KEPT_TIMELINE,
};

/// A record on one of wismo's output topics, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    Notification(NotificationCommand),
    DelayApology(DelayApologyCommand),
    ReviewRequest(ReviewRequestCommand),
    DeadLetter(DeadLetter),
}

impl Out {
    /// The scan a dead letter carries, when it is one.
    pub fn dead_scan(&self) -> Option<CarrierScan> {
        let Out::DeadLetter(d) = self else {
            return None;
        };
        let bytes = d.original_value.as_deref()?;
        Codec::default().decode(subjects::CARRIER_SCAN, bytes).ok()
    }
}

pub struct Scenario {
    replay: Replay,
    topics: Topics,
    /// How far each output partition has been read.
    read: HashMap<(String, i32), i64>,
    orders: BTreeSet<String>,
    customers: BTreeSet<String>,
}

impl Scenario {
    /// The services, started, on an empty log; the clock at `start`.
    pub fn new(matcher: MatcherConfig, tracker: TrackerConfig, start: Timestamp) -> Self {
        let topics = Topics::from_env(&wismo_config::Env::default());
        let replay =
            Replay::new(matcher, tracker, topics.clone(), start).expect("the services start");
        Scenario {
            replay,
            topics,
            read: HashMap::new(),
            orders: BTreeSet::new(),
            customers: BTreeSet::new(),
        }
    }

    /// Publishes `input` as arriving at `at`.
    pub fn feed(&mut self, at: Timestamp, input: &Input) {
        if let Input::Order(e) = input {
            self.orders.insert(e.order_id.clone());
            if let Some(p) = &e.placed {
                self.customers.insert(p.customer.customer_id.clone());
            }
        }
        self.replay.feed_input(at, input);
    }

    /// Runs the clock to `t`; returns what reached the output topics since the
    /// last call, in the order `replay` prints it.
    pub fn run_to(&mut self, t: Timestamp) -> Vec<Out> {
        self.replay.finish(t).expect("the services run");
        let log = &self.replay.cluster().log;
        let topics = [
            &self.topics.notifications,
            &self.topics.delay_apologies,
            &self.topics.review_requests,
            &self.topics.dead_letter,
        ];
        let mut out = Vec::new();
        for (rank, topic) in topics.into_iter().enumerate() {
            for r in log.records(topic) {
                let seen = self.read.entry((topic.clone(), r.partition)).or_insert(0);
                if r.offset < *seen {
                    continue;
                }
                *seen = r.offset + 1;
                let bytes = r.value.as_deref().unwrap_or_default();
                let decoded = decode(&self.topics, topic, bytes);
                out.push(((r.timestamp, rank, r.partition, r.offset), decoded));
            }
        }
        out.sort_by_key(|(k, _)| *k);
        out.into_iter().map(|(_, o)| o).collect()
    }

    /// The order-tracker's state of an order, as its lookup serves it.
    pub fn order(&self, order_id: &str) -> Option<OrderState> {
        let v = self
            .replay
            .cluster()
            .lookup(Service::OrderTracker, order_id)?;
        Some(serde_json::from_value(v).expect("an order state"))
    }

    /// What the dispatcher holds for a recipient.
    pub fn recipient(&self, customer_id: &str) -> Option<RecipientHold> {
        let v = self
            .replay
            .cluster()
            .lookup(Service::Dispatcher, customer_id)?;
        Some(serde_json::from_value(v).expect("a recipient's hold"))
    }

    /// Every decision held back, by the tracker for each order fed and by the
    /// cap for each of their customers, by the time it was made. The states keep
    /// only the latest few: a list that may have lost some fails the test rather
    /// than passing on what is left.
    pub fn held_back(&self) -> Vec<HeldBack> {
        let mut notes = Vec::new();
        for order in &self.orders {
            let state = self.kept(order);
            assert!(
                state.held_back.len() < KEPT_NOTES,
                "order {order} keeps only its last {KEPT_NOTES} notes: some may be gone"
            );
            notes.extend(state.held_back_decisions());
        }
        for customer in &self.customers {
            // Nothing held and nothing remembered leaves no state.
            let Some(hold) = self.recipient(customer) else {
                continue;
            };
            // The gate keeps as many as the tracker.
            assert!(
                hold.recent.len() < KEPT_NOTES,
                "recipient {customer} keeps only its last notes: some may be gone"
            );
            notes.extend(hold.recent);
        }
        notes.sort_by_key(|n| n.at);
        notes
    }

    /// Every status change of the orders fed, per order by when it occurred.
    pub fn timeline(&self) -> Vec<StatusChange> {
        let mut changes = Vec::new();
        for order in &self.orders {
            let state = self.kept(order);
            for shipment in state.shipments.values() {
                assert!(
                    shipment.timeline.len() < KEPT_TIMELINE,
                    "shipment {} keeps only its last {KEPT_TIMELINE} status changes: some may be gone",
                    shipment.tracking_number
                );
            }
            changes.extend(state.timeline());
        }
        changes
    }

    fn kept(&self, order: &str) -> OrderState {
        self.order(order).unwrap_or_else(|| {
            panic!("order {order} has no state (forgotten?): its notes are gone")
        })
    }
}

fn decode(topics: &Topics, topic: &str, bytes: &[u8]) -> Out {
    if *topic == topics.notifications {
        Out::Notification(record(topic, subjects::NOTIFICATION_COMMAND, bytes))
    } else if *topic == topics.delay_apologies {
        Out::DelayApology(record(topic, subjects::DELAY_APOLOGY_COMMAND, bytes))
    } else if *topic == topics.review_requests {
        Out::ReviewRequest(record(topic, subjects::REVIEW_REQUEST_COMMAND, bytes))
    } else {
        Out::DeadLetter(record(topic, subjects::DEAD_LETTER, bytes))
    }
}

fn record<T: serde::de::DeserializeOwned>(topic: &str, subject: &str, bytes: &[u8]) -> T {
    Codec::default()
        .decode(subject, bytes)
        .unwrap_or_else(|e| panic!("a record on {topic} does not decode: {e}"))
}
