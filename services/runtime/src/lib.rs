//! The Kafka side of every wismo service: the engine (`wismo-engine`) on an
//! rdkafka transport, `/metrics`, `/healthz`, `/readyz`, the state lookup, and a
//! clean shutdown on SIGTERM.

mod access;
pub mod config;
mod http;
mod kafka;
mod lookup;
pub mod metrics;
mod run;
mod shutdown;
mod spill;
pub mod telemetry;

pub use access::LookupAccess;
pub use config::RuntimeConfig;
pub use kafka::{read_changelog, KafkaTransport};
pub use run::run;
pub use wismo_engine::{DeliveryMode, EngineConfig};
