//! Carrier codes → canonical status, through the built-in tables and operator tables.

use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use wismo_core::status::{MappingError, Normalized, Status, StatusMapper, SubStatus};

use Status::*;
use SubStatus as Sub;

/// `(raw_status, raw_detail, expected status, expected sub-status)`
type Case<'a> = (&'a str, Option<&'a str>, Status, SubStatus);

/// Asserts every case maps as expected, and that `unmapped_code` does not map.
fn check(carrier: &str, cases: &[Case], unmapped_code: &str) {
    let mapper = StatusMapper::builtin();
    for &(raw, detail, status, sub_status) in cases {
        let got = mapper.normalize(carrier, raw, detail);
        let want = Normalized {
            status,
            sub_status,
            mapped: true,
        };
        assert_eq!(got, want, "{carrier} {raw:?} {detail:?}");
    }
    assert_eq!(
        mapper.normalize(carrier, unmapped_code, None),
        Normalized::UNMAPPED,
        "{carrier} {unmapped_code:?} should be unmapped"
    );
}

fn needs_customer(carrier: &str, raw: &str, detail: Option<&str>) -> bool {
    let n = StatusMapper::builtin().normalize(carrier, raw, detail);
    n.mapped && n.sub_status.customer_action_required()
}

#[test]
fn ups() {
    check(
        "ups",
        &[
            ("MP", None, InfoReceived, Sub::LabelCreated),
            ("M", None, InfoReceived, Sub::LabelCreated),
            ("OR", None, InTransit, Sub::PickedUp),
            ("AR", None, InTransit, Sub::ArrivedAtFacility),
            ("OT", None, OutForDelivery, Sub::OnVehicle),
            ("KB", None, Delivered, Sub::Generic),
            ("D", None, Delivered, Sub::Generic),
            ("2W", None, Delivered, Sub::PickedUpByCustomer),
            ("ZP", None, AvailableForPickup, Sub::AwaitingPickup),
            ("48", None, AttemptFail, Sub::RecipientNotAvailable),
            ("G3", None, AttemptFail, Sub::BusinessClosed),
            ("AG", None, Exception, Sub::AddressIssue),
            ("KR", None, Exception, Sub::Refused),
            ("DJ", None, Exception, Sub::Weather),
            ("34", None, InTransit, Sub::Missorted),
            ("ZC", None, InTransit, Sub::Rescheduled),
            ("MV", None, Exception, Sub::ShipmentCancelled),
            ("6C", None, ReturningToSender, Sub::ReturnInitiated),
        ],
        "Q9",
    );
    assert!(needs_customer("ups", "AG", None));
    assert!(needs_customer("ups", "48", None));
    assert!(!needs_customer("ups", "DJ", None));
}

#[test]
fn fedex() {
    check(
        "fedex",
        &[
            ("OC", None, InfoReceived, Sub::LabelCreated),
            ("PU", None, InTransit, Sub::PickedUp),
            ("DP", None, InTransit, Sub::DepartedFacility),
            ("OD", None, OutForDelivery, Sub::OnVehicle),
            ("DL", None, Delivered, Sub::Generic),
            ("HL", None, AvailableForPickup, Sub::AwaitingPickup),
            ("CD", None, Exception, Sub::CustomsHold),
            ("CC", None, InTransit, Sub::CustomsReleased),
            ("DE", None, Exception, Sub::Generic),
            // The exception code refines DE; an unknown one falls back to DE's row.
            ("DE", Some("08"), AttemptFail, Sub::RecipientNotAvailable),
            ("DE", Some("99"), Exception, Sub::Generic),
            ("CA", None, Exception, Sub::ShipmentCancelled),
            ("RS", None, ReturningToSender, Sub::ReturnInitiated),
        ],
        "ZZ",
    );
    assert!(needs_customer("fedex", "HL", None));
    assert!(needs_customer("fedex", "DE", Some("08")));
}

