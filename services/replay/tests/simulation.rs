//! For every seed: the commands of a run with crashes (between decide, produce,
//! changelog and commit), rebalances, varied fetches and one input running ahead of
//! another equal `replay`'s, whole record for whole record; nothing is lost; a
//! repeat (at-least-once only) is byte-identical; a transactional run repeats
//! nothing. A failure names its seed: `WISMO_SIM_SEED=<seed> cargo test -p replay
//! --test simulation` runs that one alone.

mod sim;

use replay::cluster::Cluster;
use sim::{chaotic, collect, reference, workload};
use std::sync::Arc;
use wismo_core::clock::VirtualClock;
use wismo_engine::record::TopicPartition;
use wismo_engine::DeliveryMode;

/// Seeds per test function (two functions, so both cores work).
fn seeds() -> u64 {
    std::env::var("WISMO_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000)
}

fn check(seed: u64, cap: Option<u32>) {
    let delivery = if seed.is_multiple_of(2) {
        DeliveryMode::AtLeastOnce
    } else {
        DeliveryMode::Transactional
    };
    let topics = sim::settings(1, 1, delivery).topics;
    let arrivals = workload::generate(seed, 3 + (seed % 6) as usize, &topics);
    let expected = reference(&arrivals, delivery, cap);
    let (got, story) = chaotic(&arrivals, seed, delivery, cap);
    let context =
        format!("seed {seed} ({delivery:?}, cap {cap:?}, {story:?}); rerun: WISMO_SIM_SEED={seed}");
    for ((topic, id), copies) in &got.commands {
        assert!(
            copies.windows(2).all(|w| w[0] == w[1]),
            "{context}: copies of {topic} {id} differ: {:?}",
            copies
                .iter()
                .map(|c| replay::render::value(&topics, topic, c).to_string())
                .collect::<Vec<_>>()
        );
    }
    let (want, have) = (expected.distinct(), got.distinct());
    let lost: Vec<_> = want.keys().filter(|k| !have.contains_key(*k)).collect();
    let extra: Vec<_> = have.keys().filter(|k| !want.contains_key(*k)).collect();
    if std::env::var("WISMO_SIM_DEBUG").is_ok() {
        let show =
            |k: &(String, String), b: &Vec<u8>| replay::render::value(&topics, &k.0, b).to_string();
        for k in &lost {
            eprintln!("LOST {}", show(k, &want[*k]));
        }
        for k in &extra {
            eprintln!("EXTRA {}", show(k, &have[*k]));
        }
    }
    assert!(
        lost.is_empty() && extra.is_empty(),
        "{context}: lost {lost:?}, extra {extra:?}"
    );
    if std::env::var("WISMO_SIM_DEBUG").is_ok() {
        for (k, bytes) in &want {
            let show = |b: &Vec<u8>| replay::render::value(&topics, &k.0, b).to_string();
            eprintln!(
                "CMD {} {}\n    {}",
                k.1,
                show(bytes),
                have.get(k).map(show).unwrap_or_default()
            );
        }
    }
    for (k, bytes) in &want {
        if have.get(k) != Some(bytes) {
            let show = |b: &Vec<u8>| replay::render::value(&topics, &k.0, b).to_string();
            panic!(
                "{context}: {k:?} differs from replay's\nreplay: {}\nrun:    {}",
                show(bytes),
                have.get(k).map(show).unwrap_or_default(),
            );
        }
    }
    assert_eq!(
        expected.dead_letters, got.dead_letters,
        "{context}: dead letters differ"
    );
    if delivery == DeliveryMode::Transactional {
        let repeated: Vec<_> = got.repeated().collect();
        assert!(
            repeated.is_empty(),
            "{context}: a transactional run repeated {repeated:?}"
        );
    }
}

fn run(range: std::ops::Range<u64>, cap: Option<u32>) {
    if let Some(seed) = std::env::var("WISMO_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        if range.contains(&seed) {
            check(seed, cap);
        }
        return;
    }
    for seed in range {
        check(seed, cap);
    }
}

#[test]
fn seeds_of_the_first_half_decide_as_replay_does() {
    run(0..seeds(), None);
}

#[test]
fn seeds_of_the_second_half_decide_as_replay_does() {
    run(seeds()..2 * seeds(), None);
}

/// A tight cap (two per recipient per 6 h), so it holds and releases often: its
/// state survives the crashes and rebalances as every other state does.
#[test]
fn capped_seeds_decide_as_replay_does() {
    run(2 * seeds()..2 * seeds() + seeds() / 2, Some(2));
}

/// As the clock moves, each service deletes what it committed past on its internal
/// inputs: never further, far enough that they do not keep everything, and with
/// the same commands as replay.
#[test]
fn internal_inputs_are_purged_up_to_what_was_committed() {
    let delivery = DeliveryMode::AtLeastOnce;
    let settings = sim::settings(2, 2, delivery);
    let topics = settings.topics.clone();
    let arrivals = workload::generate(7, 8, &topics);
    let at = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    let clock = Arc::new(VirtualClock::new(at(arrivals[0].at)));
    let mut cluster = Cluster::new(settings, clock.clone());
    cluster.start_all().expect("start");
    for a in &arrivals {
        clock.advance_to(at(a.at));
        cluster.publish(&a.topic, a.key.as_deref(), a.payload.clone(), a.at);
        cluster.run_until_quiet().expect("run");
    }
    // On to replay's horizon, then past the purge interval twice: a commit, then
    // a purge after it.
    let end = sim::horizon(&arrivals);
    for later in [0, 60_000, 120_000] {
        clock.advance_to(at(end + later));
        cluster.run_until_quiet().expect("run");
    }
    for (topic, group) in [
        (&topics.shipment_registrations, "wismo-scan-matcher"),
        (&topics.routed_scans, "wismo-order-tracker"),
        (&topics.outbox, "wismo-dispatcher"),
    ] {
        let mut purged = 0;
        for p in 0..2 {
            let tp = TopicPartition::new(topic.as_str(), p);
            let start = cluster.log.log_start(&tp);
            let committed = cluster.log.committed(group, &tp).offset.unwrap_or(0);
            assert!(
                start <= committed,
                "{tp}: purged to {start}, committed {committed}"
            );
            purged += start;
        }
        assert!(purged > 0, "{topic} was never purged");
    }
    let (live, expected) = (collect(&cluster), reference(&arrivals, delivery, None));
    let (live, expected) = (live.distinct(), expected.distinct());
    let differ: Vec<_> = (live.keys().chain(expected.keys()))
        .filter(|k| live.get(*k) != expected.get(*k))
        .collect();
    assert!(
        differ.is_empty(),
        "commands differ from replay's: {differ:?}"
    );
}
