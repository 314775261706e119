//! Test harness: a real Apache Kafka broker, topics, and the service binaries.
//!
//! * [`Broker`] runs a single-node KRaft broker (`scripts/broker.sh run`, jars
//!   from `scripts/install-tools.sh`) on free loopback ports. [`Broker::shared`]
//!   is one per test binary; a test that stops or bounces the broker starts its
//!   own with [`Broker::start`]. Brokers die with the test binary.
//!   [`Broker::start_with`] adds server properties or a SASL_SSL listener;
//!   [`SecureBroker::shared`] is one with SCRAM-SHA-512 over TLS, per test binary.
//! * [`Stage`] is one test's wismo deployment on a broker: every topic and
//!   consumer group under a prefix of its own, so tests share a broker safely.
//! * [`create_topics`], [`produce`], [`consume_all`] and friends are blocking
//!   rdkafka helpers that talk to it over real TCP.
//! * [`ServiceProcess`] runs a service binary as a child process with its
//!   output captured to a temp file; [`service_binary`] finds
//!   `target/<profile>/<name>`.
//!
//! The e2e tests need the service binaries built first, in the same profile:
//! `cargo build --workspace --bins` (`scripts/test.sh` / `.ci/run` do that).
//!
//! ```no_run
//! use std::time::Duration;
//! use wismo_e2e::{consume_all, produce, Broker};
//!
//! # fn main() -> anyhow::Result<()> {
//! let broker = Broker::start()?;
//! broker.create_topics(&[("scans", 3)], false)?;
//! produce(&broker.bootstrap(), "scans", "parcel-1", b"{}")?;
//! let records = consume_all(&broker.bootstrap(), "scans", 1, Duration::from_secs(20))?;
//! assert_eq!(records.len(), 1);
//! # Ok(())
//! # }
//! ```

mod broker;
pub mod events;
pub mod hostile;
pub mod kafka;
mod process;
mod secure;
mod util;
pub mod wismo;

pub use broker::{Broker, BrokerOptions, BROKER_START_TIMEOUT};
pub use kafka::{
    alter_topic_config, client_config, consume_all, consume_group, consume_records, create_topics,
    fetch_metadata, partition_count, produce, produce_unkeyed, wait_for_topic, ConsumedRecord,
    KeyPayload, Producer, QUIET_PERIOD,
};
pub use process::{ServiceProcess, TERMINATE_GRACE};
pub use secure::{random_secret, SecureBroker, KAFKA_USER};
pub use util::{free_port, log_tail, port_accepts, service_binary, unique_name, wait_until};
pub use wismo::{http_get, http_get_with, metric, values, wismoctl, wismoctl_with, Service, Stage};
