//! The ground truth: what really happens to each parcel, drawn from a seeded
//! generator, and the world it happens in (regions, carriers, lanes).

use chrono_tz::Tz;

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    /// An independent stream for one item (an order), so items do not shift each other.
    pub fn fork(seed: u64, item: u64) -> Self {
        let mut r = Rng::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ item);
        r.next();
        r
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.next() % 1000 < per_mille
    }

    /// An index drawn by weight.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = (self.next() % u64::from(total.max(1))) as u32;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// What really happens to a parcel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Truth {
    /// Delivered by the promised date.
    OnTime,
    /// Delivered this many business days after the promised date.
    LateBy(u8),
    /// Label created, then not collected for longer than the rule allows.
    StuckAtPickup,
    /// Silent in transit for longer than the rule allows, then moving again.
    StuckInTransitRecovered,
    /// Held by customs (international lanes), then released.
    CustomsHold,
    /// Never scanned again after some transit.
    Lost,
    /// Delivered, then reported damaged.
    DeliveredThenException,
    /// Undeliverable: returned to the sender.
    Returned,
    /// The recipient refused it at the door; returned to the sender.
    Refused,
}

impl Truth {
    /// Something went wrong that the customer should hear an apology for.
    pub fn wants_apology(self) -> bool {
        !matches!(self, Truth::OnTime | Truth::Returned | Truth::Refused)
    }

    /// The order's trouble is never resolved by a delivery to the customer: no
    /// review request may follow.
    pub fn rules_out_review(self) -> bool {
        matches!(
            self,
            Truth::Lost | Truth::Returned | Truth::Refused | Truth::DeliveredThenException
        )
    }

    pub fn name(self) -> String {
        match self {
            Truth::OnTime => "on time".into(),
            Truth::LateBy(k) => format!("late by {k} day{}", if k == 1 { "" } else { "s" }),
            Truth::StuckAtPickup => "stuck at pickup".into(),
            Truth::StuckInTransitRecovered => "stuck in transit, recovered".into(),
            Truth::CustomsHold => "customs hold".into(),
            Truth::Lost => "lost".into(),
            Truth::DeliveredThenException => "delivered, then damaged".into(),
            Truth::Returned => "returned to sender".into(),
            Truth::Refused => "refused".into(),
        }
    }

    /// Draws a parcel's truth; `international` lanes can be held by customs.
    pub fn draw(rng: &mut Rng, international: bool, codes: &Codes) -> Truth {
        // Per mille: on time 850, late 60, stuck at pickup 15, stuck in transit 20,
        // customs 10, lost 8, damaged after delivery 7, returned 20, refused 10.
        let t = match rng.weighted(&[850, 60, 15, 20, 10, 8, 7, 20, 10]) {
            0 => Truth::OnTime,
            1 => Truth::LateBy(rng.range(1, 4) as u8),
            2 => Truth::StuckAtPickup,
            3 => Truth::StuckInTransitRecovered,
            4 => Truth::CustomsHold,
            5 => Truth::Lost,
            6 => Truth::DeliveredThenException,
            7 => Truth::Returned,
            _ => Truth::Refused,
        };
        match t {
            Truth::CustomsHold if !international => Truth::LateBy(2),
            Truth::DeliveredThenException if codes.damaged.is_none() => Truth::LateBy(1),
            Truth::Refused if codes.refused.is_none() => Truth::Returned,
            t => t,
        }
    }
}

/// Where customers live: timezone, country, share of orders.
pub struct Region {
    pub timezone: Tz,
    pub country: &'static str,
    pub weight: u32,
}

/// Ten-plus zones, three with half-hour offsets (St John's, Kolkata, Adelaide); the
/// month crosses Europe's (25 Oct) and North America's (1 Nov) DST changes.
pub const REGIONS: &[Region] = &[
    Region {
        timezone: chrono_tz::America::New_York,
        country: "US",
        weight: 180,
    },
    Region {
        timezone: chrono_tz::America::Chicago,
        country: "US",
        weight: 120,
    },
    Region {
        timezone: chrono_tz::America::Denver,
        country: "US",
        weight: 50,
    },
    Region {
        timezone: chrono_tz::America::Phoenix,
        country: "US",
        weight: 30,
    },
    Region {
        timezone: chrono_tz::America::Los_Angeles,
        country: "US",
        weight: 120,
    },
    Region {
        timezone: chrono_tz::America::Toronto,
        country: "CA",
        weight: 40,
    },
    Region {
        timezone: chrono_tz::America::St_Johns,
        country: "CA",
        weight: 10,
    },
    Region {
        timezone: chrono_tz::Europe::London,
        country: "GB",
        weight: 80,
    },
    Region {
        timezone: chrono_tz::Europe::Berlin,
        country: "DE",
        weight: 80,
    },
    Region {
        timezone: chrono_tz::Europe::Paris,
        country: "FR",
        weight: 60,
    },
    Region {
        timezone: chrono_tz::Asia::Kolkata,
        country: "IN",
        weight: 40,
    },
    Region {
        timezone: chrono_tz::Australia::Adelaide,
        country: "AU",
        weight: 30,
    },
    Region {
        timezone: chrono_tz::Asia::Tokyo,
        country: "JP",
        weight: 40,
    },
];

