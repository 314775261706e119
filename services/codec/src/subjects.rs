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

/// State: the order-tracker's changelog entries (one order).
pub const ORDER_STATE: &str = "order_state";
/// State: the scan-matcher's changelog entries (one tracking number).
pub const TRACKING_STATE: &str = "tracking_state";
/// State: the dispatcher's changelog entries (one recipient).
pub const RECIPIENT_HOLD: &str = "recipient_hold";

/// Every subject, in schema-id order.
pub const ALL: [&str; 11] = [
    ORDER_EVENT,
    CARRIER_SCAN,
    NOTIFICATION_COMMAND,
    DEAD_LETTER,
    SHIPMENT_REGISTERED,
    ROUTED_SCAN,
    DELAY_APOLOGY_COMMAND,
    REVIEW_REQUEST_COMMAND,
    ORDER_STATE,
    TRACKING_STATE,
    RECIPIENT_HOLD,
];