#[test]
fn usps() {
    check(
        "usps",
        &[
            ("GX", None, InfoReceived, Sub::LabelCreated),
            ("MA", None, InfoReceived, Sub::LabelCreated),
            ("03", None, InTransit, Sub::PickedUp),
            ("10", None, InTransit, Sub::ArrivedAtFacility),
            ("OF", None, OutForDelivery, Sub::OnVehicle),
            ("01", None, Delivered, Sub::Generic),
            ("43", None, Delivered, Sub::PickedUpByCustomer),
            ("16", None, AvailableForPickup, Sub::AwaitingPickup),
            ("02", None, AttemptFail, Sub::RecipientNotAvailable),
            ("53", None, AttemptFail, Sub::AccessProblem),
            ("55", None, AttemptFail, Sub::NoSecureLocation),
            ("04", None, Exception, Sub::Refused),
            ("05", None, Exception, Sub::AddressIssue),
            ("HP", None, Exception, Sub::DutiesDue),
            ("08", None, InTransit, Sub::Missorted),
            ("09", None, ReturningToSender, Sub::ReturnInitiated),
            ("31", None, ReturningToSender, Sub::ReturnInitiated),
        ],
        "99",
    );
    assert!(needs_customer("usps", "05", None));
    assert!(needs_customer("usps", "HP", None));
}

#[test]
fn dhl() {
    check(
        "dhl",
        &[
            ("pre-transit", None, InfoReceived, Sub::LabelCreated),
            ("PU", None, InTransit, Sub::PickedUp),
            ("DF", None, InTransit, Sub::DepartedFacility),
            ("CR", None, InTransit, Sub::CustomsReleased),
            ("WC", None, OutForDelivery, Sub::OnVehicle),
            ("OK", None, Delivered, Sub::Generic),
            ("delivered", None, Delivered, Sub::Generic),
            ("CC", None, AvailableForPickup, Sub::AwaitingPickup),
            ("NH", None, AttemptFail, Sub::RecipientNotAvailable),
            ("BA", None, Exception, Sub::AddressIssue),
            ("HP", None, Exception, Sub::DutiesDue),
            ("CD", None, Exception, Sub::CustomsHold),
            ("RT", None, ReturningToSender, Sub::ReturnInitiated),
        ],
        "ZZ",
    );
    assert!(needs_customer("dhl", "BA", None));
    assert!(needs_customer("dhl", "HP", None));
}

#[test]
fn easypost_status_and_detail() {
    check(
        "easypost",
        &[
            ("pre_transit", None, InfoReceived, Sub::LabelCreated),
            (
                "pre_transit",
                Some("status_update"),
                InfoReceived,
                Sub::LabelCreated,
            ),
            (
                "in_transit",
                Some("arrived_at_facility"),
                InTransit,
                Sub::ArrivedAtFacility,
            ),
            (
                "in_transit",
                Some("departed_origin_facility"),
                InTransit,
                Sub::DepartedFacility,
            ),
            ("in_transit", Some("weather_delay"), Exception, Sub::Weather),
            (
                "out_for_delivery",
                Some("out_for_delivery"),
                OutForDelivery,
                Sub::OnVehicle,
            ),
            (
                "delivered",
                Some("arrived_at_destination"),
                Delivered,
                Sub::Generic,
            ),
            (
                "available_for_pickup",
                Some("arrived_at_pickup_location"),
                AvailableForPickup,
                Sub::AwaitingPickup,
            ),
            (
                "failure",
                Some("address_correction"),
                Exception,
                Sub::AddressIssue,
            ),
            ("failure", Some("lost"), Exception, Sub::Lost),
            (
                "return_to_sender",
                Some("refused"),
                ReturningToSender,
                Sub::Refused,
            ),
            (
                "return_to_sender",
                Some("return"),
                ReturningToSender,
                Sub::ReturnInitiated,
            ),
            ("cancelled", None, Exception, Sub::ShipmentCancelled),
            // The carrier's own "unknown" is a known code: mapped, but says nothing.
            ("unknown", None, Unknown, Sub::Generic),
        ],
        "teleported",
    );
    assert!(needs_customer(
        "easypost",
        "failure",
        Some("address_correction")
    ));
}

