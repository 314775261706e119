//! The changelog state decoder, for every state a service keeps in a changelog:
//! the order-tracker's `OrderState`, the scan-matcher's `TrackingState` and the
//! dispatcher's `RecipientHold`. Through the public `encode_state`/`entry`/`decode`
//! only, so the target survives a change of the state format.
//!
//! Asserted:
//! - no panic, abort or huge allocation, whatever the bytes;
//! - an error names the changelog topic, partition and offset;
//! - a state that decodes re-encodes and decodes back to an equal state, and
//!   re-encoding that gives the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;
use wismo_core::dispatch::RecipientHold;
use wismo_core::matcher::TrackingState;
use wismo_core::tracker::OrderState;
use wismo_codec::subjects;
use wismo_engine::changelog::{decode, encode_state, entry, Position};

fuzz_target!(|bytes: &[u8]| {
    check::<OrderState>(bytes, subjects::ORDER_STATE, "wismo-order-tracker-changelog");
    check::<TrackingState>(bytes, subjects::TRACKING_STATE, "wismo-scan-matcher-changelog");
    check::<RecipientHold>(bytes, subjects::RECIPIENT_HOLD, "wismo-dispatcher-changelog");
});

fn encode<S: Serialize + Debug>(subject: &str, state: &S) -> Vec<u8> {
    let bytes = encode_state(subject, state)
        .unwrap_or_else(|e| panic!("{subject}: decoded {state:?} does not encode: {e}"));
    entry(&Position::default(), &bytes)
}

fn check<S>(bytes: &[u8], subject: &str, topic: &str)
where
    S: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let state: S = match decode(subject, bytes, topic, 7, 1234) {
        Ok(state) => state,
        Err(e) => {
            let shown = e.to_string();
            assert!(shown.contains(&format!("{topic}/7 offset 1234")), "{shown}");
            return;
        }
    };
    let encoded = encode(subject, &state);
    let again: S = decode(subject, &encoded, topic, 7, 1235)
        .unwrap_or_else(|e| panic!("{topic}: re-encoded {state:?} does not decode: {e}"));
    assert_eq!(again, state, "{topic}: decode(encode(s)) != s");
    assert_eq!(
        encode(subject, &again),
        encoded,
        "{topic}: encoding is not deterministic"
    );
}
