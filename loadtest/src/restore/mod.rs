//! `loadtest restore --orders N`: how long rebuilding N orders from the order
//! tracker's changelog takes, next to a plain read of the same bytes.
//!
//! Generates N order states with the real decision core, writes them as the
//! order-tracker does (Avro changelog entries) to a one-partition changelog topic
//! (a throwaway Apache Kafka broker unless `--bootstrap` names one), then
//! alternates a raw read of the partition with `wismo_runtime::read_changelog`
//! and decoding, and reports medians, the ratio and
//! the memory a restored order takes. See `docs/performance.md`.

use crate::measure::{self, timed, Samples};
use crate::produce::{self, await_acks};
use crate::{alloc, gen};
use anyhow::{ensure, Context};
use clap::Args;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};
use wismo_codec::subjects::ORDER_STATE;
use wismo_core::tracker::{self, OrderState, TrackerConfig};
use wismo_engine::changelog;
use wismo_engine::store::StateStore;
use wismo_runtime::RuntimeConfig;

mod heap;

#[derive(Args)]
pub struct RestoreArgs {
    /// How many orders to write to the changelog. 200000 is the heavy run.
    #[arg(long, default_value_t = 10_000)]
    orders: u64,
    /// A broker to use; without it a throwaway Apache Kafka broker is started.
    #[arg(long)]
    bootstrap: Option<String>,
    /// Timed rounds; each is one raw read then one restore.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Orders per in-memory pipeline while generating (bounds memory and the
    /// pipeline's timer scan).
    #[arg(long, default_value_t = 25)]
    batch: u64,
    /// Only report the heap a restored order takes, part by part, over the
    /// generated states decoded in memory (no broker).
    #[arg(long)]
    heap_breakdown: bool,
}

