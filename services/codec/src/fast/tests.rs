use super::*;
use crate::{subjects, unframe, Codec, SchemaRegistry};
use wismo_core::model::{CarrierScan, RoutedScan, ScanLocation};

fn direct<T: DeserializeOwned>(subject: &str, bytes: &[u8]) -> Result<T> {
    let catalog = crate::SchemaCatalog::builtin();
    let (id, body) = unframe(bytes).map_err(|_| Fallback)?;
    let plan = catalog.plan(id).ok_or(Fallback)?;
    assert_eq!(catalog.id_of(subject), Some(id));
    from_slice(plan.inlined.as_ref().ok_or(Fallback)?, body)
}

fn scan() -> CarrierScan {
    CarrierScan {
        scan_id: "s-1".into(),
        tracking_number: "1Z".into(),
        carrier: "ups".into(),
        raw_status: "OT".into(),
        raw_status_detail: None,
        description: Some("Out for delivery".into()),
        occurred_at: chrono::DateTime::from_timestamp_millis(1_709_896_200_789).unwrap(),
        location: Some(ScanLocation {
            city: Some("Chicago".into()),
            postal_code: None,
            country: Some("US".into()),
        }),
        carrier_edd: chrono::NaiveDate::from_ymd_opt(2024, 3, 8),
        order_id: None,
    }
}

/// The records the services decode most take the direct way, not the fallback.
#[test]
fn current_records_decode_directly() {
    let codec = Codec::default();
    let bytes = codec.encode(subjects::CARRIER_SCAN, &scan()).unwrap();
    assert_eq!(
        direct::<CarrierScan>(subjects::CARRIER_SCAN, &bytes).unwrap(),
        scan()
    );
    let routed = RoutedScan {
        order_id: "o-1".into(),
        scan: scan(),
    };
    let bytes = codec.encode(subjects::ROUTED_SCAN, &routed).unwrap();
    assert_eq!(
        direct::<RoutedScan>(subjects::ROUTED_SCAN, &bytes).unwrap(),
        routed
    );
}

/// So does a restore, and each state is encoded the direct way: every state
/// type, from the changelog fuzz seeds (JSON).
#[test]
fn states_decode_directly() {
    fn check<T: serde::Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
        subject: &str,
        json_entry: &[u8],
    ) {
        let state: T = serde_json::from_slice(&json_entry[1..]).unwrap();
        let bytes = Codec::default().encode(subject, &state).unwrap();
        assert_eq!(direct::<T>(subject, &bytes).unwrap(), state, "{subject}");
        let catalog = crate::SchemaCatalog::builtin();
        let plan = catalog.plan(catalog.id_of(subject).unwrap()).unwrap();
        let mut direct_bytes = bytes[..crate::HEADER_LEN].to_vec();
        super::encode::write(plan.inlined.as_ref().unwrap(), &state, &mut direct_bytes)
            .expect("encoded directly, not the general way");
        assert_eq!(direct_bytes, bytes, "{subject}");
    }
    macro_rules! seed {
        ($name:literal) => {
            include_bytes!(concat!("../../../../fuzz/corpus/changelog/", $name))
        };
    }
    check::<wismo_core::tracker::OrderState>(
        subjects::ORDER_STATE,
        seed!("order_state-o-1003.bin"),
    );
    check::<wismo_core::matcher::TrackingState>(
        subjects::TRACKING_STATE,
        seed!("tracking_state-held.bin"),
    );
    check::<wismo_core::dispatch::RecipientHold>(
        subjects::RECIPIENT_HOLD,
        seed!("recipient_hold.bin"),
    );
}

#[test]
fn what_the_check_refuses_is_refused() {
    let codec = Codec::default();
    let bytes = codec.encode(subjects::CARRIER_SCAN, &scan()).unwrap();
    for cut in 5..bytes.len() {
        assert!(direct::<CarrierScan>(subjects::CARRIER_SCAN, &bytes[..cut]).is_err());
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(direct::<CarrierScan>(subjects::CARRIER_SCAN, &longer).is_err());
}

/// Arrays and maps in several blocks, one of them with a negative count and its
/// byte size (as other Avro writers may send them), read as apache-avro reads them.
#[test]
fn arrays_and_maps_in_several_blocks() {
    let schema = Schema::parse_str(
        r#"{"type": "record", "name": "R", "fields": [
            {"name": "xs", "type": {"type": "array", "items": "long"}},
            {"name": "m", "type": {"type": "map", "values": "int"}}
        ]}"#,
    )
    .unwrap();
    fn zigzag(v: i64) -> u8 {
        u8::try_from((v << 1) ^ (v >> 63)).unwrap()
    }
    let body = [
        // xs: a block of 2, a block of -1 (1 item, 1 byte), the end.
        zigzag(2),
        zigzag(5),
        zigzag(6),
        zigzag(-1),
        zigzag(1),
        zigzag(7),
        0,
        // m: a block of 1, a block of 1, the end.
        zigzag(1),
        zigzag(1),
        b'a',
        zigzag(1),
        zigzag(1),
        zigzag(1),
        b'b',
        zigzag(2),
        0,
    ];
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct R {
        xs: Vec<i64>,
        m: std::collections::BTreeMap<String, i32>,
    }
    let expected = R {
        xs: vec![5, 6, 7],
        m: [("a".to_string(), 1), ("b".to_string(), 2)].into(),
    };
    assert_eq!(from_slice::<R>(&schema, &body).unwrap(), expected);
    let value = apache_avro::from_avro_datum(&schema, &mut &body[..], None).unwrap();
    assert_eq!(apache_avro::from_value::<R>(&value).unwrap(), expected);
}
