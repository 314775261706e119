//! What the engine does with faults a decision cannot catch: a record that
//! crashes the whole process (the crash-loop breaker), an output too large to
//! produce, and outputs the broker refuses inside a transaction. Each run is
//! compared with a clean run of the same input.

#[allow(dead_code)]
#[path = "sim/mod.rs"]
mod sim;

use replay::cluster::Cluster;
use sha2::{Digest, Sha256};
use sim::{collect, horizon, workload, Letter, Outcome};
use std::sync::Arc;
use wismo_codec::dead_letter_kind;
use wismo_core::clock::VirtualClock;
use wismo_engine::transport::memory::Faults;
use wismo_engine::{BreakerConfig, DeliveryMode};

/// The simulation's settings without the cap: a command it holds goes out
/// changed, and these tests follow commands by their bytes.
fn settings(
    partitions: i32,
    scan_partitions: i32,
    delivery: DeliveryMode,
) -> replay::cluster::Settings {
    let mut s = sim::settings(partitions, scan_partitions, delivery);
    s.tracker.notifications.per_recipient_max = 1_000;
    s.engine.breaker = BreakerConfig::default();
    s
}

/// Which commands differ, by key, for a readable failure.
fn differences(a: &Outcome, b: &Outcome) -> Vec<(String, String)> {
    let (a, b) = (a.distinct(), b.distinct());
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

fn run(
    cluster_settings: replay::cluster::Settings,
    arrivals: &[workload::Arrival],
    faults: Faults,
) -> (Outcome, usize) {
    let engine = cluster_settings.engine.clone();
    run_with_dispatcher(cluster_settings, arrivals, faults.clone(), engine, faults)
}

/// As [`run`], the dispatcher (the last stage) with an engine and faults of its
/// own: what it is given there touches only the commands.
fn run_with_dispatcher(
    cluster_settings: replay::cluster::Settings,
    arrivals: &[workload::Arrival],
    faults: Faults,
    dispatcher: wismo_engine::EngineConfig,
    dispatcher_faults: Faults,
) -> (Outcome, usize) {
    use replay::cluster::Service;
    let clock = Arc::new(VirtualClock::new(
        chrono::DateTime::from_timestamp_millis(horizon(arrivals)).unwrap_or_default(),
    ));
    let engine = cluster_settings.engine.clone();
    let mut cluster = Cluster::new(cluster_settings, clock);
    for a in arrivals {
        cluster.publish(&a.topic, a.key.as_deref(), a.payload.clone(), a.at);
    }
    for service in Service::ALL {
        let (config, faults) = match service {
            Service::Dispatcher => (dispatcher.clone(), dispatcher_faults.clone()),
            _ => (engine.clone(), faults.clone()),
        };
        cluster
            .start_with(service, Default::default(), faults, config)
            .expect("start");
    }
    let restarts = cluster.run_restarting(&faults, 20).expect("no crash loop");
    (collect(&cluster), restarts)
}

/// One clean instance of each service, as `replay` runs.
fn reference(arrivals: &[workload::Arrival], delivery: DeliveryMode) -> Outcome {
    run(settings(1, 1, delivery), arrivals, Faults::default()).0
}

fn letters<'a>(outcome: &'a Outcome, kind: &str) -> Vec<&'a Letter> {
    outcome
        .dead_letters
        .iter()
        .filter(|l| l.kind == kind)
        .collect()
}

/// Whether the letter holds these bytes: whole, or as their size and hash.
fn holds(letter: &Letter, bytes: &[u8]) -> bool {
    match &letter.whole {
        None => letter.value == bytes,
        Some((size, sha)) => {
            let hex: String = Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            *size == bytes.len() as i64 && *sha == hex && bytes.starts_with(&letter.value)
        }
    }
}