pub fn run(args: RestoreArgs) -> anyhow::Result<()> {
    ensure!(args.orders > 0, "--orders must be positive");
    ensure!(args.rounds > 0, "--rounds must be positive");
    ensure!(args.batch > 0, "--batch must be positive");
    if args.heap_breakdown {
        return heap::breakdown(args.orders, args.batch);
    }
    let (broker, bootstrap) = measure::broker(&args.bootstrap)?;
    let topic = wismo_e2e::unique_name("loadtest-changelog");
    wismo_e2e::create_topics(&bootstrap, &[(&topic, 1)], true)?;
    wismo_e2e::wait_for_topic(&bootstrap, &topic, Duration::from_secs(30))?;
    eprintln!("broker {bootstrap}, changelog topic {topic}");

    let started = Instant::now();
    let written = write_changelog(&bootstrap, &topic, args.orders, args.batch)?;
    eprintln!(
        "wrote {} orders, {} bytes in {:.1}s; per order: {:.2} shipments, {:.2} seen scans, \
         {:.2} milestones sent; {} orders with an incident",
        written.orders,
        written.bytes,
        started.elapsed().as_secs_f64(),
        written.shipments as f64 / written.orders as f64,
        written.seen_scans as f64 / written.orders as f64,
        written.milestones as f64 / written.orders as f64,
        written.with_incident,
    );

    let env = wismo_config::Env::from_pairs([("WISMO_BOOTSTRAP_SERVERS", bootstrap.as_str())]);
    let config = RuntimeConfig::from_env("bench", &env)?;
    let changelog = wismo_engine::record::TopicPartition::new(topic.as_str(), 0);

    // Memory first, on a quiet heap: what holding the restored map costs.
    trim_heap();
    let (heap0, rss0) = (alloc::live_bytes(), alloc::rss_bytes()?);
    let states = restore_states(&config, &changelog)?;
    ensure!(
        states.len() as u64 == written.orders,
        "restored {} orders, wrote {}",
        states.len(),
        written.orders
    );
    trim_heap();
    let (heap1, rss1) = (alloc::live_bytes(), alloc::rss_bytes()?);
    // After a restore the shell arms each order's timer: `tracker::next_deadline`
    // per state (with the default tracker settings), outside `restore_partition`.
    let tracker_config = TrackerConfig::default();
    let t = Instant::now();
    let armed = states
        .values()
        .filter(|s| tracker::next_deadline(&tracker_config, s).is_some())
        .count();
    let arm_s = t.elapsed().as_secs_f64();
    drop(states);
    let heap_per_order = (heap1 - heap0) as f64 / written.orders as f64;
    let rss_per_order = (rss1 - rss0) as f64 / written.orders as f64;

    // The same, held as the order-tracker holds it: the engine's store, which
    // keeps a restored state as its bytes until a decision takes it.
    trim_heap();
    let (heap0, rss0) = (alloc::live_bytes(), alloc::rss_bytes()?);
    let store = restore_store(&config, &changelog, Held::AsBytes)?;
    ensure!(
        store.len() as u64 == written.orders,
        "the store came back short"
    );
    trim_heap();
    let (heap1, rss1) = (alloc::live_bytes(), alloc::rss_bytes()?);
    let decoded_in_store = store.decoded_len();
    drop(store);
    let store_heap_per_order = (heap1 - heap0) as f64 / written.orders as f64;
    let store_rss_per_order = (rss1 - rss0) as f64 / written.orders as f64;

    // The payloads in memory, for the decode-only runs.
    let mut records = Vec::with_capacity(written.orders as usize);
    raw_read(&config, &topic, &[], |key, payload| {
        records.push((key.to_vec(), payload.to_vec()))
    })?;

    // Timed rounds, alternating so drift and noise hit every variant alike.
    let (mut raw, mut wismo, mut fast, mut decode, mut into_store, mut decoded_store) = (
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
        Samples::default(),
    );
    for round in 1..=args.rounds {
        let (read, t) = timed(|| raw_read(&config, &topic, &[], |_, _| {}))?;
        ensure!(read.records == written.orders, "raw read {read:?}");
        black_box(read.checksum);
        raw.push(t);

        let (states, t) = timed(|| restore_states(&config, &changelog))?;
        wismo.push(t);
        ensure!(
            states.len() as u64 == written.orders,
            "restore came back short"
        );
        drop(states);

        let (read, t) = timed(|| raw_read(&config, &topic, FAST_FETCH, |_, _| {}))?;
        ensure!(read.records == written.orders, "fast raw read {read:?}");
        fast.push(t);

        let (states, t) = timed(|| decode_in_memory(&records))?;
        decode.push(t);
        ensure!(
            states.len() as u64 == written.orders,
            "decode came back short"
        );
        drop(states);

        for (held, samples) in [
            (Held::AsBytes, &mut into_store),
            (Held::Decoded, &mut decoded_store),
        ] {
            let (store, t) = timed(|| restore_store(&config, &changelog, held))?;
            samples.push(t);
            ensure!(
                store.len() as u64 == written.orders,
                "store came back short"
            );
            drop(store);
        }

        eprintln!(
            "round {round}: raw {}, wismo {}, raw with fetch.wait.max.ms=10 {}, decode in memory {}, \
             into the engine's store {} (kept decoded: {})",
            raw.last(),
            wismo.last(),
            fast.last(),
            decode.last(),
            into_store.last(),
            decoded_store.last()
        );
    }
    drop(records);

    let n = written.orders as f64;
    let (raw_s, wismo_s) = (raw.wall(), wismo.wall());
    println!();
    println!("| orders | bytes | bytes/order | raw s | wismo s | wismo orders/s | wismo/raw | heap/order | RSS/order |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {:.0} | {raw_s:.3} | {wismo_s:.3} | {:.0} | {:.2} | {:.0} B | {:.0} B |",
        written.orders,
        written.bytes,
        written.bytes as f64 / n,
        n / wismo_s,
        wismo_s / raw_s,
        heap_per_order,
        rss_per_order,
    );
    println!();
    println!("| orders | raw CPU s | wismo CPU s | wismo/raw CPU | decode in memory s | decode µs/order | raw, fetch.wait.max.ms=10 s |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:.3} | {:.3} | {:.2} | {:.3} | {:.1} | {:.3} |",
        written.orders,
        raw.cpu(),
        wismo.cpu(),
        wismo.cpu() / raw.cpu(),
        decode.wall(),
        decode.wall() / n * 1e6,
        fast.wall(),
    );
    println!();
    println!("| orders | into the engine's store s | orders/s | wismo/raw | heap/order | RSS/order | held decoded | kept decoded instead: s | orders/s |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:.3} | {:.0} | {:.2} | {:.0} B | {:.0} B | {decoded_in_store} | {:.3} | {:.0} |",
        written.orders,
        into_store.wall(),
        n / into_store.wall(),
        into_store.wall() / raw_s,
        store_heap_per_order,
        store_rss_per_order,
        decoded_store.wall(),
        n / decoded_store.wall(),
    );
    println!();
    println!(
        "arming timers after the restore (tracker::next_deadline per state, once): {arm_s:.3}s, \
         {:.1} µs/order, {armed} of {} orders with a deadline",
        arm_s / n * 1e6,
        written.orders
    );
    println!();
    println!(
        "medians of {} rounds (wall s): raw {:.3?}, wismo {:.3?}, fast raw {:.3?}, decode {:.3?}; \
         restore time per 100k orders ≈ {:.2}s",
        args.rounds,
        raw.walls,
        wismo.walls,
        fast.walls,
        decode.walls,
        wismo_s / n * 100_000.0
    );
    drop(broker);
    Ok(())
}

