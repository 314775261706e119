//! Publishing an event file as a 3PL and a shop would: Avro with Confluent framing,
//! keyed by tracking number / order id, Java-compatible partitioning.

use crate::kafka::{Client, Kafka};
use anyhow::Context;
use chrono::Duration;
use rdkafka::producer::{FutureProducer, FutureRecord};
use replay::event_file;
use std::collections::BTreeMap;
use wismo_config::Topics;
use wismo_core::model::Timestamp;

#[derive(clap::Args)]
pub struct Args {
    /// The event file.
    file: String,
    /// Real time to wait between waves (lines with the same timestamp), so each
    /// wave is decided before the next arrives, as its timestamps say.
    #[arg(long, default_value = "5s")]
    wave_gap: humantime_like::Gap,
    /// Shift every event time so the last wave is now (keeps the stale window happy).
    #[arg(long)]
    shift_to_now: bool,
}

pub async fn run(kafka: &Kafka, topics: &Topics, args: Args) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file))?;
    let lines = event_file::parse(&text)?;
    let last = lines
        .iter()
        .map(|(_, l)| l.timestamp)
        .max()
        .unwrap_or_default();
    let shift = if args.shift_to_now {
        chrono::Utc::now() - last
    } else {
        Duration::zero()
    };
    let producer: FutureProducer = Kafka::create(
        kafka
            .config(Client::Producer)
            .set("partitioner", "murmur2_random")
            .set("acks", "all"),
    )
    .context("creating producer")?;

    let mut waves: BTreeMap<Timestamp, Vec<_>> = BTreeMap::new();
    for (_, line) in lines {
        waves.entry(line.timestamp).or_default().push(line);
    }
    let wave_count = waves.len();
    for (i, (_, wave)) in waves.into_iter().enumerate() {
        for line in &wave {
            // Event files name topics by their default names.
            let topic = topics.resolve(&line.topic);
            let payload = line.payload(topics, shift)?;
            let key = line.key.clone().unwrap_or_default();
            // The broker timestamp is the line's: `replay` over the same file
            // decides the same commands.
            let at = (line.timestamp + shift).timestamp_millis();
            let record = FutureRecord::to(topic)
                .key(&key)
                .payload(&payload)
                .timestamp(at);
            producer
                .send(record, std::time::Duration::from_secs(30))
                .await
                .map_err(|(e, _)| e)
                .with_context(|| format!("publishing to {topic}"))?;
        }
        eprintln!(
            "published wave {}/{wave_count} ({} records)",
            i + 1,
            wave.len()
        );
        if i + 1 < wave_count {
            tokio::time::sleep(args.wave_gap.0).await;
        }
    }
    // For `replay --shift-ms` over the same file, and a cut for comparing.
    println!(
        "shift_ms={} last_ms={}",
        shift.num_milliseconds(),
        (last + shift).timestamp_millis()
    );
    Ok(())
}

/// A `5s`-style duration argument.
mod humantime_like {
    #[derive(Clone, Copy, Debug)]
    pub struct Gap(pub std::time::Duration);

    impl std::str::FromStr for Gap {
        type Err = String;
        fn from_str(s: &str) -> Result<Self, String> {
            wismo_config::Env::from_pairs([("gap", s)])
                .duration("gap", chrono::Duration::zero())
                .ok()
                .and_then(|d| d.to_std().ok())
                .map(Gap)
                .ok_or_else(|| format!("`{s}` is not a duration like 500ms or 5s"))
        }
    }
}
