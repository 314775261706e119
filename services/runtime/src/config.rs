//! Settings of the Kafka side and of the engine, from `WISMO_*` keys; each service
//! adds its own on top.

use crate::access::LookupAccess;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;
use wismo_config::{ConfigError, Env};
use wismo_engine::{DeliveryMode, EngineConfig};

#[derive(Clone)]
pub struct RuntimeConfig {
    /// The service's name: its consumer group and the prefix of the topics it owns.
    pub service: String,
    pub bootstrap_servers: String,
    pub group_id: String,
    /// Names this instance across restarts: its transactional id, so a restarted
    /// instance fences its own previous incarnation at once.
    pub instance_id: String,
    pub http_addr: SocketAddr,
    pub engine: EngineConfig,
    /// Extra librdkafka properties, from `WISMO_KAFKA_<PROPERTY>` (dots as `_`).
    pub kafka_overrides: Vec<(String, String)>,
    /// Who may use the state lookup (`WISMO_LOOKUP`).
    pub lookup: LookupAccess,
    /// Where the instance's spill directory is made (`WISMO_SPILL_DIR`).
    pub spill_root: std::path::PathBuf,
    /// Testing only (`WISMO_FAILPOINT_HANG_SEND_OFFSETS`): the first
    /// `send_offsets_to_transaction` never returns, as librdkafka's can.
    pub hang_send_offsets: bool,
}

/// librdkafka properties whose values are credentials.
pub(crate) fn is_secret_property(key: &str) -> bool {
    [
        "password",
        "secret",
        "jaas",
        "username",
        ".pem",
        "oauthbearer.config",
    ]
    .iter()
    .any(|s| key.contains(s))
}

/// Written by hand so that no credential reaches a log through `{:?}`.
impl fmt::Debug for RuntimeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kafka: Vec<(&str, &str)> = self
            .kafka_overrides
            .iter()
            .map(|(k, v)| {
                let v = if is_secret_property(k) {
                    "[redacted]"
                } else {
                    v
                };
                (k.as_str(), v)
            })
            .collect();
        f.debug_struct("RuntimeConfig")
            .field("service", &self.service)
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("group_id", &self.group_id)
            .field("instance_id", &self.instance_id)
            .field("http_addr", &self.http_addr)
            .field("engine", &self.engine)
            .field("kafka_overrides", &kafka)
            .field("lookup", &self.lookup)
            .field("spill_root", &self.spill_root)
            .finish()
    }
}

fn duration(env: &Env, key: &str, default: Duration) -> Result<Duration, ConfigError> {
    let d = env.duration(key, chrono::Duration::from_std(default).unwrap_or_default())?;
    d.to_std()
        .map_err(|_| ConfigError::invalid(key, "must not be negative"))
}

