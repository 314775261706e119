//! Topic names. Every one is configurable; the defaults follow the brief, and
//! internal topics are named after the service that owns (produces) them.

use crate::env::Env;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    pub orders: String,
    pub carrier_scans: String,
    pub notifications: String,
    pub delay_apologies: String,
    pub review_requests: String,
    /// order-tracker → dispatcher: every command, keyed by customer id.
    pub outbox: String,
    pub dead_letter: String,
    /// scan-matcher → scan-matcher: shipments of `orders` re-keyed by tracking number.
    pub shipment_registrations: String,
    /// scan-matcher → order-tracker, keyed by order id.
    pub routed_scans: String,
    pub matcher_changelog: String,
    pub tracker_changelog: String,
}

impl Topics {
    pub fn from_env(env: &Env) -> Self {
        Topics {
            orders: env.string("WISMO_TOPIC_ORDERS", "orders"),
            carrier_scans: env.string("WISMO_TOPIC_CARRIER_SCANS", "carrier-scans"),
            notifications: env.string("WISMO_TOPIC_NOTIFICATIONS", "notification-commands"),
            delay_apologies: env.string("WISMO_TOPIC_DELAY_APOLOGIES", "delay-apology-commands"),
            review_requests: env.string("WISMO_TOPIC_REVIEW_REQUESTS", "review-request-commands"),
            outbox: env.string("WISMO_TOPIC_OUTBOX", "wismo-order-tracker-outbox"),
            dead_letter: env.string("WISMO_TOPIC_DEAD_LETTER", "dead-letter"),
            shipment_registrations: env.string(
                "WISMO_TOPIC_SHIPMENT_REGISTRATIONS",
                "wismo-scan-matcher-shipments",
            ),
            routed_scans: env.string(
                "WISMO_TOPIC_ROUTED_SCANS",
                "wismo-scan-matcher-routed-scans",
            ),
            matcher_changelog: env.string(
                "WISMO_TOPIC_MATCHER_CHANGELOG",
                "wismo-scan-matcher-changelog",
            ),
            tracker_changelog: env.string(
                "WISMO_TOPIC_TRACKER_CHANGELOG",
                "wismo-order-tracker-changelog",
            ),
        }
    }
}
