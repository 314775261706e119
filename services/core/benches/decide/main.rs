//! Throughput of the pure decision functions next to the cost of decoding their
//! input.
//!
//! 1,000 generated orders ([`gen`]). `decide_vs_decode`: every order's events
//! folded through `tracker::decide` in arrival order (scans as the matcher routes
//! them), every registration and scan through `matcher::decide` per tracking
//! number, and the same events decoded from their Avro wire bytes; each reports
//! events per second, so the decide/decode ratio is read off one run. `timers`:
//! on every order's state after its events, `tracker::next_deadline` (what the
//! engine indexes after each decision) and `tracker::on_timer` at that deadline.
//! Scheduling across keys is the engine's, measured through `replay` by
//! `cargo bench -p replay --bench month`. `docs/performance.md` has figures.
//!
//! `cargo bench -p wismo-core --bench decide`

mod gen;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use gen::Event;
use std::collections::BTreeMap;
use std::hint::black_box;
use wismo_codec::{subjects, Codec};
use wismo_core::matcher::{self, MatcherConfig, MatcherInput, TrackingState};
use wismo_core::model::{CarrierScan, OrderEvent, Origin, Timestamp};
use wismo_core::tracker::{self, OrderState, TrackerConfig, TrackerInput};

const ORDERS: u64 = 1_000;

fn origin() -> Origin {
    Origin {
        topic: "bench".into(),
        partition: 0,
        offset: 0,
    }
}

fn tracker_input(event: &Event) -> TrackerInput {
    match event {
        Event::Order(e) => TrackerInput::Order(e.clone()),
        Event::Scan(s) => TrackerInput::Scan {
            scan: s.clone(),
            origin: origin(),
        },
    }
}

/// One order's events, in arrival order, through the tracker from no state.
fn fold_order(config: &TrackerConfig, order_id: &str, events: &[(Timestamp, Event)]) -> OrderState {
    let mut state = None;
    for (at, event) in events {
        state = tracker::decide(config, state, order_id, tracker_input(event), *at).state;
    }
    state.expect("an order's state")
}

/// What the matcher decides, per tracking number in arrival order: the
/// registrations the order events imply, and the scans.
fn matcher_inputs(
    stream: &[(Timestamp, Event)],
) -> BTreeMap<String, Vec<(Timestamp, MatcherInput)>> {
    let mut by_number: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for (at, event) in stream {
        let (key, input) = match event {
            Event::Order(e) => match matcher::registration(e) {
                Some(reg) => (
                    reg.tracking_number.clone(),
                    MatcherInput::ShipmentRegistered(reg),
                ),
                None => continue,
            },
            Event::Scan(s) => (
                s.tracking_number.clone(),
                MatcherInput::Scan {
                    scan: s.clone(),
                    origin: origin(),
                },
            ),
        };
        by_number.entry(key).or_default().push((*at, input));
    }
    by_number
}

fn bench(c: &mut Criterion) {
    let per_order: Vec<(String, Vec<(Timestamp, Event)>)> = (0..ORDERS)
        .map(|n| {
            let mut events = gen::order_events(n);
            events.sort_by_key(|(at, _)| *at);
            let Some((_, Event::Order(first))) = events.first() else {
                unreachable!("an order starts with its placement")
            };
            (first.order_id.clone(), events)
        })
        .collect();
    let stream: Vec<_> = per_order.iter().flat_map(|(_, e)| e.clone()).collect();
    let matcher_config = MatcherConfig::default();
    let tracker_config = TrackerConfig::default();
    let to_match = matcher_inputs(&stream);
    let matched = to_match.values().map(Vec::len).sum::<usize>();

    let codec = Codec::default();
    let wire: Vec<(bool, Vec<u8>)> = stream
        .iter()
        .map(|(_, input)| match input {
            Event::Order(e) => (true, codec.encode(subjects::ORDER_EVENT, e).unwrap()),
            Event::Scan(s) => (false, codec.encode(subjects::CARRIER_SCAN, s).unwrap()),
        })
        .collect();
    let scans = stream
        .iter()
        .filter(|(_, i)| matches!(i, Event::Scan(_)))
        .count();
    eprintln!(
        "{ORDERS} orders: {} events ({} order events, {scans} scans), {} Avro bytes",
        stream.len(),
        stream.len() - scans,
        wire.iter().map(|(_, b)| b.len()).sum::<usize>()
    );

    let mut group = c.benchmark_group("decide_vs_decode");
    group
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(4))
        .throughput(Throughput::Elements(stream.len() as u64));
    group.bench_function("decide/tracker", |b| {
        b.iter(|| {
            for (order_id, events) in &per_order {
                black_box(fold_order(&tracker_config, order_id, events));
            }
        })
    });
    group.bench_function("decode/avro", |b| {
        b.iter(|| {
            for (is_order, bytes) in &wire {
                if *is_order {
                    black_box(
                        codec
                            .decode::<OrderEvent>(subjects::ORDER_EVENT, bytes)
                            .unwrap(),
                    );
                } else {
                    black_box(
                        codec
                            .decode::<CarrierScan>(subjects::CARRIER_SCAN, bytes)
                            .unwrap(),
                    );
                }
            }
        })
    });
    // Registrations and scans only: the matcher sees no other order event.
    group.throughput(Throughput::Elements(matched as u64));
    group.bench_function("decide/matcher", |b| {
        b.iter_batched(
            || to_match.clone(),
            |by_number| {
                for inputs in by_number.into_values() {
                    let mut state: Option<TrackingState> = None;
                    for (at, input) in inputs {
                        state = matcher::decide(&matcher_config, state, input, at).state;
                    }
                    black_box(state);
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();

    // Every order's state after its events, and when its next timer is due.
    let states: Vec<(OrderState, Timestamp)> = per_order
        .iter()
        .map(|(order_id, events)| {
            let state = fold_order(&tracker_config, order_id, events);
            let due = tracker::next_deadline(&tracker_config, &state).expect("a timer is armed");
            (state, due)
        })
        .collect();
    let mut group = c.benchmark_group("timers");
    group
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(4))
        .throughput(Throughput::Elements(states.len() as u64));
    group.bench_function("tracker/next_deadline", |b| {
        b.iter(|| {
            for (state, _) in &states {
                black_box(tracker::next_deadline(&tracker_config, state));
            }
        })
    });
    group.bench_function("tracker/on_timer", |b| {
        b.iter_batched(
            || states.clone(),
            |states| {
                for (state, due) in states {
                    black_box(tracker::on_timer(&tracker_config, state, due));
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
