//! Bounds on everything that comes from outside: record size, field lengths, item
//! and channel counts, and the plausible window of every time and date.
//!
//! The services check these before a record reaches any state: sizes, lengths and
//! counts when they decode it, times against the record's own timestamp (`now` of
//! the decision) before they decide it. A record outside a bound goes to
//! `dead-letter` as `invalid`, with a reason that names the bound's key.
//! The absolute window of times and dates, years 0000 to 9999, is the wire format's
//! ([`TIMESTAMP_MILLIS_RANGE`]): the codec refuses anything else.

use super::{CarrierScan, InvalidEvent, OrderEvent, RoutedScan, ShipmentRegistered, Timestamp};
use crate::quote::{quote, quote_bytes};
use crate::wording::rough_duration;
use chrono::{Duration, NaiveDate};
use std::ops::RangeInclusive;

/// The instants a record may carry: years 0000 to 9999, as RFC 3339 writes them.
/// chrono reaches year 262142, but the decision core adds thresholds and walks
/// calendar days from these values, and near chrono's end that arithmetic fails.
pub const TIMESTAMP_MILLIS_RANGE: RangeInclusive<i64> = -62_167_219_200_000..=253_402_300_799_999;
/// The dates a record may carry (days since 1970-01-01): years 0000 to 9999.
pub const DATE_DAYS_RANGE: RangeInclusive<i32> = -719_528..=2_932_896;

/// A configurable bound on input, named by its configuration key in reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Limit {
    RecordBytes,
    FieldBytes,
    TextBytes,
    Items,
    Channels,
    EventAge,
    EventFuture,
    ScanFuture,
    PromiseAhead,
    EddAhead,
}

impl Limit {
    pub const ALL: [Limit; 10] = [
        Limit::RecordBytes,
        Limit::FieldBytes,
        Limit::TextBytes,
        Limit::Items,
        Limit::Channels,
        Limit::EventAge,
        Limit::EventFuture,
        Limit::ScanFuture,
        Limit::PromiseAhead,
        Limit::EddAhead,
    ];

    /// The configuration key that sets it.
    pub fn key(self) -> &'static str {
        match self {
            Limit::RecordBytes => "WISMO_LIMIT_RECORD_BYTES",
            Limit::FieldBytes => "WISMO_LIMIT_FIELD_BYTES",
            Limit::TextBytes => "WISMO_LIMIT_TEXT_BYTES",
            Limit::Items => "WISMO_LIMIT_ITEMS",
            Limit::Channels => "WISMO_LIMIT_CHANNELS",
            Limit::EventAge => "WISMO_LIMIT_EVENT_AGE",
            Limit::EventFuture => "WISMO_LIMIT_EVENT_FUTURE",
            Limit::ScanFuture => "WISMO_LIMIT_SCAN_FUTURE",
            Limit::PromiseAhead => "WISMO_LIMIT_PROMISE_AHEAD",
            Limit::EddAhead => "WISMO_LIMIT_EDD_AHEAD",
        }
    }

    /// Its metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::RecordBytes => "record_bytes",
            Limit::FieldBytes => "field_bytes",
            Limit::TextBytes => "text_bytes",
            Limit::Items => "items",
            Limit::Channels => "channels",
            Limit::EventAge => "event_age",
            Limit::EventFuture => "event_future",
            Limit::ScanFuture => "scan_future",
            Limit::PromiseAhead => "promise_ahead",
            Limit::EddAhead => "edd_ahead",
        }
    }
}

/// The bounds themselves; defaults sit well above any real order or scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputLimits {
    /// Bytes of a record's value, checked before it is decoded.
    pub record_bytes: usize,
    /// Bytes of an id or code field (ids, tracking numbers, carrier and status
    /// codes, sku, category, locale, timezone, countries, city, postal code).
    pub field_bytes: usize,
    /// Bytes of a free-text field (a scan's description, a cancellation's or a
    /// return's reason).
    pub text_bytes: usize,
    /// Items of an order, and skus of a shipment or a return.
    pub items: usize,
    /// Contact channels of a customer.
    pub channels: usize,
    /// How long before the record's time an event may have happened (and an
    /// estimated delivery date may lie).
    pub event_age: Duration,
    /// How far after the record's time an order event may be dated.
    pub event_future: Duration,
    /// How far after the record's time a scan may be dated.
    pub scan_future: Duration,
    /// How far after the order was placed its promised delivery date may lie.
    pub promise_ahead: Duration,
    /// How far after the record's time a carrier's estimated delivery date may lie.
    pub edd_ahead: Duration,
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            record_bytes: 64 * 1024,
            field_bytes: 128,
            text_bytes: 1024,
            items: 100,
            channels: 8,
            event_age: Duration::days(365),
            event_future: Duration::hours(1),
            scan_future: Duration::hours(1),
            promise_ahead: Duration::days(365),
            edd_ahead: Duration::days(120),
        }
    }
}

