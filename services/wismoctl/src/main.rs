//! `wismoctl`: create wismo's topics, publish an event file, read topics as JSON.
//! It reads the services' `WISMO_KAFKA_*` settings, so it works on a secured cluster.

mod kafka;
mod publish;
mod read;
mod topics;

use clap::{Parser, Subcommand};
use wismo_config::{Env, Topics};

#[derive(Parser)]
#[command(
    name = "wismoctl",
    about = "Operate a wismo pipeline's topics",
    after_help = "Kafka client settings come from WISMO_KAFKA_<PROPERTY> variables, as for the \
                  services (WISMO_KAFKA_SECURITY_PROTOCOL=sasl_ssl, WISMO_KAFKA_SASL_USERNAME, ...)."
)]
struct Cli {
    /// Kafka bootstrap servers.
    #[arg(
        long,
        env = "WISMO_BOOTSTRAP_SERVERS",
        default_value = "127.0.0.1:19092"
    )]
    bootstrap: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create every topic wismo uses (names from WISMO_TOPIC_* variables).
    CreateTopics {
        /// Partitions of `orders` and everything keyed by order or customer.
        #[arg(long, default_value_t = 3)]
        partitions: i32,
        /// Partitions of `carrier-scans` and the scan-matcher's own topics (keyed by
        /// tracking number); the same as --partitions unless given.
        #[arg(long)]
        scan_partitions: Option<i32>,
        #[arg(long, default_value_t = 1)]
        replication: i32,
    },
    /// Publish a JSON-lines event file (the `replay` format) in Avro framing.
    Publish(publish::Args),
    /// Print the records of topics as JSON lines, decoded by their schema.
    Read(read::Args),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let env = Env::from_process()?;
    let topics = Topics::from_env(&env);
    let kafka = kafka::Kafka::from_env(&cli.bootstrap, &env);
    match cli.command {
        Command::CreateTopics {
            partitions,
            scan_partitions,
            replication,
        } => {
            let counts = topics::Partitions {
                by_order: partitions,
                by_tracking_number: scan_partitions.unwrap_or(partitions),
            };
            topics::create_all(&kafka, &topics, counts, replication).await
        }
        Command::Publish(args) => publish::run(&kafka, &topics, args).await,
        Command::Read(args) => read::run(&kafka, &topics, args).await,
    }
}