#[derive(Debug, Default)]
struct Written {
    orders: u64,
    bytes: u64,
    shipments: u64,
    seen_scans: u64,
    milestones: u64,
    with_incident: u64,
}

/// Generates the orders batch by batch and produces each final state, keyed by
/// order id, waiting for every ack.
fn write_changelog(
    bootstrap: &str,
    topic: &str,
    orders: u64,
    batch: u64,
) -> anyhow::Result<Written> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "100000")
        .set("acks", "all")
        .set("message.timeout.ms", "120000")
        .create()
        .context("creating producer")?;
    let mut written = Written::default();
    let mut in_flight: Vec<DeliveryFuture> = Vec::new();
    generate(orders, batch, |state| {
        written.orders += 1;
        written.shipments += state.shipments.len() as u64;
        written.seen_scans += state
            .shipments
            .values()
            .map(|s| s.seen_scan_ids.len() as u64)
            .sum::<u64>();
        written.milestones += state
            .shipments
            .values()
            .map(|s| s.milestones_sent.len() as u64)
            .sum::<u64>()
            + u64::from(state.confirmation.sent);
        written.with_incident += u64::from(!state.incidents.is_empty());
        let payload = entry_of(&state)?;
        written.bytes += payload.len() as u64;
        let record = FutureRecord::to(topic)
            .key(state.order_id.as_str())
            .payload(payload.as_slice())
            .partition(0);
        produce::send(&producer, record, &mut in_flight).context("producing a state")?;
        if in_flight.len() >= 20_000 {
            await_acks(&mut in_flight)?;
        }
        Ok(())
    })?;
    await_acks(&mut in_flight)?;
    ensure!(
        written.orders == orders,
        "generated {} of {orders} orders",
        written.orders
    );
    Ok(written)
}

/// Generates `orders` final states in order, `batch` orders per in-memory pipeline.
fn generate(
    orders: u64,
    batch: u64,
    mut each: impl FnMut(OrderState) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let configs = gen::configs();
    let mut first = 0;
    while first < orders {
        let count = batch.min(orders - first);
        for state in gen::order_states(&configs, first, count)? {
            each(state)?;
        }
        first += count;
    }
    Ok(())
}

/// A state's changelog entry as the order-tracker writes it (an empty position).
fn entry_of(state: &OrderState) -> anyhow::Result<Vec<u8>> {
    Ok(changelog::entry(
        &changelog::Position::default(),
        &changelog::encode_state(ORDER_STATE, state)?,
    ))
}

/// How [`restore_store`] holds the states.
#[derive(Clone, Copy)]
enum Held {
    /// As the order-tracker does: its bytes, until a decision takes it.
    AsBytes,
    /// Decoded, as before the engine kept states as bytes.
    Decoded,
}