#[test]
fn easypost_detail_falls_back_to_the_status_row() {
    let mapper = StatusMapper::builtin();
    let plain = mapper.normalize("easypost", "in_transit", None);
    assert_eq!((plain.status, plain.sub_status), (InTransit, Sub::Generic));
    // A detail with no row of its own, an empty one, or one from another status.
    for detail in ["status_update", "", "  ", "address_correction"] {
        assert_eq!(
            mapper.normalize("easypost", "in_transit", Some(detail)),
            plain,
            "{detail:?}"
        );
    }
    // The detail never maps on its own: the status code must have a row.
    assert_eq!(
        mapper.normalize("easypost", "teleported", Some("lost")),
        Normalized::UNMAPPED
    );
    // Case and surrounding blanks do not matter, in code or detail.
    let exact = mapper.normalize("easypost", "failure", Some("refused"));
    assert_eq!(
        mapper.normalize(" EasyPost ", " FAILURE ", Some(" Refused ")),
        exact
    );
}

#[test]
fn shopify() {
    check(
        "shopify",
        &[
            ("label_purchased", None, InfoReceived, Sub::LabelCreated),
            ("confirmed", None, InfoReceived, Sub::Generic),
            ("carrier_picked_up", None, InTransit, Sub::PickedUp),
            ("delayed", None, InTransit, Sub::Delayed),
            ("out_for_delivery", None, OutForDelivery, Sub::OnVehicle),
            ("attempted_delivery", None, AttemptFail, Sub::Generic),
            (
                "ready_for_pickup",
                None,
                AvailableForPickup,
                Sub::AwaitingPickup,
            ),
            ("picked_up", None, Delivered, Sub::PickedUpByCustomer),
            ("delivered", None, Delivered, Sub::Generic),
            ("failure", None, Exception, Sub::Generic),
        ],
        "lost_in_space",
    );
    assert!(needs_customer("shopify", "ready_for_pickup", None));
}

#[test]
fn carrier_without_a_table_uses_generic() {
    check(
        "acme-couriers",
        &[
            ("label_created", None, InfoReceived, Sub::LabelCreated),
            ("in_transit", None, InTransit, Sub::Generic),
            ("customs_hold", None, Exception, Sub::CustomsHold),
            ("out_for_delivery", None, OutForDelivery, Sub::OnVehicle),
            (
                "delivered_to_neighbour",
                None,
                Delivered,
                Sub::DeliveredToNeighbour,
            ),
            ("address_issue", None, Exception, Sub::AddressIssue),
            (
                "return_to_sender",
                None,
                ReturningToSender,
                Sub::ReturnInitiated,
            ),
        ],
        "ZZ",
    );
    assert!(needs_customer("acme-couriers", "duties_due", None));
    assert!(needs_customer("", "address_issue", None));
}

#[test]
fn carrier_with_a_table_never_falls_back_to_generic() {
    let mapper = StatusMapper::builtin();
    // `in_transit` is a generic code, and `DL` is FedEx's: neither is a UPS code.
    assert_eq!(
        mapper.normalize("ups", "in_transit", None),
        Normalized::UNMAPPED
    );
    assert_eq!(mapper.normalize("ups", "DL", None), Normalized::UNMAPPED);
    assert_eq!(mapper.normalize("ups", "", None), Normalized::UNMAPPED);
}

#[test]
fn carrier_and_code_are_case_insensitive_and_trimmed() {
    let mapper = StatusMapper::builtin();
    let want = mapper.normalize("ups", "MV", None);
    assert!(want.mapped);
    for (carrier, code) in [("UPS", "mv"), (" Ups\t", " Mv "), ("ups", "MV\n")] {
        assert_eq!(
            mapper.normalize(carrier, code, None),
            want,
            "{carrier:?} {code:?}"
        );
    }
}

