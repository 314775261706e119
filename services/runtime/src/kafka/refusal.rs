//! Telling a cluster that refuses this service from one that is merely away.
//! librdkafka retries a refused login forever; a wrong password, mechanism or CA
//! never heals that way, so the service stops with a message naming the settings
//! to check (and a restart picks up a rotated Secret).

use super::delivery::DeliveryTracker;
use anyhow::bail;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{Producer, ThreadedProducer};
use std::time::{Duration, Instant};

/// How long start-up waits for the cluster to answer before it gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The fatal reading of a librdkafka error event, if it is one: the credentials or
/// the TLS trust were refused. Messages carry librdkafka's text, never a secret.
pub(crate) fn refusal(code: RDKafkaErrorCode, reason: &str) -> Option<String> {
    match code {
        // A mechanism handshake cut short by the network is reported as an
        // authentication error too ("handshake failed: Local: ..."): not a refusal.
        RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed
            if !reason.contains("handshake failed: Local:") =>
        {
            Some(format!(
                "Kafka authentication failed: the cluster refused this service's SASL login \
                 ({reason}); check WISMO_KAFKA_SASL_USERNAME, WISMO_KAFKA_SASL_PASSWORD and \
                 WISMO_KAFKA_SASL_MECHANISM"
            ))
        }
        RDKafkaErrorCode::SSL if reason.contains("certificate verify failed") => Some(format!(
            "Kafka TLS failed: the broker's certificate is not trusted ({reason}); check \
             WISMO_KAFKA_SSL_CA_LOCATION"
        )),
        _ => None,
    }
}

/// Waits until the cluster answers a metadata request. Fails at once when it
/// refuses this service's credentials, and after [`CONNECT_TIMEOUT`] when it
/// cannot be reached.
pub(crate) fn check(
    producer: &ThreadedProducer<DeliveryTracker>,
    bootstrap: &str,
) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let asked = Instant::now();
        let result = producer
            .client()
            .fetch_metadata(None, Duration::from_millis(500));
        // The producer's poll thread records refusals as their events arrive.
        if let Some(refused) = producer.context().refusal() {
            bail!(refused);
        }
        match result {
            Ok(_) => return Ok(()),
            Err(e) if started.elapsed() >= CONNECT_TIMEOUT => {
                bail!("cannot reach Kafka at {bootstrap} within {CONNECT_TIMEOUT:?}: {e}")
            }
            Err(_) => {
                // Back off when librdkafka answers at once (no broker known yet).
                let spent = asked.elapsed();
                if spent < Duration::from_millis(100) {
                    std::thread::sleep(Duration::from_millis(100) - spent);
                }
            }
        }
    }
}

/// A client-creation error without the value of the setting at fault:
/// `KafkaError::ClientConfig` prints it, and it may be a password.
pub(crate) fn redacted(e: KafkaError) -> anyhow::Error {
    match e {
        KafkaError::ClientConfig(_, desc, key, value) => {
            let desc = if value.is_empty() {
                desc
            } else {
                desc.replace(&value, "[redacted]")
            };
            anyhow::anyhow!("Kafka client setting {key}: {desc}")
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::types::RDKafkaConfRes;

    #[test]
    fn a_refused_login_is_fatal_a_cut_handshake_is_not() {
        let m = refusal(
            RDKafkaErrorCode::Authentication,
            "sasl_ssl://127.0.0.1:9093/bootstrap: SASL authentication error: Authentication \
             failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512",
        )
        .expect("fatal");
        assert!(m.starts_with("Kafka authentication failed"), "{m}");
        assert!(m.contains("WISMO_KAFKA_SASL_PASSWORD"), "{m}");
        assert!(refusal(
            RDKafkaErrorCode::Authentication,
            "SASL SCRAM-SHA-512 mechanism handshake failed: Local: Broker transport failure"
        )
        .is_none());
        assert!(refusal(
            RDKafkaErrorCode::BrokerTransportFailure,
            "Connection refused"
        )
        .is_none());
        assert!(refusal(
            RDKafkaErrorCode::SSL,
            "SSL handshake failed: certificate verify failed"
        )
        .is_some_and(|m| m.contains("WISMO_KAFKA_SSL_CA_LOCATION")));
    }

    #[test]
    fn a_bad_setting_is_named_without_its_value() {
        let e = KafkaError::ClientConfig(
            RDKafkaConfRes::RD_KAFKA_CONF_UNKNOWN,
            "No such configuration property: \"sasl.pasword\"".into(),
            "sasl.pasword".into(),
            "hunter2-secret".into(),
        );
        assert!(
            e.to_string().contains("hunter2"),
            "rdkafka prints the value"
        );
        let shown = format!("{:#}", redacted(e));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("sasl.pasword"), "{shown}");
        let e = KafkaError::ClientConfig(
            RDKafkaConfRes::RD_KAFKA_CONF_INVALID,
            "Invalid value \"hunter2\" for configuration property \"x\"".into(),
            "x".into(),
            "hunter2".into(),
        );
        assert!(!format!("{:#}", redacted(e)).contains("hunter2"));
    }
}