impl RuntimeConfig {
    pub fn from_env(service: &str, env: &Env) -> Result<Self, ConfigError> {
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
        let defaults = EngineConfig::default();
        let commit_interval = duration(env, "WISMO_COMMIT_INTERVAL", defaults.commit_interval)?;
        if commit_interval.is_zero() || commit_interval > Duration::from_secs(60) {
            return Err(ConfigError::invalid(
                "WISMO_COMMIT_INTERVAL",
                "must be between 1ms and 60s",
            ));
        }
        let upstream_timeout = duration(env, "WISMO_UPSTREAM_TIMEOUT", Duration::from_secs(60))?;
        let engine = EngineConfig {
            delivery,
            commit_interval,
            max_task_idle: duration(env, "WISMO_MAX_TASK_IDLE", defaults.max_task_idle)?,
            upstream_timeout: (!upstream_timeout.is_zero()).then_some(upstream_timeout),
            watermark_heartbeat: defaults.watermark_heartbeat,
            max_buffered_records: env.positive(
                "WISMO_MAX_BUFFERED_RECORDS",
                defaults.max_buffered_records as u64,
                10_000_000,
            )? as usize,
            max_merged_records: env.positive(
                "WISMO_MAX_MERGED_RECORDS",
                defaults.max_merged_records as u64,
                10_000_000,
            )? as usize,
            // Made at start-up, under `spill_root`.
            spill_dir: None,
            max_decoded_states: env
                .parse("WISMO_MAX_DECODED_STATES", defaults.max_decoded_states)?,
            purge_interval: {
                let d = duration(env, "WISMO_PURGE_INTERVAL", Duration::from_secs(30))?;
                (!d.is_zero()).then_some(d)
            },
            task_budget: defaults.task_budget,
            max_future_timestamp: duration(
                env,
                "WISMO_MAX_FUTURE_TIMESTAMP",
                defaults.max_future_timestamp,
            )?,
            max_output_bytes: env.positive(
                "WISMO_MAX_OUTPUT_BYTES",
                defaults.max_output_bytes as u64,
                100_000_000,
            )? as usize,
            dead_letter_max_original_bytes: env.positive(
                "WISMO_DEAD_LETTER_MAX_ORIGINAL_BYTES",
                defaults.dead_letter_max_original_bytes as u64,
                10_000_000,
            )? as usize,
            breaker: defaults.breaker,
            panic_on_key: env.optional("WISMO_FAILPOINT_PANIC_KEY"),
            crash_on_key: env.optional("WISMO_FAILPOINT_CRASH_KEY"),
            fatal_on_key: env.optional("WISMO_FAILPOINT_FATAL_KEY"),
        };
        if engine.dead_letter_max_original_bytes + 16_384 > engine.max_output_bytes {
            return Err(ConfigError::invalid(
                "WISMO_DEAD_LETTER_MAX_ORIGINAL_BYTES",
                "must leave room in WISMO_MAX_OUTPUT_BYTES for a dead letter's key and reason",
            ));
        }
        let overrides = env
            .prefixed("WISMO_KAFKA_")
            .into_iter()
            .map(|(p, v)| (p.to_ascii_lowercase().replace('_', "."), v))
            .collect();
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        Ok(RuntimeConfig {
            service: service.to_string(),
            bootstrap_servers: env.required("WISMO_BOOTSTRAP_SERVERS")?,
            group_id: env.string(
                "WISMO_GROUP_ID",
                &format!("{}wismo-{service}", wismo_config::group_prefix(env)),
            ),
            instance_id: env.string("WISMO_INSTANCE_ID", &host),
            http_addr: env.parse("WISMO_HTTP_ADDR", SocketAddr::from(([0, 0, 0, 0], 8080)))?,
            engine,
            kafka_overrides: overrides,
            lookup: LookupAccess::from_env(env)?,
            spill_root: env
                .optional("WISMO_SPILL_DIR")
                .map_or_else(|| std::env::temp_dir().join("wismo-spill"), Into::into),
            hang_send_offsets: env.parse("WISMO_FAILPOINT_HANG_SEND_OFFSETS", false)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_a_bad_value_naming_its_key() {
        let env = Env::from_pairs([("WISMO_BOOTSTRAP_SERVERS", "k:9092")]);
        let c = RuntimeConfig::from_env("order-tracker", &env).unwrap();
        assert_eq!(c.group_id, "wismo-order-tracker");
        assert_eq!(c.engine.commit_interval, Duration::from_millis(100));
        assert_eq!(c.engine.delivery, DeliveryMode::AtLeastOnce);
        let env = Env::from_pairs([
            ("WISMO_BOOTSTRAP_SERVERS", "k:9092"),
            ("WISMO_COMMIT_INTERVAL", "0s"),
        ]);
        let e = RuntimeConfig::from_env("x", &env).unwrap_err().to_string();
        assert!(e.contains("WISMO_COMMIT_INTERVAL"), "{e}");
        let env = Env::from_pairs([
            ("WISMO_BOOTSTRAP_SERVERS", "k:9092"),
            ("WISMO_TOPIC_PREFIX", "staging."),
            ("WISMO_DELIVERY_MODE", "transactional"),
            ("WISMO_KAFKA_SECURITY_PROTOCOL", "ssl"),
        ]);
        let c = RuntimeConfig::from_env("dispatcher", &env).unwrap();
        assert_eq!(c.group_id, "staging.wismo-dispatcher");
        assert_eq!(c.engine.delivery, DeliveryMode::Transactional);
        assert_eq!(
            c.kafka_overrides,
            vec![("security.protocol".to_string(), "ssl".to_string())]
        );
    }

    #[test]
    fn debug_output_holds_no_credential() {
        let env = Env::from_pairs([
            ("WISMO_BOOTSTRAP_SERVERS", "k:9093"),
            ("WISMO_KAFKA_SASL_USERNAME", "wismo-user"),
            ("WISMO_KAFKA_SASL_PASSWORD", "hunter2-very-secret"),
            ("WISMO_KAFKA_SSL_KEY_PASSWORD", "key-secret"),
            ("WISMO_KAFKA_SECURITY_PROTOCOL", "sasl_ssl"),
            ("WISMO_LOOKUP", "token"),
            ("WISMO_LOOKUP_TOKEN", "lookup-token-0123456789"),
        ]);
        let c = RuntimeConfig::from_env("order-tracker", &env).unwrap();
        let shown = format!("{c:?}");
        for secret in ["wismo-user", "hunter2", "key-secret", "lookup-token"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(
            shown.contains("sasl_ssl") && shown.contains("token"),
            "{shown}"
        );
    }
}
