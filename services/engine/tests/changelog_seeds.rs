//! The changelog fuzz target's seeds hold every format a service reads: the JSON
//! entries of formats 1 and 2 as older versions wrote them, and for each an Avro
//! entry (format 3) of the same state, as the services write them now.
//!
//! `WISMO_WRITE_FUZZ_SEEDS=1 cargo test -p wismo-engine --test changelog_seeds`
//! rewrites the Avro seeds from the JSON ones.

use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};
use wismo_codec::subjects;
use wismo_core::dispatch::RecipientHold;
use wismo_core::matcher::TrackingState;
use wismo_core::tracker::OrderState;
use wismo_engine::changelog::{decode_entry, encode_state, entry, Mark, Position};

fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/changelog")
}

/// A position like the order-tracker's: its inputs, one with two writers.
fn position() -> Position {
    Position::new(vec![
        Mark {
            input: 0,
            writer: None,
            offset: 1_204,
        },
        Mark {
            input: 1,
            writer: Some(0),
            offset: 88_311,
        },
        Mark {
            input: 1,
            writer: Some(1),
            offset: 87_950,
        },
    ])
}

fn check<S>(json_seed: &Path, subject: &str)
where
    S: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let bytes = fs::read(json_seed).expect("readable seed");
    let old = decode_entry::<S>(subject, &bytes, "c", 0, 0).expect("the JSON seed decodes");
    let avro = entry(
        &position(),
        &encode_state(subject, &old.state).expect("encodes"),
    );
    let stem = json_seed
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let avro_seed = seeds_dir().join(format!("{stem}-avro.bin"));
    if std::env::var_os("WISMO_WRITE_FUZZ_SEEDS").is_some() {
        fs::write(&avro_seed, &avro).expect("writable corpus");
    }
    let stored = fs::read(&avro_seed).unwrap_or_else(|_| {
        panic!(
            "{} is missing: WISMO_WRITE_FUZZ_SEEDS=1 cargo test -p wismo-engine --test changelog_seeds",
            avro_seed.display()
        )
    });
    let new = decode_entry::<S>(subject, &stored, "c", 0, 0).expect("the Avro seed decodes");
    assert_eq!(new.state, old.state, "{}", avro_seed.display());
    assert_eq!(new.position, Some(position()));
    let (avro_len, json_len) = (new.state_bytes.len(), old.state_bytes.len());
    assert!(
        avro_len * 2 < json_len,
        "{avro_len} B against {json_len} B of JSON"
    );
}

#[test]
fn every_json_seed_has_an_avro_twin_holding_the_same_state() {
    let mut checked = 0;
    for e in fs::read_dir(seeds_dir()).expect("fuzz/corpus/changelog exists") {
        let path = e.expect("readable").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if name.ends_with("-avro.bin") {
            continue;
        }
        if name.starts_with("order_state") {
            check::<OrderState>(&path, subjects::ORDER_STATE);
        } else if name.starts_with("tracking_state") {
            check::<TrackingState>(&path, subjects::TRACKING_STATE);
        } else if name.starts_with("recipient_hold") {
            check::<RecipientHold>(&path, subjects::RECIPIENT_HOLD);
        } else {
            panic!("seed {name} names no state type");
        }
        checked += 1;
    }
    assert!(checked >= 3, "{checked} seeds");
}
