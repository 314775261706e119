//! Subject names: the key a schema is registered and looked up under.

/// Order lifecycle events from the shop (`orders` topic).
pub const ORDER_EVENT: &str = "order_event";
/// Carrier and 3PL tracking events (`carrier-scans` topic).
pub const CARRIER_SCAN: &str = "carrier_scan";
/// Commands to the messaging service.
pub const NOTIFICATION_COMMAND: &str = "notification_command";
/// Records a service refused, with the original bytes.
pub const DEAD_LETTER: &str = "dead_letter";
/// Internal: tracking number → order, from the order tracker to the scan matcher.
pub const SHIPMENT_REGISTERED: &str = "shipment_registered";
/// Internal: a scan matched to its order, from the scan matcher to the order tracker.
pub const ROUTED_SCAN: &str = "routed_scan";
/// Delay apologies to the messaging service.
pub const DELAY_APOLOGY_COMMAND: &str = "delay_apology_command";
/// Review requests to the messaging service.
pub const REVIEW_REQUEST_COMMAND: &str = "review_request_command";

/// Every subject, in schema-id order.
pub const ALL: [&str; 8] = [
    ORDER_EVENT,
    CARRIER_SCAN,
    NOTIFICATION_COMMAND,
    DEAD_LETTER,
    SHIPMENT_REGISTERED,
    ROUTED_SCAN,
    DELAY_APOLOGY_COMMAND,
    REVIEW_REQUEST_COMMAND,
];
