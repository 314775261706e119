//! Serde adapters between chrono types and the Avro logical types
//! `timestamp-millis` (i64) and `date` (i32 days since the Unix epoch).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{de::Error, Deserialize, Deserializer, Serializer};

const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => panic!("the Unix epoch is a valid date"),
};

pub mod millis {
    use super::*;

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(t.timestamp_millis())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let ms = i64::deserialize(d)?;
        Utc.timestamp_millis_opt(ms)
            .single()
            .ok_or_else(|| D::Error::custom(format!("timestamp {ms} ms is out of range")))
    }
}

pub mod date {
    use super::*;

    pub fn to_days(d: NaiveDate) -> i32 {
        // Dates a carrier or shop can send fit in i32 days many times over.
        (d - EPOCH).num_days() as i32
    }

    pub fn from_days(days: i32) -> Option<NaiveDate> {
        EPOCH.checked_add_signed(chrono::Duration::days(days.into()))
    }

    pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(to_days(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let days = i32::deserialize(d)?;
        from_days(days).ok_or_else(|| D::Error::custom(format!("date {days} days is out of range")))
    }
}

pub mod opt_date {
    use super::*;
    use serde::Serialize;

    pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        d.map(date::to_days).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        match Option::<i32>::deserialize(d)? {
            None => Ok(None),
            Some(days) => date::from_days(days)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("date {days} days is out of range"))),
        }
    }
}

pub mod opt_millis {
    use super::*;
    use serde::Serialize;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        t.map(|t| t.timestamp_millis()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<i64>::deserialize(d)? {
            None => Ok(None),
            Some(ms) => Utc
                .timestamp_millis_opt(ms)
                .single()
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("timestamp {ms} ms is out of range"))),
        }
    }
}
