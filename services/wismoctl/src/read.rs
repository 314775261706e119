//! Reading topics from the beginning and printing each record as a JSON line,
//! decoded with its schema.

use anyhow::Context;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wismo_codec::{subjects, Codec, DeadLetter};
use wismo_config::Topics;
use wismo_core::model::{
    CarrierScan, DelayApologyCommand, NotificationCommand, OrderEvent, ReviewRequestCommand,
    RoutedScan, ShipmentRegistered,
};

#[derive(clap::Args)]
pub struct Args {
    /// Topics to read: a default name (`orders`, `dead-letter`, ...) stands for the
    /// configured topic.
    #[arg(required = true)]
    topics: Vec<String>,
    /// Stop once no record has arrived for this many seconds.
    #[arg(long, default_value_t = 5)]
    idle_secs: u64,
    /// Stop once this many records were read (and then the topic is idle for a second).
    #[arg(long)]
    expect: Option<usize>,
    /// Read only committed transactional records (what a `read_committed`
    /// consumer of a transactional pipeline sees).
    #[arg(long)]
    read_committed: bool,
    /// Give up after this many seconds in all.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
}

pub async fn run(bootstrap: &str, topics: &Topics, args: Args) -> anyhow::Result<()> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "wismoctl-read")
        .set("enable.auto.commit", "false")
        .set(
            "isolation.level",
            if args.read_committed {
                "read_committed"
            } else {
                "read_uncommitted"
            },
        )
        .create()
        .context("creating consumer")?;
    let mut tpl = TopicPartitionList::new();
    for topic in &args.topics {
        let topic = topics.resolve(topic);
        let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
        for t in md.topics() {
            for p in t.partitions() {
                tpl.add_partition_offset(t.name(), p.id(), Offset::Beginning)?;
            }
        }
    }
    consumer.assign(&tpl)?;
    let started = Instant::now();
    let mut count = 0usize;
    loop {
        let idle = match args.expect {
            Some(n) if count >= n => Duration::from_secs(1),
            _ => Duration::from_secs(args.idle_secs),
        };
        if started.elapsed() > Duration::from_secs(args.timeout_secs) {
            break;
        }
        match tokio::time::timeout(idle, consumer.recv()).await {
            Err(_) => break,
            Ok(Err(e)) => return Err(e).context("reading"),
            Ok(Ok(msg)) => {
                count += 1;
                let value = msg
                    .payload()
                    .map(|p| decode(topics, msg.topic(), p))
                    .unwrap_or(Value::Null);
                let key = msg.key().map(|k| String::from_utf8_lossy(k).into_owned());
                println!(
                    "{}",
                    json!({ "topic": msg.topic(), "key": key, "partition": msg.partition(), "offset": msg.offset(), "timestamp": msg.timestamp().to_millis(), "value": value })
                );
            }
        }
    }
    eprintln!("read {count} records");
    Ok(())
}

fn decode(topics: &Topics, topic: &str, payload: &[u8]) -> Value {
    let codec = Codec::default();
    let result = if topic == topics.notifications {
        as_json::<NotificationCommand>(&codec, subjects::NOTIFICATION_COMMAND, payload)
    } else if topic == topics.review_requests {
        as_json::<ReviewRequestCommand>(&codec, subjects::REVIEW_REQUEST_COMMAND, payload)
    } else if topic == topics.delay_apologies {
        as_json::<DelayApologyCommand>(&codec, subjects::DELAY_APOLOGY_COMMAND, payload)
    } else if topic == topics.orders {
        as_json::<OrderEvent>(&codec, subjects::ORDER_EVENT, payload)
    } else if topic == topics.carrier_scans {
        as_json::<CarrierScan>(&codec, subjects::CARRIER_SCAN, payload)
    } else if topic == topics.routed_scans {
        as_json::<RoutedScan>(&codec, subjects::ROUTED_SCAN, payload)
    } else if topic == topics.shipment_registrations {
        as_json::<ShipmentRegistered>(&codec, subjects::SHIPMENT_REGISTERED, payload)
    } else if topic == topics.dead_letter {
        codec.decode::<DeadLetter>(subjects::DEAD_LETTER, payload).map(|d| {
            json!({
                "reason": d.reason,
                "error_kind": d.error_kind,
                "source_topic": d.source_topic,
                "source_partition": d.source_partition,
                "source_offset": d.source_offset,
                "original_key": d.original_key.map(|k| String::from_utf8_lossy(&k).into_owned()),
                "original_value": d.original_value.map(|v| String::from_utf8_lossy(&v).into_owned()),
                "service": d.service,
                "failed_at": d.failed_at.timestamp_millis(),
            })
        })
    } else if topic == topics.tracker_changelog || topic == topics.matcher_changelog {
        // State is stored as JSON: an order's (or tracking number's) current state.
        return serde_json::from_slice(payload)
            .unwrap_or_else(|e| json!({ "decode_error": e.to_string() }));
    } else {
        return json!({ "undecoded_bytes": payload.len() });
    };
    result.unwrap_or_else(|e| json!({ "decode_error": e.to_string() }))
}

/// A record of `subject` in its schema's JSON shape.
fn as_json<T: serde::de::DeserializeOwned + serde::Serialize>(
    codec: &Codec,
    subject: &str,
    payload: &[u8],
) -> Result<Value, wismo_codec::CodecError> {
    codec
        .decode::<T>(subject, payload)
        .and_then(|v| codec.encode_json(subject, &v))
}
