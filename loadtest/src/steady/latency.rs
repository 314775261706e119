//! End-to-end latency from the command topics: every command read back with its
//! broker append time (the run sets the command topics to `LogAppendTime`), its
//! order id, `decided_at` and, for a delay apology, `detectable_at`, and matched
//! to the inputs of its order by their produce times.

use super::stats::Percentiles;
use crate::throughput::commands::COMMAND_TOPICS;
use crate::topic::read_topic;
use anyhow::{bail, Context};
use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::{ClientConfig, Message, Timestamp};
use std::collections::{BTreeMap, HashMap};
use wismo_config::Topics;

/// One command as it reached its topic.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Default topic name.
    pub topic: &'static str,
    pub order_id: String,
    pub decided_at: i64,
    pub detectable_at: Option<i64>,
    /// Broker append time (epoch ms).
    pub appended: i64,
}

/// Has the broker stamp every command with its append time. The command topics
/// are created without topic configs, so setting this one resets nothing else.
pub fn stamp_on_append(bootstrap: &str, topics: &Topics) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .context("creating an admin client")?;
    let names: Vec<String> = COMMAND_TOPICS
        .iter()
        .map(|t| topics.resolve(t).to_string())
        .collect();
    let configs: Vec<AlterConfig<'_>> = names
        .iter()
        .map(|n| {
            AlterConfig::new(ResourceSpecifier::Topic(n))
                .set("message.timestamp.type", "LogAppendTime")
        })
        .collect();
    let results = futures::executor::block_on(admin.alter_configs(&configs, &AdminOptions::new()))
        .context("altering the command topics")?;
    for r in results {
        if let Err((resource, code)) = r {
            bail!("setting LogAppendTime on {resource:?}: {code}");
        }
    }
    Ok(())
}

/// Every record on the three command topics, read to their end.
pub fn read(bootstrap: &str, topics: &Topics) -> anyhow::Result<Vec<Seen>> {
    let mut out = Vec::new();
    for name in COMMAND_TOPICS {
        let topic = topics.resolve(name);
        read_topic(bootstrap, topic, |m| {
            let Timestamp::LogAppendTime(appended) = m.timestamp() else {
                bail!("{topic} does not stamp append times: {:?}", m.timestamp());
            };
            let Some(payload) = m.payload() else {
                return Ok(());
            };
            let v = replay::render::value(topics, topic, payload);
            let (Some(order_id), Some(decided_at)) =
                (v["order_id"].as_str(), v["decided_at"].as_i64())
            else {
                bail!("a command on {topic} without order_id or decided_at: {v}");
            };
            out.push(Seen {
                topic: name,
                order_id: order_id.to_string(),
                decided_at,
                detectable_at: v["detectable_at"].as_i64(),
                appended,
            });
            Ok(())
        })?;
    }
    Ok(out)
}

/// The figures of one group of commands, in milliseconds.
#[derive(Debug, Default)]
pub struct Figures {
    /// Append time less the produce time of the order's last input at or
    /// before the decision.
    pub e2e: Percentiles,
    /// Of those, the commands decided on an input (`decided_at` is the produce
    /// time of one of the order's inputs): the pipeline alone.
    pub on_input: Percentiles,
    /// The others, decided on a timer: append time less `decided_at` (the
    /// timer's deadline).
    pub on_timer: Percentiles,
    /// Delay apologies: append time less `detectable_at`.
    pub detect: Percentiles,
    /// Of those, the ones detectable at a deadline (`detectable_at` is no input's
    /// produce time: a parcel not picked up, stuck, presumed lost, a promise
    /// passed): time past the deadline.
    pub detect_deadline: Percentiles,
    /// The ones detectable at a scan's arrival (an exception): these wait for the
    /// coalescing window by design before they are judged.
    pub detect_scan: Percentiles,
    /// Delay apologies: `decided_at` less `detectable_at`, the policy's own wait.
    pub policy_wait: Percentiles,
    /// Commands with no input of the run before them (none expected).
    pub unmatched: usize,
}