#[test]
fn a_record_that_crashes_the_service_twice_goes_to_dead_letter_and_the_rest_is_decided() {
    for delivery in [DeliveryMode::AtLeastOnce, DeliveryMode::Transactional] {
        let topics = settings(1, 1, delivery).topics;
        let arrivals = workload::generate(7, 6, &topics);
        // The scan for a number nobody created is keyed by it alone.
        let poison = arrivals
            .iter()
            .find(|a| a.key.as_deref().is_some_and(|k| k.starts_with("NOBODY")))
            .expect("the workload has an unknown number")
            .clone();
        let mut crashing = settings(2, 2, delivery);
        crashing.engine.crash_on_key = poison.key.clone();
        let (got, restarts) = run(crashing, &arrivals, Faults::default());
        // The stray scan commands nothing: every command is the clean run's, and
        // it still counts for stream time.
        let want = reference(&arrivals, delivery);
        assert_eq!(
            differences(&got, &want),
            vec![],
            "{delivery:?}: every command as in a clean run"
        );
        // Two crashes without a commit turn the task careful; two more restarts
        // on the record itself.
        assert_eq!(restarts, 4, "{delivery:?}");
        let crashed = letters(&got, dead_letter_kind::PROCESSING);
        assert_eq!(crashed.len(), 1, "{delivery:?}: {crashed:?}");
        assert!(
            crashed[0].reason.contains("restarted twice"),
            "{}",
            crashed[0].reason
        );
        assert!(
            holds(crashed[0], &poison.payload),
            "the original bytes are kept"
        );
    }
}

#[test]
fn an_output_over_the_limit_goes_to_dead_letter_the_same_way_live_and_in_replay() {
    for delivery in [DeliveryMode::AtLeastOnce, DeliveryMode::Transactional] {
        let topics = settings(1, 1, delivery).topics;
        let arrivals = with_long_ids(&topics);
        let want = reference(&arrivals, delivery);
        let cluster = settings(2, 1, delivery);
        let mut limited = cluster.engine.clone();
        // What the engine counts: key, value and 256 bytes for the rest.
        limited.max_output_bytes = short_commands_fit(&want) + 256;
        limited.dead_letter_max_original_bytes = 16;
        let run = || {
            let none = Faults::default();
            run_with_dispatcher(
                cluster.clone(),
                &arrivals,
                none.clone(),
                limited.clone(),
                none,
            )
        };
        let (got, restarts) = run();
        assert_eq!(restarts, 0);
        let (again, _) = run();
        assert!(
            got == again,
            "{delivery:?}: not deterministic: {:?}",
            differences(&got, &again)
        );
        assert_commands_or_dead_letters(&want, &got, delivery);
    }
}

#[test]
fn outputs_the_broker_refuses_go_to_dead_letter_without_a_loop() {
    for delivery in [DeliveryMode::AtLeastOnce, DeliveryMode::Transactional] {
        let topics = settings(1, 1, delivery).topics;
        let arrivals = with_long_ids(&topics);
        let want = reference(&arrivals, delivery);
        let refusing = Faults {
            max_record_bytes: Some(short_commands_fit(&want)),
            ..Faults::default()
        };
        let cluster = settings(2, 1, delivery);
        let mut small_letters = cluster.engine.clone();
        small_letters.dead_letter_max_original_bytes = 16;
        let (got, restarts) = run_with_dispatcher(
            cluster,
            &arrivals,
            Faults::default(),
            small_letters,
            refusing,
        );
        assert_eq!(restarts, 0, "{delivery:?}: a refusal is not a crash");
        assert_commands_or_dead_letters(&want, &got, delivery);
    }
}

