//! Settings the shell itself needs; each service adds its own on top.

use std::net::SocketAddr;
use std::time::Duration;
use wismo_config::{ConfigError, Env};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryMode {
    /// Produce, await acks, then commit offsets. Tested; the default.
    AtLeastOnce,
    /// Kafka transactions around outputs, changelog and offsets. Needs a broker with
    /// transaction support.
    Transactional,
}

#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// The service's name: its consumer group and the prefix of the topics it owns.
    pub service: String,
    pub bootstrap_servers: String,
    pub group_id: String,
    pub http_addr: SocketAddr,
    pub dead_letter_topic: String,
    pub changelog_topic: String,
    pub delivery: DeliveryMode,
    /// Most records decided per batch (one produce/commit round per batch).
    pub batch_max: usize,
    /// How long to wait for more records before a batch is closed.
    pub batch_linger: Duration,
    /// Longest sleep between timer checks when no record arrives.
    pub timer_tick: Duration,
    /// Once caught up, stream time trails the wall clock by this much, so a record
    /// still in flight between services is decided before a timer due after it.
    pub stream_grace: Duration,
    /// Extra librdkafka properties, from `WISMO_KAFKA_<PROPERTY>` (dots as `_`).
    pub kafka_overrides: Vec<(String, String)>,
}

impl RuntimeConfig {
    /// `changelog_topic` is the compacted topic this service owns for its state.
    pub fn from_env(service: &str, changelog_topic: &str, env: &Env) -> Result<Self, ConfigError> {
        let delivery = match env.string("WISMO_DELIVERY_MODE", "at-least-once").as_str() {
            "at-least-once" => DeliveryMode::AtLeastOnce,
            "transactional" => DeliveryMode::Transactional,
            other => {
                return Err(ConfigError::invalid(
                    "WISMO_DELIVERY_MODE",
                    format!("`{other}` is not one of at-least-once, transactional"),
                ))
            }
        };
        let overrides = env
            .prefixed("WISMO_KAFKA_")
            .into_iter()
            .map(|(p, v)| (p.to_ascii_lowercase().replace('_', "."), v))
            .collect();
        Ok(RuntimeConfig {
            service: service.to_string(),
            bootstrap_servers: env.required("WISMO_BOOTSTRAP_SERVERS")?,
            group_id: env.string(
                "WISMO_GROUP_ID",
                &format!("{}wismo-{service}", wismo_config::group_prefix(env)),
            ),
            http_addr: env.parse("WISMO_HTTP_ADDR", SocketAddr::from(([0, 0, 0, 0], 8080)))?,
            dead_letter_topic: wismo_config::Topics::from_env(env).dead_letter,
            changelog_topic: changelog_topic.to_string(),
            delivery,
            batch_max: env.positive("WISMO_BATCH_MAX", 500, 100_000)? as usize,
            batch_linger: Duration::from_millis(env.positive(
                "WISMO_BATCH_LINGER_MS",
                5,
                10_000,
            )?),
            timer_tick: Duration::from_millis(env.positive("WISMO_TIMER_TICK_MS", 100, 60_000)?),
            stream_grace: Duration::from_millis(env.parse("WISMO_STREAM_GRACE_MS", 250)?),
            kafka_overrides: overrides,
        })
    }
}
