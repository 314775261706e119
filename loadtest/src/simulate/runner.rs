//! Runs the month through `replay` in memory: every input at its arrival time,
//! then the clock on until the last parcels and reviews are settled.

use super::generator::{self, Order};
use super::noise;
use chrono::{Duration, NaiveDate};
use replay::{Input, Replay};
use serde_json::Value;
use std::time::{Duration as StdDuration, Instant};
use wismo_config::{Env, Topics};
use wismo_core::matcher::MatcherConfig;
use wismo_core::model::Timestamp;
use wismo_core::tracker::TrackerConfig;

pub struct Params {
    pub orders: u64,
    pub days: i64,
    pub seed: u64,
    pub start: NaiveDate,
}

pub struct Run {
    pub orders: Vec<Order>,
    pub lines: Vec<Value>,
    pub inputs: usize,
    pub elapsed: StdDuration,
    /// The instant the clock was run to.
    pub until: Timestamp,
}

/// How long after the last order the clock runs: the slowest parcels, returns and
/// review requests (delivered + 7 days, + 3 for trouble) all come within it.
pub const TAIL: i64 = 45;

pub fn run(params: &Params, mut tracker: TrackerConfig) -> anyhow::Result<Run> {
    // The global egress rate only makes the dispatcher wait, in real time; on the
    // virtual clock it would stretch the run without changing a decision.
    tracker.notifications.egress_per_second = u32::MAX;
    // The world's calendars (carriers close on weekends and their lanes' public
    // holidays), whatever the policy under test believes.
    let world = wismo_core::delay::DelayPolicy::default();
    let orders: Vec<Order> = (0..params.orders)
        .map(|n| generator::order(params.seed, n, params.start, params.days, &world))
        .collect();
    let mut inputs: Vec<(Timestamp, Input)> = orders
        .iter()
        .enumerate()
        .flat_map(|(n, o)| noise::arrivals(params.seed, n as u64, o))
        .collect();
    // Stable: records that arrive together keep the order they were relayed in.
    inputs.sort_by_key(|(at, _)| *at);
    let started = Instant::now();
    let first = inputs.first().map_or(Timestamp::default(), |(at, _)| *at);
    let until = params
        .start
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        + Duration::days(params.days + TAIL);
    let topics = Topics::from_env(&Env::from_pairs([("WISMO_SIMULATE", "1")]));
    let mut replay = Replay::new(
        MatcherConfig::default(),
        tracker,
        topics,
        first - Duration::minutes(1),
    )?;
    for (at, input) in &inputs {
        replay.feed_input(*at, input);
    }
    let lines = replay.finish(until)?;
    Ok(Run {
        orders,
        lines,
        inputs: inputs.len(),
        elapsed: started.elapsed(),
        until,
    })
}