/// A producer that fails for good (fenced, or an invalid transactional state) is
/// replaced and the instance rewinds to its last commit, without a restart: every
/// command is the clean run's, a repeat (at-least-once) is the same record, and a
/// transaction never shows one.
#[test]
fn a_producer_that_fails_for_good_is_replaced_without_a_restart() {
    let aborts = || {
        wismo_engine::metrics::engine()
            .aborts
            .with_label_values(&["producer"])
            .get()
    };
    for delivery in [DeliveryMode::AtLeastOnce, DeliveryMode::Transactional] {
        let topics = settings(1, 1, delivery).topics;
        let arrivals = workload::generate(11, 8, &topics);
        let want = reference(&arrivals, delivery);
        for after in [0, 3, 17, 60] {
            let failing = Faults {
                producer_fails_after_calls: Some(after),
                ..Faults::default()
            };
            let before = aborts();
            let (got, restarts) = run(settings(2, 2, delivery), &arrivals, failing);
            assert!(
                aborts() > before,
                "{delivery:?} after {after}: never failed"
            );
            assert_eq!(restarts, 0, "{delivery:?} after {after}: a restart");
            assert_as_clean_run(&got, &want, &format!("{delivery:?} after {after}"));
            if delivery == DeliveryMode::Transactional {
                let repeated: Vec<_> = got.repeated().collect();
                assert!(repeated.is_empty(), "after {after}: {repeated:?}");
            }
        }
    }
}

/// Every command as in the clean run, and every repeat the same record.
fn assert_as_clean_run(got: &Outcome, want: &Outcome, context: &str) {
    assert_eq!(differences(got, want), vec![], "{context}");
    for (id, copies) in &got.commands {
        assert!(
            copies.iter().all(|c| c == &copies[0]),
            "{context}: {id:?} repeated with other bytes"
        );
    }
}

/// A run of the whole input at once whose instances start with the faults
/// `faults` gives their service, and come back without any.
fn failing_once(
    cluster_settings: replay::cluster::Settings,
    arrivals: &[workload::Arrival],
    faults: impl Fn(replay::cluster::Service) -> Faults,
) -> Outcome {
    failing_once_committing(cluster_settings, arrivals, faults, false)
}

fn failing_once_committing(
    cluster_settings: replay::cluster::Settings,
    arrivals: &[workload::Arrival],
    faults: impl Fn(replay::cluster::Service) -> Faults,
    pipelined: bool,
) -> Outcome {
    let clock = Arc::new(VirtualClock::new(
        chrono::DateTime::from_timestamp_millis(horizon(arrivals)).unwrap_or_default(),
    ));
    let mut cluster = Cluster::new(cluster_settings, clock);
    cluster.pipelined_commits = pipelined;
    for a in arrivals {
        cluster.publish(&a.topic, a.key.as_deref(), a.payload.clone(), a.at);
    }
    for service in replay::cluster::Service::ALL {
        cluster
            .start(service, Default::default(), faults(service))
            .expect("start");
    }
    cluster
        .run_restarting(&Faults::default(), 20)
        .expect("no crash loop");
    collect(&cluster)
}

/// Every command of the clean run is on its topic or, whole, in a dead letter of
/// kind `undeliverable`; at least one of each.
fn assert_commands_or_dead_letters(want: &Outcome, got: &Outcome, delivery: DeliveryMode) {
    let refused = letters(got, dead_letter_kind::UNDELIVERABLE);
    let have = got.distinct();
    let mut on_topic = 0;
    let mut dead = 0;
    for ((topic, id), bytes) in want.distinct() {
        if have.get(&(topic.clone(), id.clone())) == Some(&bytes) {
            on_topic += 1;
        } else if refused.iter().any(|l| holds(l, &bytes)) {
            dead += 1;
        } else {
            panic!("{delivery:?}: {topic} {id} is neither produced nor dead-lettered");
        }
    }
    assert!(
        on_topic > 0 && dead > 0,
        "{delivery:?}: {on_topic} produced, {dead} refused"
    );
    assert_eq!(
        refused.len(),
        dead,
        "{delivery:?}: only commands were refused"
    );
}

/// Orders of which every other has an id as long as an id may be, so that
/// their commands are the largest by far.
fn with_long_ids(topics: &wismo_config::Topics) -> Vec<workload::Arrival> {
    workload::generate_named(11, 6, topics, |n| match n % 2 {
        0 => format!("o-{n}"),
        _ => format!("o-{n}-{}", "x".repeat(100)),
    })
}

