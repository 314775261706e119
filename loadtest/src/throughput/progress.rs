//! Reading a pipeline run's progress: the services' Prometheus counters and their
//! consumer groups' committed offsets.

use super::input::Input;
use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::time::Duration;
use wismo_e2e::metric;

/// What the services have done so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub matcher_orders: u64,
    pub matcher_scans: u64,
    pub registrations_produced: u64,
    pub routed_produced: u64,
    pub tracker_orders: u64,
    pub routed_consumed: u64,
    pub outbox_produced: u64,
    pub outbox_consumed: u64,
    /// Committed offsets of each group, summed over its input partitions. The
    /// topics are new, so offsets start at 0 and the sum counts the records
    /// whose batch was decided, produced and acknowledged.
    pub matcher_committed: u64,
    pub tracker_committed: u64,
    pub dispatcher_committed: u64,
    pub commands: u64,
    /// The tracker's decisions: milestone notifications, delay apologies and
    /// review requests decided, and notifications decided but not sent.
    pub notifications: u64,
    pub apologies: u64,
    pub reviews: u64,
    pub suppressed: u64,
    pub dead_letters: u64,
    /// Of those, scans the matcher gave up on: no shipment registered in time.
    pub unmatched: u64,
    pub egress_waits: u64,
}

/// The topics a run reads progress on.
pub struct Watched<'a> {
    pub orders: &'a str,
    pub scans: &'a str,
    pub registrations: &'a str,
    pub routed: &'a str,
    pub outbox: &'a str,
}

impl Counts {
    /// From the `/metrics` bodies of the scan-matcher, order-tracker and
    /// dispatcher, and the groups' committed offsets.
    pub fn read(t: &Watched<'_>, [m, o, d]: [&str; 3], committed: [u64; 3]) -> Counts {
        Counts {
            matcher_orders: consumed(m, t.orders),
            matcher_scans: consumed(m, t.scans),
            registrations_produced: produced(m, t.registrations),
            routed_produced: produced(m, t.routed),
            tracker_orders: consumed(o, t.orders),
            routed_consumed: consumed(o, t.routed),
            outbox_produced: produced(o, t.outbox),
            outbox_consumed: consumed(d, t.outbox),
            matcher_committed: committed[0],
            tracker_committed: committed[1],
            dispatcher_committed: committed[2],
            commands: sum(d, "wismo_commands_dispatched_total{"),
            notifications: sum(o, "wismo_notification_commands_total{"),
            apologies: sum(o, "wismo_delay_apology_commands_total{"),
            reviews: sum(o, "wismo_review_request_commands_total"),
            suppressed: sum(o, "wismo_notifications_suppressed_total{"),
            dead_letters: [m, o, d]
                .iter()
                .map(|b| sum(b, "wismo_dead_letters_total{"))
                .sum(),
            unmatched: counter(m, "wismo_dead_letters_total{kind=\"unmatched\"}"),
            egress_waits: sum(d, "wismo_egress_waits_total"),
        }
    }

    /// The scan-matcher has committed every input record and every shipment
    /// registration it produced: everything it routes is acknowledged.
    pub fn routed(&self, input: &Input) -> bool {
        self.registrations_produced >= input.shipments
            && self.matcher_committed >= input.records() + self.registrations_produced
    }

    /// The order-tracker has committed every order event and every routed scan,
    /// and the dispatcher every command the tracker put on the outbox.
    pub fn decided(&self, input: &Input) -> bool {
        self.tracker_committed >= input.order_events + self.routed_produced
            && self.dispatcher_committed >= self.outbox_produced
    }

    /// Whether any service has consumed an input record yet.
    pub fn matcher_started(&self) -> bool {
        self.matcher_orders + self.matcher_scans > 0
    }

    pub fn tracker_started(&self) -> bool {
        self.tracker_orders > 0
    }
}

/// A consumer group's committed offsets, summed over some topics' partitions.
pub struct Committed {
    consumer: BaseConsumer,
    partitions: TopicPartitionList,
}

impl Committed {
    pub fn new(
        bootstrap: &str,
        group: &str,
        topics: &[&str],
        partitions: i32,
    ) -> anyhow::Result<Self> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", group)
            .create()
            .context("creating an offsets client")?;
        let mut tpl = TopicPartitionList::new();
        for topic in topics {
            for p in 0..partitions {
                tpl.add_partition(topic, p);
            }
        }
        Ok(Committed {
            consumer,
            partitions: tpl,
        })
    }

    pub fn sum(&self) -> anyhow::Result<u64> {
        let committed = self
            .consumer
            .committed_offsets(self.partitions.clone(), Duration::from_secs(10))
            .context("reading committed offsets")?;
        Ok(committed
            .elements()
            .iter()
            .map(|e| match e.offset() {
                Offset::Offset(o) => u64::try_from(o).unwrap_or(0),
                _ => 0,
            })
            .sum())
    }
}

/// Loop passes a service has completed: one per batch, or per timer tick when idle.
pub fn passes(body: &str) -> u64 {
    counter(body, "wismo_batch_seconds_count")
}

fn consumed(body: &str, topic: &str) -> u64 {
    counter(
        body,
        &format!("wismo_records_consumed_total{{topic=\"{topic}\"}}"),
    )
}

fn produced(body: &str, topic: &str) -> u64 {
    counter(
        body,
        &format!("wismo_records_produced_total{{topic=\"{topic}\"}}"),
    )
}

/// A series that has not been incremented yet is not exposed: zero.
fn counter(body: &str, series: &str) -> u64 {
    metric(body, &format!("{series} ")).map_or(0, |v| v as u64)
}

/// The sum of every series of a metric (all label values); `prefix` is the name
/// and, for a labelled metric, the opening brace.
fn sum(body: &str, prefix: &str) -> u64 {
    body.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "# HELP x\n\
        wismo_records_consumed_total{topic=\"orders\"} 12\n\
        wismo_records_consumed_total{topic=\"orders-2\"} 5\n\
        wismo_dead_letters_total{kind=\"decode\"} 2\n\
        wismo_dead_letters_total{kind=\"invalid\"} 3\n\
        wismo_egress_waits_total 7\n\
        wismo_batch_seconds_count 31\n";

    #[test]
    fn counters_by_exact_series() {
        assert_eq!(consumed(BODY, "orders"), 12);
        assert_eq!(consumed(BODY, "orders-2"), 5);
        assert_eq!(consumed(BODY, "scans"), 0);
        assert_eq!(sum(BODY, "wismo_dead_letters_total{"), 5);
        assert_eq!(sum(BODY, "wismo_egress_waits_total"), 7);
        assert_eq!(passes(BODY), 31);
    }
}