#[test]
fn mapper_is_cheap_shared_and_debuggable() {
    fn assert_traits<T: Clone + std::fmt::Debug + Send + Sync + 'static>() {}
    assert_traits::<StatusMapper>();
    let shown = format!("{:?}", StatusMapper::default());
    assert!(shown.contains("\"usps\": "), "{shown}");
}

// ---- operator tables ---------------------------------------------------------

/// A fresh, empty directory under the system temp dir; removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("wismo-mappings-{}-{n}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, file: &str, text: &str) -> &Self {
        fs::write(self.0.join(file), text).unwrap();
        self
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const HEADER: &str = "code,detail,status,sub_status,description\n";

#[test]
fn with_dir_adds_a_carrier_and_replaces_one() {
    let dir = TempDir::new("ok");
    dir.write("acme.csv", &format!("{HEADER}A1,,in_transit,picked_up,Collected\nA9,,delivered,delivered_to_locker,\"In locker, door 4\"\n"))
        .write("UPS.CSV", &format!("{HEADER}NEWCODE,,exception,damaged,Damaged in transit\n"))
        .write("notes.txt", "not a table, ignored");
    fs::create_dir(dir.0.join("sub.csv")).unwrap(); // a directory, ignored

    let mapper = StatusMapper::with_dir(&dir.0).unwrap();
    assert!(mapper.carriers().any(|c| c == "acme"));
    let acme = mapper.normalize("ACME", "a9", None);
    assert_eq!(
        (acme.status, acme.sub_status, acme.mapped),
        (Delivered, Sub::DeliveredToLocker, true)
    );
    // The new carrier has a table, so generic codes no longer apply to it.
    assert_eq!(
        mapper.normalize("acme", "delivered", None),
        Normalized::UNMAPPED
    );

    // UPS is replaced, not merged: its built-in codes are gone.
    assert_eq!(
        mapper.normalize("ups", "NEWCODE", None).sub_status,
        Sub::Damaged
    );
    assert_eq!(mapper.normalize("ups", "KB", None), Normalized::UNMAPPED);
    // Other carriers keep their built-in tables.
    assert_eq!(mapper.normalize("fedex", "DL", None).status, Delivered);

    // The built-in mapper is untouched.
    let builtin = StatusMapper::builtin();
    assert_eq!(builtin.normalize("ups", "KB", None).status, Delivered);
    assert_eq!(builtin.normalize("acme", "A9", None), Normalized::UNMAPPED);
}

#[test]
fn with_dir_of_an_empty_dir_is_the_builtin_tables() {
    let dir = TempDir::new("empty");
    let mapper = StatusMapper::with_dir(&dir.0).unwrap();
    let builtin = StatusMapper::builtin();
    assert!(mapper.carriers().eq(builtin.carriers()));
}

/// Loads `text` as `file` from a fresh directory and returns the error.
fn load_error(file: &str, text: &str) -> (String, String, String) {
    let dir = TempDir::new("bad");
    dir.write(file, text);
    match StatusMapper::with_dir(&dir.0) {
        Ok(_) => panic!("{file} should not load"),
        Err(e) => {
            let shown = e.to_string();
            let MappingError::Table { file, reason } = e;
            (file, reason, shown)
        }
    }
}

#[test]
fn unknown_status_names_file_and_line() {
    let (file, reason, shown) = load_error(
        "acme.csv",
        &format!("{HEADER}A1,,in_transit,picked_up,ok\nA2,,teleported,generic,bad\n"),
    );
    assert!(file.ends_with("acme.csv"), "{file}");
    assert_eq!(reason, "line 3: `teleported` is not a canonical status");
    assert!(shown.contains("acme.csv: line 3: "), "{shown}");
}

#[test]
fn unknown_sub_status_names_file_and_line() {
    let (file, reason, _) = load_error("acme.csv", &format!("{HEADER}A1,,in_transit,beamed,bad\n"));
    assert!(file.ends_with("acme.csv"), "{file}");
    assert_eq!(reason, "line 2: `beamed` is not a canonical sub-status");
}