/// A restore as the order-tracker does it: every entry decoded, its timer
/// armed, and the state held in the engine's store.
fn restore_store(
    config: &RuntimeConfig,
    changelog: &wismo_engine::record::TopicPartition,
    held: Held,
) -> anyhow::Result<StateStore<OrderState>> {
    let tracker_config = TrackerConfig::default();
    let limit = wismo_engine::EngineConfig::default().max_decoded_states;
    let mut store = match held {
        Held::AsBytes => StateStore::bounded(limit, |bytes| {
            changelog::decode_state(ORDER_STATE, bytes).map_err(|e| e.to_string())
        }),
        Held::Decoded => StateStore::default(),
    };
    for e in wismo_runtime::read_changelog(config, changelog)? {
        let entry = changelog::decode_entry::<OrderState>(
            ORDER_STATE,
            &e.value,
            &changelog.topic,
            changelog.partition,
            e.offset,
        )?;
        let deadline = tracker::next_deadline(&tracker_config, &entry.state);
        store.restore(e.key, entry.state, deadline, entry.state_bytes, entry.avro);
    }
    Ok(store)
}

/// The read and decode of a restore: the changelog partition read to its end,
/// every state decoded into a map (no timers, no store; the "wismo" column).
fn restore_states(
    config: &RuntimeConfig,
    changelog: &wismo_engine::record::TopicPartition,
) -> anyhow::Result<std::collections::HashMap<String, OrderState>> {
    wismo_runtime::read_changelog(config, changelog)?
        .into_iter()
        .map(|e| {
            let state = changelog::decode::<OrderState>(
                ORDER_STATE,
                &e.value,
                &changelog.topic,
                changelog.partition,
                e.offset,
            )?;
            Ok((e.key, state))
        })
        .collect()
}

#[derive(Debug)]
struct RawRead {
    records: u64,
    bytes: u64,
    checksum: u64,
}

/// The one client setting changed for the "fast" raw read.
const FAST_FETCH: &[(&str, &str)] = &[("fetch.wait.max.ms", "10")];

/// Reads partition 0 from the beginning to the high watermark with the restore's
/// client settings (plus `extra`), touching every key and payload byte and handing
/// each record to `sink`.
fn raw_read(
    config: &RuntimeConfig,
    topic: &str,
    extra: &[(&str, &str)],
    mut sink: impl FnMut(&[u8], &[u8]),
) -> anyhow::Result<RawRead> {
    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &config.bootstrap_servers)
        .set("group.id", format!("{}-raw", config.group_id))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false");
    for (key, value) in extra {
        client.set(*key, *value);
    }
    let consumer: BaseConsumer = client.create().context("creating raw consumer")?;
    let (low, high) = consumer.fetch_watermarks(topic, 0, Duration::from_secs(10))?;
    let mut read = RawRead {
        records: 0,
        bytes: 0,
        checksum: 0,
    };
    if high <= low {
        return Ok(read);
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)?;
    consumer.assign(&tpl)?;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        ensure!(Instant::now() < deadline, "raw read did not reach {high}");
        let Some(result) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let msg = result.context("raw read")?;
        let (key, payload) = (
            msg.key().unwrap_or_default(),
            msg.payload().unwrap_or_default(),
        );
        for part in [key, payload] {
            read.bytes += part.len() as u64;
            read.checksum = part
                .iter()
                .fold(read.checksum, |a, b| a.wrapping_add(u64::from(*b)));
        }
        sink(key, payload);
        read.records += 1;
        if msg.offset() + 1 >= high {
            return Ok(read);
        }
    }
}

/// What the restore does per record, without Kafka: key to `String`, the entry
/// to `OrderState`, insert.
fn decode_in_memory(records: &[(Vec<u8>, Vec<u8>)]) -> anyhow::Result<HashMap<String, OrderState>> {
    let mut states = HashMap::new();
    for (key, payload) in records {
        let state: OrderState = changelog::decode(ORDER_STATE, payload, "changelog", 0, 0)?;
        states.insert(String::from_utf8_lossy(key).into_owned(), state);
    }
    Ok(states)
}

/// Hands freed memory back to the OS, so RSS differences show what is held.
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
