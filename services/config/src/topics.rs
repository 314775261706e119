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
    pub dispatcher_changelog: String,
}

impl Topics {
    /// Names from `WISMO_TOPIC_<NAME>`, else `WISMO_TOPIC_PREFIX` followed by the
    /// default name. The prefix namespaces a whole deployment on a shared cluster
    /// (its consumer groups follow it too, see `group_prefix`).
    pub fn from_env(env: &Env) -> Self {
        let prefix = env.string("WISMO_TOPIC_PREFIX", "");
        let name = |key: &str, default: &str| env.string(key, &format!("{prefix}{default}"));
        Topics {
            orders: name("WISMO_TOPIC_ORDERS", "orders"),
            carrier_scans: name("WISMO_TOPIC_CARRIER_SCANS", "carrier-scans"),
            notifications: name("WISMO_TOPIC_NOTIFICATIONS", "notification-commands"),
            delay_apologies: name("WISMO_TOPIC_DELAY_APOLOGIES", "delay-apology-commands"),
            review_requests: name("WISMO_TOPIC_REVIEW_REQUESTS", "review-request-commands"),
            outbox: name("WISMO_TOPIC_OUTBOX", "wismo-order-tracker-outbox"),
            dead_letter: name("WISMO_TOPIC_DEAD_LETTER", "dead-letter"),
            shipment_registrations: name(
                "WISMO_TOPIC_SHIPMENT_REGISTRATIONS",
                "wismo-scan-matcher-shipments",
            ),
            routed_scans: name(
                "WISMO_TOPIC_ROUTED_SCANS",
                "wismo-scan-matcher-routed-scans",
            ),
            matcher_changelog: name(
                "WISMO_TOPIC_MATCHER_CHANGELOG",
                "wismo-scan-matcher-changelog",
            ),
            tracker_changelog: name(
                "WISMO_TOPIC_TRACKER_CHANGELOG",
                "wismo-order-tracker-changelog",
            ),
            dispatcher_changelog: name(
                "WISMO_TOPIC_DISPATCHER_CHANGELOG",
                "wismo-dispatcher-changelog",
            ),
        }
    }

    /// Every topic by its default (logical) name, as event files and `wismoctl`
    /// name them.
    pub fn by_default_name(&self) -> [(&'static str, &str); 12] {
        [
            ("orders", &self.orders),
            ("carrier-scans", &self.carrier_scans),
            ("notification-commands", &self.notifications),
            ("delay-apology-commands", &self.delay_apologies),
            ("review-request-commands", &self.review_requests),
            ("wismo-order-tracker-outbox", &self.outbox),
            ("dead-letter", &self.dead_letter),
            ("wismo-scan-matcher-shipments", &self.shipment_registrations),
            ("wismo-scan-matcher-routed-scans", &self.routed_scans),
            ("wismo-scan-matcher-changelog", &self.matcher_changelog),
            ("wismo-order-tracker-changelog", &self.tracker_changelog),
            ("wismo-dispatcher-changelog", &self.dispatcher_changelog),
        ]
    }

    /// The configured topic a default name stands for; any other name as it is.
    pub fn resolve<'a>(&'a self, name: &'a str) -> &'a str {
        self.by_default_name()
            .into_iter()
            .find(|(default, _)| *default == name)
            .map_or(name, |(_, actual)| actual)
    }
}

/// The prefix of a deployment's consumer groups and transactional ids: the topic
/// prefix, so that two deployments on one cluster never share a group.
pub fn group_prefix(env: &Env) -> String {
    env.string("WISMO_TOPIC_PREFIX", "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_namespaces_default_names_but_not_explicit_ones() {
        let env = Env::from_pairs([
            ("WISMO_TOPIC_PREFIX", "staging."),
            ("WISMO_TOPIC_ORDERS", "shop-orders"),
        ]);
        let topics = Topics::from_env(&env);
        assert_eq!(topics.orders, "shop-orders");
        assert_eq!(topics.carrier_scans, "staging.carrier-scans");
        assert_eq!(
            topics.tracker_changelog,
            "staging.wismo-order-tracker-changelog"
        );
        assert_eq!(topics.resolve("dead-letter"), "staging.dead-letter");
        assert_eq!(topics.resolve("orders"), "shop-orders");
        assert_eq!(topics.resolve("something-else"), "something-else");
        assert_eq!(group_prefix(&env), "staging.");
    }

    #[test]
    fn without_a_prefix_the_defaults_follow_the_brief() {
        let topics = Topics::from_env(&Env::default());
        for (default, actual) in topics.by_default_name() {
            assert_eq!(default, actual);
        }
    }
}
