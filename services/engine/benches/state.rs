//! The cost of one state through the changelog: encode (`encode_state` and an
//! `entry` with a 7-mark position, Avro, format 3), decode (`decode_entry`), and a
//! restore of 10,000 order states, per entry: into a map, and into the engine's
//! store as the order-tracker restores (its timer armed, the state kept as its
//! bytes). States are the JSON seed files of the changelog fuzz corpus.
//! `cargo bench -p wismo-engine --bench state`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde::{de::DeserializeOwned, Serialize};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;
use wismo_codec::subjects;
use wismo_core::dispatch::RecipientHold;
use wismo_core::matcher::TrackingState;
use wismo_core::tracker::{self, OrderState, TrackerConfig};
use wismo_engine::changelog::{
    decode, decode_entry, decode_state, encode_state, entry, Mark, Position,
};
use wismo_engine::store::StateStore;

const ORDER_STATES: [&[u8]; 4] = [
    include_bytes!("../../../fuzz/corpus/changelog/order_state-o-1001.bin"),
    include_bytes!("../../../fuzz/corpus/changelog/order_state-o-1002.bin"),
    include_bytes!("../../../fuzz/corpus/changelog/order_state-o-1003.bin"),
    include_bytes!("../../../fuzz/corpus/changelog/order_state-o-1004.bin"),
];
const TRACKING_STATE: &[u8] =
    include_bytes!("../../../fuzz/corpus/changelog/tracking_state-held.bin");
const RECIPIENT_HOLD: &[u8] = include_bytes!("../../../fuzz/corpus/changelog/recipient_hold.bin");

const TOPIC: &str = "wismo-order-tracker-state-changelog";
const RESTORED: usize = 10_000;

/// A seed file (format 1, JSON) as its state.
fn seed<S: DeserializeOwned>(subject: &str, bytes: &[u8], name: &str) -> S {
    decode(subject, bytes, TOPIC, 0, 0).unwrap_or_else(|e| panic!("seed {name} decodes: {e}"))
}

/// What a task with one external input and two internal inputs of three writers
/// each writes: seven marks.
fn position() -> Position {
    let mut marks = vec![Mark {
        input: 0,
        writer: None,
        offset: 1_482_337,
    }];
    for input in 1..=2u8 {
        for writer in 0..3u32 {
            marks.push(Mark {
                input,
                writer: Some(writer),
                offset: 96_000 + i64::from(input) * 1_000 + i64::from(writer),
            });
        }
    }
    Position::new(marks)
}

fn encoded<S: Serialize>(subject: &str, position: &Position, state: &S) -> Vec<u8> {
    entry(
        position,
        &encode_state(subject, state).expect("the state encodes"),
    )
}

fn codec<S: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    c: &mut Criterion,
    subject: &str,
    state: &S,
) {
    let name = subject;
    let position = position();
    let bytes = encoded(subject, &position, state);
    let back = decode_entry::<S>(subject, &bytes, TOPIC, 0, 0).expect("the entry decodes");
    assert_eq!(&back.state, state);
    assert_eq!(back.position.as_ref(), Some(&position));
    eprintln!("{name}: entry {} bytes", bytes.len());

    let mut group = c.benchmark_group("state/encode");
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.iter(|| black_box(encoded(subject, black_box(&position), black_box(state))))
    });
    group.finish();

    let mut group = c.benchmark_group("state/decode");
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.iter(|| black_box(decode_entry::<S>(subject, black_box(&bytes), TOPIC, 0, 0).unwrap()))
    });
    group.finish();
}

/// The decode half of a restore, into a map by key.
fn restore(entries: &[(String, Vec<u8>)]) -> HashMap<String, OrderState> {
    let mut states = HashMap::new();
    for (offset, (key, bytes)) in (0i64..).zip(entries) {
        let e = decode_entry::<OrderState>(subjects::ORDER_STATE, bytes, TOPIC, 0, offset)
            .expect("entries decode");
        states.insert(key.clone(), e.state);
    }
    states
}

/// A restore as the order-tracker does it: each entry decoded, its timer armed,
/// and the state held in the engine's store as its bytes.
fn restore_into_store(entries: &[(String, Vec<u8>)]) -> StateStore<OrderState> {
    let config = TrackerConfig::default();
    let mut store = StateStore::bounded(0, |bytes| {
        decode_state(subjects::ORDER_STATE, bytes).map_err(|e| e.to_string())
    });
    for (offset, (key, bytes)) in (0i64..).zip(entries) {
        let e = decode_entry::<OrderState>(subjects::ORDER_STATE, bytes, TOPIC, 0, offset)
            .expect("entries decode");
        let deadline = tracker::next_deadline(&config, &e.state);
        store.restore(key.clone(), e.state, deadline, e.state_bytes, e.avro);
    }
    store
}

fn bench(c: &mut Criterion) {
    let orders: Vec<OrderState> = ORDER_STATES
        .iter()
        .enumerate()
        .map(|(i, bytes)| seed(subjects::ORDER_STATE, bytes, &format!("order_state {i}")))
        .collect();
    codec(c, subjects::ORDER_STATE, &orders[0]);
    let tracking = seed(subjects::TRACKING_STATE, TRACKING_STATE, "tracking_state");
    codec::<TrackingState>(c, subjects::TRACKING_STATE, &tracking);
    let hold = seed(subjects::RECIPIENT_HOLD, RECIPIENT_HOLD, "recipient_hold");
    codec::<RecipientHold>(c, subjects::RECIPIENT_HOLD, &hold);

    // Each key's state carries its own order id, as the tracker's do.
    let position = position();
    let entries: Vec<(String, Vec<u8>)> = (0..RESTORED)
        .map(|i| {
            let key = format!("o-{i}");
            let mut state = orders[i % orders.len()].clone();
            state.order_id = key.clone();
            let bytes = encoded(subjects::ORDER_STATE, &position, &state);
            (key, bytes)
        })
        .collect();
    assert_eq!(restore(&entries).len(), RESTORED);
    let total: usize = entries.iter().map(|(_, b)| b.len()).sum();
    eprintln!(
        "order_state_10k: {total} bytes, {} bytes per entry on average",
        total / RESTORED
    );

    let mut group = c.benchmark_group("state/restore");
    // Tens of milliseconds an iteration: fewer samples, and each map dropped
    // outside the measurement (a restore keeps its states).
    group
        .sample_size(20)
        .throughput(Throughput::Elements(RESTORED as u64));
    group.bench_function("order_state_10k", |b| {
        b.iter_batched(
            || (),
            |()| restore(black_box(&entries)),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("order_state_10k_into_store", |b| {
        b.iter_batched(
            || (),
            |()| restore_into_store(black_box(&entries)),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