/// A record size (key and value) that every command of a short-id order fits
/// in, with room for a dead letter, and no command of a long-id order does.
fn short_commands_fit(outcome: &Outcome) -> usize {
    let long = |b: &Vec<u8>| b.windows(100).any(|w| w.iter().all(|&c| c == b'x'));
    let commands = outcome.distinct();
    let short = commands.values().filter(|b| !long(b)).map(Vec::len).max();
    let shortest_long = commands.values().filter(|b| long(b)).map(Vec::len).min();
    let (Some(short), Some(shortest_long)) = (short, shortest_long) else {
        panic!("the workload has commands of both kinds");
    };
    let fit = short + 48;
    assert!(shortest_long > fit + 32, "{short} {shortest_long}");
    fit
}

/// Rolling restarts and rebalances are no crash loop: a clean stop's commit
/// counts no restart, and neither does a task that lives through a commit with
/// nothing to decide, so tasks that are idle while they move between instances
/// do not pile up restarts and start out deciding one record per commit.
#[test]
fn rebalances_and_clean_stops_count_no_restarts() {
    use replay::cluster::Service;
    use wismo_engine::checkpoint::Checkpoint;
    let s = settings(4, 4, DeliveryMode::Transactional);
    let arrivals = workload::generate(3, 4, &s.topics);
    let clock = Arc::new(VirtualClock::new(
        chrono::DateTime::from_timestamp_millis(horizon(&arrivals)).unwrap_or_default(),
    ));
    let mut cluster = Cluster::new(s, clock);
    for a in &arrivals {
        cluster.publish(&a.topic, a.key.as_deref(), a.payload.clone(), a.at);
    }
    cluster.start_all().expect("start");
    cluster.run_until_quiet().expect("run");
    for _ in 0..3 {
        // Idle now: every move forms a task that decides nothing.
        for _ in 0..3 {
            for service in Service::ALL {
                cluster
                    .start(service, Default::default(), Faults::default())
                    .expect("join");
                cluster.run_until_quiet().expect("run");
            }
        }
        for service in Service::ALL {
            while cluster
                .members
                .iter()
                .filter(|m| m.service == service)
                .count()
                > 1
            {
                let i = (cluster.members.iter())
                    .position(|m| m.service == service)
                    .expect("running");
                cluster.stop(i).expect("clean stop");
                cluster.run_until_quiet().expect("run");
            }
        }
    }
    let topics = cluster.settings.topics.clone();
    for (group, topic) in [
        ("wismo-scan-matcher", &topics.carrier_scans),
        ("wismo-order-tracker", &topics.orders),
        ("wismo-dispatcher", &topics.outbox),
    ] {
        let mut checked = 0;
        for p in 0..4 {
            let tp = wismo_engine::record::TopicPartition::new(topic.as_str(), p);
            let Some(checkpoint) = Checkpoint::decode(&cluster.log.committed(group, &tp).metadata)
            else {
                continue;
            };
            assert_eq!(checkpoint.restarts, 0, "{group} {tp}");
            checked += 1;
        }
        assert!(checked > 0, "{group}: no checkpoint");
    }
}

/// At-least-once: a writer that crashed, or rewound after its producer failed,
/// sends again what it had sent since its last commit, and its readers find those
/// copies after its later records. Decided again out of their time they came out
/// different (a cap's clock, a pruned list of what was sent); they are dropped
/// instead, so every copy on a command topic is the same record.
#[test]
fn copies_a_writer_sends_again_are_dropped_and_every_repeat_is_identical() {
    use replay::cluster::Service;
    let delivery = DeliveryMode::AtLeastOnce;
    let dropped = || wismo_engine::metrics::engine().repeated_total.get();
    let before = dropped();
    for seed in 0..12 {
        let topics = settings(1, 1, delivery).topics;
        let arrivals = workload::generate(seed, 3 + (seed % 6) as usize, &topics);
        let want = reference(&arrivals, delivery);
        for after in [5, 17, 30, 60] {
            for fault in [
                Faults {
                    crash_after_calls: Some(after),
                    ..Faults::default()
                },
                Faults {
                    producer_fails_after_calls: Some(after),
                    ..Faults::default()
                },
            ] {
                // The writers fail once; the dispatcher, the last reader, does not.
                let got = failing_once(settings(2, 2, delivery), &arrivals, |s| match s {
                    Service::Dispatcher => Faults::default(),
                    _ => fault.clone(),
                });
                assert_as_clean_run(&got, &want, &format!("seed {seed}, {fault:?}"));
            }
        }
    }
    assert!(dropped() > before, "no copy was ever dropped");
}