/// Figures over every command, and per command topic.
pub fn figures(
    seen: &[Seen],
    inputs: &HashMap<String, Vec<i64>>,
) -> (Figures, BTreeMap<&'static str, Figures>) {
    let mut all = Samples::default();
    let mut by_topic: BTreeMap<&'static str, Samples> = BTreeMap::new();
    for s in seen {
        let own = by_topic.entry(s.topic).or_default();
        let times = inputs.get(&s.order_id).map_or(&[][..], Vec::as_slice);
        // Inputs are stamped with their produce time, so those at or before the
        // decision are the ones it could have seen.
        let before = times.partition_point(|t| *t <= s.decided_at);
        let Some(last) = before.checked_sub(1).map(|i| times[i]) else {
            all.unmatched += 1;
            own.unmatched += 1;
            continue;
        };
        for set in [&mut all, &mut *own] {
            set.e2e.push((s.appended - last) as f64);
            if last == s.decided_at {
                set.on_input.push((s.appended - last) as f64);
            } else {
                set.on_timer.push((s.appended - s.decided_at) as f64);
            }
            if let Some(d) = s.detectable_at {
                set.detect.push((s.appended - d) as f64);
                set.policy_wait.push((s.decided_at - d) as f64);
                if times.binary_search(&d).is_ok() {
                    set.detect_scan.push((s.appended - d) as f64);
                } else {
                    set.detect_deadline.push((s.appended - d) as f64);
                }
            }
        }
    }
    let done = by_topic.into_iter().map(|(k, v)| (k, v.done())).collect();
    (all.done(), done)
}

#[derive(Default)]
struct Samples {
    e2e: Vec<f64>,
    on_input: Vec<f64>,
    on_timer: Vec<f64>,
    detect: Vec<f64>,
    detect_deadline: Vec<f64>,
    detect_scan: Vec<f64>,
    policy_wait: Vec<f64>,
    unmatched: usize,
}

impl Samples {
    fn done(mut self) -> Figures {
        Figures {
            e2e: Percentiles::of(&mut self.e2e),
            on_input: Percentiles::of(&mut self.on_input),
            on_timer: Percentiles::of(&mut self.on_timer),
            detect: Percentiles::of(&mut self.detect),
            detect_deadline: Percentiles::of(&mut self.detect_deadline),
            detect_scan: Percentiles::of(&mut self.detect_scan),
            policy_wait: Percentiles::of(&mut self.policy_wait),
            unmatched: self.unmatched,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_match_the_last_input_before_their_decision() {
        let inputs = HashMap::from([("o".to_string(), vec![1_000, 2_000, 9_000])]);
        let seen = [
            // Decided on the second input, appended 40 ms later.
            Seen {
                topic: "notification-commands",
                order_id: "o".into(),
                decided_at: 2_000,
                detectable_at: None,
                appended: 2_040,
            },
            // A deadline at 8 s, after the second input; detectable at it.
            Seen {
                topic: "delay-apology-commands",
                order_id: "o".into(),
                decided_at: 8_000,
                detectable_at: Some(8_000),
                appended: 8_300,
            },
            Seen {
                topic: "notification-commands",
                order_id: "x".into(),
                decided_at: 1,
                detectable_at: None,
                appended: 2,
            },
        ];
        let (all, by) = figures(&seen, &inputs);
        assert_eq!((all.e2e.n, all.unmatched), (2, 1));
        assert_eq!(all.on_input.max, 40.0);
        assert_eq!(all.on_timer.max, 300.0);
        assert_eq!(all.e2e.max, 6_300.0);
        assert_eq!(by["delay-apology-commands"].detect.p50, 300.0);
        assert_eq!(all.detect_deadline.n, 1);
        assert_eq!(all.detect_scan.n, 0);
    }
}
