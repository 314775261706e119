//! The seed corpus of the `codec` fuzz target (`fuzz/corpus/codec/`) is the golden
//! records here, framed with every schema version that can write them, so fuzzing
//! starts from each subject's real shape and old-version resolution.
//! `WISMO_WRITE_FUZZ_SEEDS=1 cargo test -p wismo-codec fuzz_seeds` rewrites them
//! after a fixture or schema change; otherwise the test checks that every seed
//! still decodes as the subject its schema id names.

use crate::fixtures::*;
use apache_avro::to_avro_datum;
use std::fs;
use std::path::PathBuf;
use wismo_codec::{frame, subjects, unframe, Codec, DeadLetter, SchemaCatalog, SchemaRegistry};
use wismo_core::model::{
    CarrierScan, DelayApologyCommand, NotificationCommand, OrderEvent, ReviewRequestCommand,
};

fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/codec")
}

/// `(file name, framed record)` for each golden record and each schema version of
/// its subject that can represent it.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let catalog = SchemaCatalog::builtin();
    let mut add = |name: &str, subject: &str, value: &dyn erased::Value| {
        let current = catalog.id_of(subject).and_then(|id| catalog.entry(id));
        for entry in catalog.entries() {
            // The newest history file is a copy of the current schema: same bytes.
            let is_current = current.is_some_and(|c| c.id == entry.id);
            let copy = !is_current && current.is_some_and(|c| c.text == entry.text);
            if entry.subject != subject || copy {
                continue;
            }
            let Some(datum) = value.datum(&entry.schema) else {
                continue; // this version cannot hold the record
            };
            let version = match entry.version {
                _ if is_current => "current".to_owned(),
                Some(v) => format!("v{v}"),
                // A state's base id, as releases before versioned ids framed it.
                None => "base".to_owned(),
            };
            out.push((format!("{name}-{version}.bin"), frame(entry.id, &datum)));
        }
    };
    for (name, e) in [
        "placed",
        "shipment_created",
        "cancelled",
        "return_requested",
    ]
    .iter()
    .zip(order_events())
    {
        add(&format!("order_event-{name}"), subjects::ORDER_EVENT, &e);
    }
    add("carrier_scan-full", subjects::CARRIER_SCAN, &scan_full());
    add(
        "carrier_scan-minimal",
        subjects::CARRIER_SCAN,
        &scan_minimal(),
    );
    add(
        "shipment_registered",
        subjects::SHIPMENT_REGISTERED,
        &shipment_registered(),
    );
    add("routed_scan", subjects::ROUTED_SCAN, &routed_scan());
    add(
        "notification_command",
        subjects::NOTIFICATION_COMMAND,
        &command(),
    );
    add(
        "notification_command-minimal",
        subjects::NOTIFICATION_COMMAND,
        &command_minimal(),
    );
    add(
        "delay_apology_command",
        subjects::DELAY_APOLOGY_COMMAND,
        &delay_apology(),
    );
    add(
        "review_request_command",
        subjects::REVIEW_REQUEST_COMMAND,
        &review_request(),
    );
    for (i, state) in order_states().iter().enumerate() {
        add(&format!("order_state-{i}"), subjects::ORDER_STATE, state);
    }
    for (i, state) in tracking_states().iter().enumerate() {
        add(
            &format!("tracking_state-{i}"),
            subjects::TRACKING_STATE,
            state,
        );
    }
    for (i, state) in recipient_holds().iter().enumerate() {
        add(
            &format!("recipient_hold-{i}"),
            subjects::RECIPIENT_HOLD,
            state,
        );
    }
    add("dead_letter", subjects::DEAD_LETTER, &dead_letter());
    add(
        "dead_letter-tombstone",
        subjects::DEAD_LETTER,
        &dead_letter_tombstone(),
    );
    out
}

mod erased {
    use apache_avro::Schema;
    use serde::Serialize;

    /// A fixture of any type, written with a given schema.
    pub trait Value {
        fn datum(&self, schema: &Schema) -> Option<Vec<u8>>;
    }

    impl<T: Serialize> Value for T {
        fn datum(&self, schema: &Schema) -> Option<Vec<u8>> {
            let value = apache_avro::to_value(self).ok()?.resolve(schema).ok()?;
            super::to_avro_datum(schema, value).ok()
        }
    }
}

fn decodes(bytes: &[u8]) -> Result<(), String> {
    let (id, _) = unframe(bytes).map_err(|e| e.to_string())?;
    let subject = SchemaCatalog::builtin()
        .entry(id)
        .ok_or(format!("unknown schema id {id}"))?
        .subject;
    let codec = Codec::default();
    fn ok<T>(r: Result<T, wismo_codec::CodecError>) -> Result<(), String> {
        r.map(drop).map_err(|e| e.to_string())
    }
    match subject {
        subjects::ORDER_EVENT => ok(codec.decode::<OrderEvent>(subject, bytes)),
        subjects::CARRIER_SCAN => ok(codec.decode::<CarrierScan>(subject, bytes)),
        subjects::SHIPMENT_REGISTERED => ok(codec.decode::<ShipmentRegistered>(subject, bytes)),
        subjects::ROUTED_SCAN => ok(codec.decode::<RoutedScan>(subject, bytes)),
        subjects::NOTIFICATION_COMMAND => ok(codec.decode::<NotificationCommand>(subject, bytes)),
        subjects::DELAY_APOLOGY_COMMAND => ok(codec.decode::<DelayApologyCommand>(subject, bytes)),
        subjects::REVIEW_REQUEST_COMMAND => {
            ok(codec.decode::<ReviewRequestCommand>(subject, bytes))
        }
        subjects::DEAD_LETTER => ok(codec.decode::<DeadLetter>(subject, bytes)),
        subjects::ORDER_STATE => ok(codec.decode::<OrderState>(subject, bytes)),
        subjects::TRACKING_STATE => ok(codec.decode::<TrackingState>(subject, bytes)),
        subjects::RECIPIENT_HOLD => ok(codec.decode::<RecipientHold>(subject, bytes)),
        other => Err(format!("no decoder for subject {other}")),
    }
}

#[test]
fn fuzz_seeds_are_golden_records_that_decode() {
    let seeds = seeds();
    for subject in subjects::ALL {
        assert!(
            seeds.iter().any(|(name, _)| name.starts_with(subject)),
            "no fuzz seed for {subject}"
        );
    }
    if std::env::var_os("WISMO_WRITE_FUZZ_SEEDS").is_some() {
        let dir = seeds_dir();
        // Start over, so a seed for a schema version that is gone goes too.
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in &seeds {
            fs::write(dir.join(name), bytes).unwrap();
        }
    }
    for (name, bytes) in &seeds {
        decodes(bytes).unwrap_or_else(|e| panic!("seed {name} does not decode: {e}"));
    }
    for file in fs::read_dir(seeds_dir()).expect("fuzz/corpus/codec exists") {
        let path = file.unwrap().path();
        let bytes = fs::read(&path).unwrap();
        decodes(&bytes).unwrap_or_else(|e| {
            panic!(
                "{} does not decode ({e}); rewrite the seeds with \
                 WISMO_WRITE_FUZZ_SEEDS=1 cargo test -p wismo-codec fuzz_seeds",
                path.display()
            )
        });
    }
}