/// At-least-once: the changelog is written before the offsets are committed, so a
/// crash between the two restores state that already holds decisions the task
/// then makes again. A dispatcher deciding a command its restored state already
/// sent (and whose cap's clock is already past it) held it and sent it a day
/// later. Each entry carries how far its task had decided, and what it covers is
/// not decided twice: a crash after any call of any one service, and every repeat
/// is the same record.
#[test]
fn inputs_a_restored_state_already_holds_are_not_decided_twice() {
    crashing_after_every_call(0..12, false);
}

/// The same with commits as the services' loop makes them: the changelog in
/// flight, or acknowledged with the offsets not yet committed, when the crash comes.
#[test]
fn a_crash_after_any_call_with_pipelined_commits_decides_as_a_clean_run() {
    crashing_after_every_call(0..6, true);
}

fn crashing_after_every_call(seeds: std::ops::Range<u64>, pipelined: bool) {
    use replay::cluster::Service;
    let delivery = DeliveryMode::AtLeastOnce;
    for seed in seeds {
        let topics = settings(1, 1, delivery).topics;
        let arrivals = workload::generate(seed, 3 + (seed % 6) as usize, &topics);
        let want = reference(&arrivals, delivery);
        for after in 1..120 {
            for target in Service::ALL {
                let fault = Faults {
                    crash_after_calls: Some(after),
                    ..Faults::default()
                };
                let got = failing_once_committing(
                    settings(1, 1, delivery),
                    &arrivals,
                    |s| {
                        if s == target {
                            fault.clone()
                        } else {
                            Faults::default()
                        }
                    },
                    pipelined,
                );
                let context = format!(
                    "seed {seed}, {target:?} crashing after {after} calls, pipelined {pipelined}"
                );
                assert_as_clean_run(&got, &want, &context);
            }
        }
    }
}

/// Each service decides half the input and commits as its loop does (the changelog
/// sent, the offsets waiting for its acknowledgement), then every instance crashes
/// before anything more is flushed; new instances decide the rest. The changelog
/// was lost with them, so the offsets must not have been committed either: the
/// first half is decided again, and the second finds the state it needs.
#[test]
fn offsets_are_not_committed_before_their_changelog_is_acknowledged() {
    let delivery = DeliveryMode::AtLeastOnce;
    for seed in 0..8 {
        let topics = settings(1, 1, delivery).topics;
        let arrivals = workload::generate(seed, 4 + (seed % 4) as usize, &topics);
        let want = reference(&arrivals, delivery);
        let clock = Arc::new(VirtualClock::new(
            chrono::DateTime::from_timestamp_millis(horizon(&arrivals)).unwrap_or_default(),
        ));
        let mut cluster = Cluster::new(settings(1, 1, delivery), clock);
        cluster.pipelined_commits = true;
        let (first, second) = arrivals.split_at(arrivals.len() / 2);
        for a in first {
            cluster.publish(&a.topic, a.key.as_deref(), a.payload.clone(), a.at);
        }
        cluster.start_all().expect("start");
        // Upstream first, so each service finds its input decided and flushed.
        for m in &mut cluster.members {
            while m.instance.poll().expect("poll") {}
            m.instance.commit_pipelined().expect("commit");
        }
        while !cluster.members.is_empty() {
            cluster.crash(0);
        }
        for a in second {
            cluster.publish(&a.topic, a.key.as_deref(), a.payload.clone(), a.at);
        }
        cluster.start_all().expect("restart");
        cluster.run_until_quiet().expect("quiet");
        let got = collect(&cluster);
        assert_as_clean_run(&got, &want, &format!("seed {seed}"));
    }
}