#[test]
fn duplicate_row_names_both_lines() {
    // Same code and detail once case and blanks are ignored.
    let text = format!(
        "{HEADER}A1,,in_transit,generic,x\nA1,x,in_transit,generic,x\n a1 ,,delivered,generic,x\n"
    );
    let (file, reason, _) = load_error("dup.csv", &text);
    assert!(file.ends_with("dup.csv"), "{file}");
    assert!(reason.starts_with("line 4: duplicate row"), "{reason}");
    assert!(reason.contains("first at line 2"), "{reason}");
}

#[test]
fn bad_header_names_file_and_line() {
    for header in [
        "code,status,sub_status,description\n",
        "code,detail,sub_status,status,description\n",
        "\n",
    ] {
        let (file, reason, _) =
            load_error("hdr.csv", &format!("{header}A1,,in_transit,generic,x\n"));
        assert!(file.ends_with("hdr.csv"), "{file}");
        assert!(
            reason.starts_with("line 1: header must be"),
            "{header:?}: {reason}"
        );
    }
}

#[test]
fn wrong_field_count_names_file_and_line() {
    let (_, reason, _) = load_error(
        "acme.csv",
        &format!("{HEADER}A1,,in_transit,generic,x\nA2,,delivered\n"),
    );
    assert_eq!(reason, "line 3: expected 5 fields, found 3");
}

#[test]
fn one_bad_file_fails_the_whole_load() {
    let dir = TempDir::new("mixed");
    dir.write("good.csv", &format!("{HEADER}G1,,delivered,generic,x\n"))
        .write("zzz.csv", &format!("{HEADER}Z1,,delivered,unmapped,x\n"));
    let Err(MappingError::Table { file, reason }) = StatusMapper::with_dir(&dir.0) else {
        panic!("should not load");
    };
    assert!(
        file.ends_with("zzz.csv") && reason.starts_with("line 2: "),
        "{file}: {reason}"
    );
}

#[test]
fn missing_dir_is_an_error() {
    let dir = TempDir::new("gone");
    let path = dir.0.join("nope");
    let Err(MappingError::Table { file, .. }) = StatusMapper::with_dir(&path) else {
        panic!("should not load");
    };
    assert!(file.ends_with("nope"), "{file}");
}

// ---- taxonomy and tables agree -----------------------------------------------

#[test]
fn every_sub_status_round_trips() {
    for sub in SubStatus::ALL {
        assert_eq!(SubStatus::from_str(sub.as_str()), Ok(sub));
        assert_eq!(
            serde_json::to_value(sub).unwrap(),
            sub.as_str(),
            "serde name of {sub:?}"
        );
    }
    for status in Status::ALL {
        assert_eq!(Status::from_str(status.as_str()), Ok(status));
        assert_eq!(
            serde_json::to_value(status).unwrap(),
            status.as_str(),
            "serde name of {status:?}"
        );
    }
}

fn mappings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings")
}

#[test]
fn every_status_in_the_tables_round_trips() {
    // Read the CSV files directly, independent of the loader.
    let mut seen = 0;
    for entry in fs::read_dir(mappings_dir()).unwrap() {
        let path = entry.unwrap().path();
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .from_path(&path)
            .unwrap();
        for record in reader.records() {
            let record = record.unwrap();
            let (status, sub) = (&record[2], &record[3]);
            assert_eq!(
                Status::from_str(status).map(Status::as_str),
                Ok(status),
                "{path:?}"
            );
            assert_eq!(
                SubStatus::from_str(sub).map(SubStatus::as_str),
                Ok(sub),
                "{path:?}"
            );
            seen += 1;
        }
    }
    assert!(seen > 100, "only {seen} rows");
}

#[test]
fn every_file_in_mappings_is_built_in() {
    let mut files: Vec<String> = fs::read_dir(mappings_dir())
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    let builtin: Vec<String> = StatusMapper::builtin()
        .carriers()
        .map(str::to_owned)
        .collect();
    assert_eq!(files, builtin);
}
