//! Kafka client settings: the bootstrap servers plus every `WISMO_KAFKA_<PROPERTY>`
//! the services read, so wismoctl reaches a secured cluster (SASL, TLS) with the
//! same environment as the services.

use rdkafka::config::FromClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::ClientConfig;
use wismo_config::Env;

/// Which client a setting is for: `WISMO_KAFKA_CONSUMER_X` / `_PRODUCER_X` apply
/// to one kind only, `WISMO_KAFKA_X` to all.
#[derive(Clone, Copy)]
pub enum Client {
    Admin,
    Consumer,
    Producer,
}

pub struct Kafka {
    bootstrap: String,
    /// librdkafka property → value, from `WISMO_KAFKA_<PROPERTY>` (dots as `_`).
    overrides: Vec<(String, String)>,
}

impl Kafka {
    pub fn from_env(bootstrap: &str, env: &Env) -> Self {
        Kafka {
            bootstrap: bootstrap.to_string(),
            overrides: env
                .prefixed("WISMO_KAFKA_")
                .into_iter()
                .map(|(p, v)| (p.to_ascii_lowercase().replace('_', "."), v))
                .collect(),
        }
    }

    pub fn config(&self, client: Client) -> ClientConfig {
        let own = match client {
            Client::Admin => None,
            Client::Consumer => Some("consumer."),
            Client::Producer => Some("producer."),
        };
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap);
        for (k, v) in &self.overrides {
            if let Some(rest) = own.and_then(|own| k.strip_prefix(own)) {
                c.set(rest, v);
            } else if !k.starts_with("consumer.") && !k.starts_with("producer.") {
                c.set(k, v);
            }
        }
        c
    }

    /// Creates a client from `config`; an error names a bad setting without its
    /// value (rdkafka's own message prints it, and it may be a password).
    pub fn create<T: FromClientConfig>(config: &ClientConfig) -> anyhow::Result<T> {
        config.create().map_err(|e| match e {
            KafkaError::ClientConfig(_, desc, key, value) if !value.is_empty() => {
                anyhow::anyhow!(
                    "Kafka client setting {key}: {}",
                    desc.replace(&value, "[redacted]")
                )
            }
            other => other.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wismo_kafka_keys_become_properties_of_their_client() {
        let env = Env::from_pairs([
            ("WISMO_KAFKA_SECURITY_PROTOCOL", "sasl_ssl"),
            ("WISMO_KAFKA_SASL_PASSWORD", "hunter2-secret"),
            ("WISMO_KAFKA_CONSUMER_ISOLATION_LEVEL", "read_committed"),
            ("WISMO_KAFKA_PRODUCER_LINGER_MS", "7"),
        ]);
        let k = Kafka::from_env("b:9093", &env);
        let consumer = k.config(Client::Consumer);
        assert_eq!(consumer.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(consumer.get("sasl.password"), Some("hunter2-secret"));
        assert_eq!(consumer.get("isolation.level"), Some("read_committed"));
        assert_eq!(consumer.get("linger.ms"), None);
        assert_eq!(k.config(Client::Producer).get("linger.ms"), Some("7"));
        let admin = k.config(Client::Admin);
        assert_eq!(admin.get("bootstrap.servers"), Some("b:9093"));
        assert_eq!(admin.get("isolation.level"), None);
    }

    #[test]
    fn a_bad_setting_is_named_without_its_value() {
        let mut c = ClientConfig::new();
        c.set("sasl.pasword", "hunter2-secret");
        let e = Kafka::create::<rdkafka::consumer::BaseConsumer>(&c)
            .err()
            .expect("unknown property");
        let shown = format!("{e:#}");
        assert!(
            shown.contains("sasl.pasword") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