fn over(limit: Limit, reason: String) -> InvalidEvent {
    InvalidEvent::Limit { limit, reason }
}

impl InputLimits {
    /// The size of a record's value, before anything decodes it.
    pub fn check_record_size(&self, bytes: usize) -> Result<(), InvalidEvent> {
        if bytes > self.record_bytes {
            return Err(over(
                Limit::RecordBytes,
                format!(
                    "record is {bytes} bytes, over the limit of {} bytes",
                    self.record_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Field lengths and counts of an order event, then its own rules.
    pub fn check_order_event(&self, e: &OrderEvent) -> Result<(), InvalidEvent> {
        self.id("event_id", &e.event_id)?;
        self.id("order_id", &e.order_id)?;
        if let Some(p) = &e.placed {
            let c = &p.customer;
            self.id("placed.customer.customer_id", &c.customer_id)?;
            self.id("placed.customer.locale", &c.locale)?;
            self.id("placed.customer.timezone", &c.timezone)?;
            self.count(
                "placed.customer.channels",
                c.channels.len(),
                Limit::Channels,
            )?;
            self.count("placed.items", p.items.len(), Limit::Items)?;
            for item in &p.items {
                self.id("placed.items[].sku", &item.sku)?;
                self.id("placed.items[].category", &item.category)?;
            }
            self.opt_id("placed.destination_country", &p.destination_country)?;
        }
        if let Some(s) = &e.shipment_created {
            self.id("shipment_created.shipment_id", &s.shipment_id)?;
            self.id("shipment_created.tracking_number", &s.tracking_number)?;
            self.id("shipment_created.carrier", &s.carrier)?;
            self.opt_id("shipment_created.service_level", &s.service_level)?;
            self.opt_id("shipment_created.origin_country", &s.origin_country)?;
            self.skus("shipment_created.skus", &s.skus)?;
        }
        if let Some(c) = &e.cancelled {
            self.opt_text("cancelled.reason", &c.reason)?;
        }
        if let Some(r) = &e.return_requested {
            self.opt_text("return_requested.reason", &r.reason)?;
            self.skus("return_requested.skus", &r.skus)?;
        }
        e.validate()
    }

    /// Field lengths of a carrier scan, then its own rules.
    pub fn check_scan(&self, s: &CarrierScan) -> Result<(), InvalidEvent> {
        self.id("scan_id", &s.scan_id)?;
        self.id("tracking_number", &s.tracking_number)?;
        self.id("carrier", &s.carrier)?;
        self.id("raw_status", &s.raw_status)?;
        self.opt_id("raw_status_detail", &s.raw_status_detail)?;
        self.opt_text("description", &s.description)?;
        if let Some(l) = &s.location {
            self.opt_id("location.city", &l.city)?;
            self.opt_id("location.postal_code", &l.postal_code)?;
            self.opt_id("location.country", &l.country)?;
        }
        self.opt_id("order_id", &s.order_id)?;
        s.validate()
    }

    /// A scan the scan-matcher routed, as the order-tracker reads it.
    pub fn check_routed_scan(&self, r: &RoutedScan) -> Result<(), InvalidEvent> {
        self.id("order_id", &r.order_id)?;
        self.check_scan(&r.scan)
    }

    /// Field lengths of a registration on the scan-matcher's own topic.
    pub fn check_registration(&self, r: &ShipmentRegistered) -> Result<(), InvalidEvent> {
        self.id("tracking_number", &r.tracking_number)?;
        self.id("carrier", &r.carrier)?;
        self.id("order_id", &r.order_id)?;
        self.id("shipment_id", &r.shipment_id)
    }

    /// An order event's time against the record's, and its promised date against
    /// the day the order was placed.
    pub fn check_order_times(&self, e: &OrderEvent, now: Timestamp) -> Result<(), InvalidEvent> {
        check_record_time(now)?;
        self.instant(e.occurred_at, now, self.event_future, Limit::EventFuture)?;
        let Some(promised) = e.placed.as_ref().and_then(|p| p.promised_delivery_date) else {
            return Ok(());
        };
        // A day of slack: the promise is in the customer's timezone, the time in UTC.
        let placed = e.occurred_at.date_naive();
        if placed.pred_opt().is_some_and(|day| promised < day) {
            return Err(InvalidEvent::field(
                "placed.promised_delivery_date",
                format!("{promised} is before the day the order was placed ({placed})"),
            ));
        }
        let latest = date_after(e.occurred_at, self.promise_ahead);
        if latest.is_some_and(|latest| promised > latest) {
            return Err(over(
                Limit::PromiseAhead,
                format!(
                    "field `placed.promised_delivery_date` {promised} is more than {} after the order was placed",
                    rough_duration(self.promise_ahead)
                ),
            ));
        }
        Ok(())
    }

    /// A scan's time and estimated delivery date against the record's time.
    pub fn check_scan_times(&self, s: &CarrierScan, now: Timestamp) -> Result<(), InvalidEvent> {
        check_record_time(now)?;
        self.instant(s.occurred_at, now, self.scan_future, Limit::ScanFuture)?;
        let Some(edd) = s.carrier_edd else {
            return Ok(());
        };
        let earliest = now
            .checked_sub_signed(self.event_age)
            .map(|t| t.date_naive());
        if earliest.is_some_and(|earliest| edd < earliest) {
            return Err(over(
                Limit::EventAge,
                format!(
                    "field `carrier_edd` {edd} is more than {} before the record's time",
                    rough_duration(self.event_age)
                ),
            ));
        }
        if date_after(now, self.edd_ahead).is_some_and(|latest| edd > latest) {
            return Err(over(
                Limit::EddAhead,
                format!(
                    "field `carrier_edd` {edd} is more than {} after the record's time",
                    rough_duration(self.edd_ahead)
                ),
            ));
        }
        Ok(())
    }

    /// `occurred_at` within [now − event age, now + `future`].
    fn instant(
        &self,
        at: Timestamp,
        now: Timestamp,
        future: Duration,
        future_limit: Limit,
    ) -> Result<(), InvalidEvent> {
        if now
            .checked_sub_signed(self.event_age)
            .is_some_and(|e| at < e)
        {
            return Err(over(
                Limit::EventAge,
                format!(
                    "field `occurred_at` is {} before the record's time; at most {} is allowed",
                    rough_duration(now - at),
                    rough_duration(self.event_age)
                ),
            ));
        }
        if now.checked_add_signed(future).is_some_and(|l| at > l) {
            return Err(over(
                future_limit,
                format!(
                    "field `occurred_at` is {} after the record's time; at most {} is allowed",
                    rough_duration(at - now),
                    rough_duration(future)
                ),
            ));
        }
        Ok(())
    }

    fn id(&self, field: &'static str, value: &str) -> Result<(), InvalidEvent> {
        if value.len() > self.field_bytes {
            return Err(over(
                Limit::FieldBytes,
                format!(
                    "field `{field}` is {} bytes, over the limit of {} bytes",
                    value.len(),
                    self.field_bytes
                ),
            ));
        }
        // Ids and codes end up in logs and metric-free lookups; a control
        // character in one is never real and could forge a log line.
        if value.chars().any(char::is_control) {
            return Err(InvalidEvent::field(field, "contains a control character"));
        }
        Ok(())
    }

    fn opt_id(&self, field: &'static str, value: &Option<String>) -> Result<(), InvalidEvent> {
        value.as_deref().map_or(Ok(()), |v| self.id(field, v))
    }

    fn opt_text(&self, field: &'static str, value: &Option<String>) -> Result<(), InvalidEvent> {
        match value {
            Some(v) if v.len() > self.text_bytes => Err(over(
                Limit::TextBytes,
                format!(
                    "field `{field}` is {} bytes, over the limit of {} bytes",
                    v.len(),
                    self.text_bytes
                ),
            )),
            _ => Ok(()),
        }
    }

    fn skus(&self, field: &'static str, skus: &[String]) -> Result<(), InvalidEvent> {
        self.count(field, skus.len(), Limit::Items)?;
        skus.iter().try_for_each(|sku| self.id(field, sku))
    }

    fn count(&self, field: &'static str, n: usize, limit: Limit) -> Result<(), InvalidEvent> {
        let max = match limit {
            Limit::Channels => self.channels,
            _ => self.items,
        };
        if n > max {
            return Err(over(
                limit,
                format!("field `{field}` has {n} entries, over the limit of {max}"),
            ));
        }
        Ok(())
    }
}

/// State for a key lives in the partition the key hashes to: a record keyed by
/// anything but its own `field` would split that state.
pub fn check_key(
    key: Option<&[u8]>,
    field: &'static str,
    expected: &str,
) -> Result<(), InvalidEvent> {
    if key == Some(expected.as_bytes()) {
        return Ok(());
    }
    let shown = key.map_or_else(
        || "no key".to_string(),
        |k| format!("key {}", quote_bytes(k)),
    );
    Err(InvalidEvent::field(
        field,
        format!(
            "the record has {shown}, not its {field} {}; records must be keyed by {field}",
            quote(expected)
        ),
    ))
}

/// The record's own time must itself be a time the format can carry.
pub fn check_record_time(now: Timestamp) -> Result<(), InvalidEvent> {
    if TIMESTAMP_MILLIS_RANGE.contains(&now.timestamp_millis()) {
        Ok(())
    } else {
        Err(InvalidEvent::field(
            "timestamp",
            "the record's timestamp is outside years 0000 to 9999",
        ))
    }
}

/// The UTC date `d` after `t`, if chrono can represent it.
fn date_after(t: Timestamp, d: Duration) -> Option<NaiveDate> {
    t.checked_add_signed(d).map(|t| t.date_naive())
}

#[cfg(test)]
mod tests;
