//! The earlier rule, kept reachable by policy: an apology per incident family.

use super::*;

#[test]
fn per_incident_mode_carrier_exceptions_that_wismo_apologises_for() {
    let mut inputs = vec![(0, order_promised("o1", 20))];
    for (n, code) in [
        "damaged",
        "weather_delay",
        "customs_hold",
        "address_issue",
        "lost",
    ]
    .iter()
    .enumerate()
    {
        let tracking = format!("T{n}");
        inputs.push((1, shipment("o1", &format!("s{n}"), &tracking, "generic", 1)));
        inputs.push(scan_at(&format!("x{n}"), &tracking, code, utc(3, 12, 0)));
    }
    let got = apologies(inputs, per_incident(), utc(3, 13, 0));
    let mut kinds: Vec<(DelayReason, Severity, Vec<String>)> = got
        .iter()
        .map(|a| (a.reason, a.severity, a.tracking_numbers.clone()))
        .collect();
    kinds.sort();
    // An address issue asks the customer to act (a milestone notification), not an apology.
    assert_eq!(
        kinds,
        vec![
            (
                DelayReason::Damaged,
                Severity::Severe,
                vec!["T0".to_string()]
            ),
            (DelayReason::Lost, Severity::Severe, vec!["T4".to_string()]),
            (
                DelayReason::Weather,
                Severity::Minor,
                vec!["T1".to_string()]
            ),
            (
                DelayReason::Customs,
                Severity::Moderate,
                vec!["T2".to_string()]
            ),
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    assert!(got.iter().all(|a| a.detectable_at == utc(3, 12, 0)));
}

/// The earlier rule, kept reachable by policy: an apology per incident family.
fn per_incident() -> DelayPolicy {
    DelayPolicy {
        apologies: ApologyMode::PerIncident,
        ..DelayPolicy::default()
    }
}

#[test]
fn per_incident_mode_escalation_then_presumed_lost() {
    let mut inputs = base(30);
    inputs.push(scan_at("a", "T1", "in_transit", utc(2, 15, 0)));
    let got = apologies(inputs, per_incident(), utc(10, 15, 0));
    // Stuck Thursday 09:00 Chicago; three business days later (Tuesday) still stuck;
    // seven calendar days after the last scan it is presumed lost.
    assert_eq!(
        summary(&got),
        vec![
            (
                DelayReason::StuckInTransit,
                1,
                utc(5, 15, 0),
                vec!["T1".to_string()]
            ),
            (
                DelayReason::PresumedLost,
                1,
                utc(9, 15, 0),
                vec!["T1".to_string()]
            ),
            (
                DelayReason::StuckInTransit,
                2,
                utc(10, 14, 0),
                vec!["T1".to_string()]
            ),
        ]
    );
    assert_eq!(got[0].incident_id, got[2].incident_id);
    assert_ne!(got[0].command_id, got[2].command_id);
    assert_eq!(got[2].severity, Severity::Moderate);
    assert_eq!(got[1].severity, Severity::Severe);
    assert_eq!(got[1].compensation.as_deref(), Some("discount_15_percent"));
}
