//! Reading topics from the beginning to their end (or on, with `--expect` and
//! `--idle-secs`) and printing each record as a JSON line, decoded by its schema.

use crate::kafka::{Client, Kafka};
use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Headers;
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use wismo_config::Topics;

#[derive(clap::Args)]
pub struct Args {
    /// Topics to read: a default name (`orders`, `dead-letter`, ...) stands for the
    /// configured topic.
    #[arg(required = true)]
    topics: Vec<String>,
    /// Wait until this many records were read (then read on to the end).
    #[arg(long)]
    expect: Option<usize>,
    /// Once at the end, go on following for this many seconds after the last
    /// record (0: stop at the end).
    #[arg(long, default_value_t = 0)]
    idle_secs: u64,
    /// Read only committed transactional records (what a `read_committed`
    /// consumer of a transactional pipeline sees).
    #[arg(long)]
    read_committed: bool,
    /// Also print the watermark records of internal topics.
    #[arg(long)]
    watermarks: bool,
    /// Give up after this many seconds in all.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
}

/// One topic's reader: it knows which of its partitions are at their end.
struct TopicReader {
    consumer: BaseConsumer,
    partitions: usize,
    at_end: BTreeSet<i32>,
}

pub async fn run(kafka: &Kafka, topics: &Topics, args: Args) -> anyhow::Result<()> {
    let mut readers = Vec::new();
    for topic in &args.topics {
        let topic = topics.resolve(topic);
        // One consumer per topic: an end-of-partition event names only the
        // partition, so each reader's are its own topic's.
        let mut config = kafka.config(Client::Consumer);
        config
            .set("group.id", "wismoctl-read")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set(
                "isolation.level",
                if args.read_committed {
                    "read_committed"
                } else {
                    "read_uncommitted"
                },
            );
        let consumer: BaseConsumer = Kafka::create(&config).context("creating consumer")?;
        let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
        let mut tpl = TopicPartitionList::new();
        for t in md.topics() {
            for p in t.partitions() {
                tpl.add_partition_offset(t.name(), p.id(), Offset::Beginning)?;
            }
        }
        anyhow::ensure!(tpl.count() > 0, "topic {topic} does not exist");
        consumer.assign(&tpl)?;
        readers.push(TopicReader {
            consumer,
            partitions: tpl.count(),
            at_end: BTreeSet::new(),
        });
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.timeout_secs);
    let mut count = 0usize;
    let mut last_record = Instant::now();
    loop {
        let at_end = readers.iter().all(|r| r.at_end.len() >= r.partitions);
        let enough = args.expect.is_none_or(|n| count >= n);
        let quiet = last_record.elapsed() >= Duration::from_secs(args.idle_secs);
        if (at_end && enough && quiet) || Instant::now() > deadline {
            break;
        }
        let mut polled = false;
        for r in &mut readers {
            let Some(result) = r.consumer.poll(Duration::from_millis(20)) else {
                continue;
            };
            polled = true;
            let msg = match result {
                Err(KafkaError::PartitionEOF(p)) => {
                    r.at_end.insert(p);
                    continue;
                }
                other => other.context("reading")?,
            };
            r.at_end.remove(&msg.partition());
            // Watermarks on internal topics carry time, not records.
            let watermark = msg.headers().and_then(|h| {
                h.iter()
                    .find(|h| h.key == wismo_engine::record::headers::WATERMARK)
                    .and_then(|h| h.value)
                    .and_then(wismo_engine::record::parse_watermark)
            });
            if watermark.is_some() && !args.watermarks {
                continue;
            }
            count += 1;
            last_record = Instant::now();
            let value = msg
                .payload()
                .map(|p| replay::render::value(topics, msg.topic(), p))
                .unwrap_or(Value::Null);
            let key = msg.key().map(|k| String::from_utf8_lossy(k).into_owned());
            let mut line = json!({ "topic": msg.topic(), "key": key, "partition": msg.partition(), "offset": msg.offset(), "timestamp": msg.timestamp().to_millis(), "value": value });
            if let Some(w) = watermark {
                line["watermark"] = json!(w);
            }
            println!("{line}");
        }
        if !polled {
            tokio::task::yield_now().await;
        }
    }
    eprintln!("read {count} records");
    Ok(())
}