/// A carrier's codes for each step of a parcel's life (from its mapping table).
pub struct Codes {
    pub carrier: &'static str,
    pub label: &'static str,
    pub pickup: &'static str,
    pub transit: [&'static str; 2],
    pub out_for_delivery: &'static str,
    pub delivered: &'static str,
    pub customs: &'static str,
    pub returning: &'static str,
    /// `None` where the carrier's table has no code for it.
    pub refused: Option<&'static str>,
    pub damaged: Option<&'static str>,
    /// A code the carrier sends that its table does not know.
    pub unknown: &'static str,
}

pub const UPS: Codes = Codes {
    carrier: "ups",
    label: "MP",
    pickup: "PU",
    transit: ["AR", "DP"],
    out_for_delivery: "OF",
    delivered: "D",
    customs: "X",
    returning: "6C",
    refused: Some("KR"),
    damaged: None,
    unknown: "ZQ",
};
pub const FEDEX: Codes = Codes {
    carrier: "fedex",
    label: "OC",
    pickup: "PU",
    transit: ["AR", "DP"],
    out_for_delivery: "OD",
    delivered: "DL",
    customs: "CD",
    returning: "RS",
    refused: None,
    damaged: None,
    unknown: "ZZ",
};
pub const USPS: Codes = Codes {
    carrier: "usps",
    label: "GX",
    pickup: "03",
    transit: ["10", "EF"],
    out_for_delivery: "OF",
    delivered: "01",
    customs: "CD",
    returning: "21",
    refused: Some("04"),
    damaged: Some("12"),
    unknown: "Z9",
};
pub const DHL: Codes = Codes {
    carrier: "dhl",
    label: "pre-transit",
    pickup: "PU",
    transit: ["AF", "DF"],
    out_for_delivery: "WC",
    delivered: "OK",
    customs: "CD",
    returning: "RT",
    refused: Some("RD"),
    damaged: None,
    unknown: "XX",
};
/// A national post or courier with no table of its own: the generic codes.
pub const POST: Codes = Codes {
    carrier: "post",
    label: "label_created",
    pickup: "picked_up",
    transit: ["arrived_at_facility", "departed_facility"],
    out_for_delivery: "out_for_delivery",
    delivered: "delivered",
    customs: "customs_hold",
    returning: "return_to_sender",
    refused: Some("refused"),
    damaged: Some("damaged"),
    unknown: "scan_event",
};

/// How a parcel reaches a customer in `country`: carrier, origin country, and the
/// transit business days it needs.
#[derive(Clone, Copy)]
pub struct Lane {
    pub codes: &'static Codes,
    pub origin: &'static str,
    pub transit_days: (i64, i64),
}

pub fn lane(rng: &mut Rng, country: &str) -> Lane {
    let domestic = |codes, country: &'static str| Lane {
        codes,
        origin: country,
        transit_days: (1, 4),
    };
    let international = |codes, origin| Lane {
        codes,
        origin,
        transit_days: (4, 7),
    };
    match country {
        "US" => match rng.weighted(&[35, 25, 32, 8]) {
            0 => domestic(&UPS, "US"),
            1 => domestic(&FEDEX, "US"),
            2 => domestic(&USPS, "US"),
            _ => international(&POST, "CN"),
        },
        "CA" => match rng.weighted(&[75, 25]) {
            0 => domestic(&POST, "CA"),
            _ => international(&FEDEX, "US"),
        },
        "DE" => domestic(&DHL, "DE"),
        "FR" => match rng.weighted(&[50, 50]) {
            0 => domestic(&POST, "FR"),
            _ => international(&DHL, "DE"),
        },
        "GB" => domestic(&POST, "GB"),
        "IN" => domestic(&POST, "IN"),
        "AU" => domestic(&POST, "AU"),
        "JP" => domestic(&POST, "JP"),
        _ => domestic(&POST, "US"),
    }
}
