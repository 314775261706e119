//! Level 1 ([`Status`]) and level 2 ([`SubStatus`]) of the canonical taxonomy.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Level 1: where the parcel is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    InfoReceived,
    InTransit,
    OutForDelivery,
    AvailableForPickup,
    AttemptFail,
    Delivered,
    Exception,
    ReturningToSender,
    ReturnedToSender,
    Expired,
    Unknown,
}

impl Status {
    pub const ALL: [Status; 12] = [
        Status::Pending,
        Status::InfoReceived,
        Status::InTransit,
        Status::OutForDelivery,
        Status::AvailableForPickup,
        Status::AttemptFail,
        Status::Delivered,
        Status::Exception,
        Status::ReturningToSender,
        Status::ReturnedToSender,
        Status::Expired,
        Status::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::InfoReceived => "info_received",
            Status::InTransit => "in_transit",
            Status::OutForDelivery => "out_for_delivery",
            Status::AvailableForPickup => "available_for_pickup",
            Status::AttemptFail => "attempt_fail",
            Status::Delivered => "delivered",
            Status::Exception => "exception",
            Status::ReturningToSender => "returning_to_sender",
            Status::ReturnedToSender => "returned_to_sender",
            Status::Expired => "expired",
            Status::Unknown => "unknown",
        }
    }

    /// Tie-break between two scans with the same timestamp: the one further along
    /// the parcel's life wins. `unknown` never outranks a known status.
    pub fn precedence(self) -> u8 {
        match self {
            Status::Unknown => 0,
            Status::Pending => 1,
            Status::InfoReceived => 2,
            Status::InTransit => 3,
            Status::OutForDelivery => 4,
            Status::AttemptFail => 5,
            Status::AvailableForPickup => 6,
            Status::Exception => 7,
            Status::Delivered => 8,
            Status::ReturningToSender => 9,
            Status::ReturnedToSender => 10,
            Status::Expired => 11,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a canonical status"))
    }
}

/// Level 2: the reason or detail behind a status. At least as fine as AfterShip's
/// subtags; [`SubStatus::customer_action_required`] marks those the customer can fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubStatus {
    // Catch-all detail for a status with no finer information.
    Generic,
    // info_received
    LabelCreated,
    // in_transit
    PickedUp,
    DepartedFacility,
    ArrivedAtFacility,
    ArrivedInDestinationCountry,
    CustomsClearance,
    CustomsReleased,
    Forwarded,
    Rescheduled,
    Missorted,
    Delayed,
    // out_for_delivery
    OnVehicle,
    // available_for_pickup
    AwaitingPickup,
    // attempt_fail
    RecipientNotAvailable,
    BusinessClosed,
    NoSecureLocation,
    AccessProblem,
    // delivered
    DeliveredToRecipient,
    DeliveredToNeighbour,
    DeliveredToSafePlace,
    DeliveredToLocker,
    PickedUpByCustomer,
    // exception
    AddressIssue,
    CustomsHold,
    DutiesDue,
    IdRequired,
    Weather,
    Damaged,
    Lost,
    Refused,
    HeldByCarrier,
    HeldAtCustomerRequest,
    DeliveryDelayed,
    /// The label was voided or the shipment cancelled before it moved.
    ShipmentCancelled,
    // returning_to_sender / returned_to_sender
    ReturnInitiated,
    ReturnedToShipper,
    // unknown
    Unmapped,
}

impl SubStatus {
    pub const ALL: [SubStatus; 38] = [
        SubStatus::Generic,
        SubStatus::LabelCreated,
        SubStatus::PickedUp,
        SubStatus::DepartedFacility,
        SubStatus::ArrivedAtFacility,
        SubStatus::ArrivedInDestinationCountry,
        SubStatus::CustomsClearance,
        SubStatus::CustomsReleased,
        SubStatus::Forwarded,
        SubStatus::Rescheduled,
        SubStatus::Missorted,
        SubStatus::Delayed,
        SubStatus::OnVehicle,
        SubStatus::AwaitingPickup,
        SubStatus::RecipientNotAvailable,
        SubStatus::BusinessClosed,
        SubStatus::NoSecureLocation,
        SubStatus::AccessProblem,
        SubStatus::DeliveredToRecipient,
        SubStatus::DeliveredToNeighbour,
        SubStatus::DeliveredToSafePlace,
        SubStatus::DeliveredToLocker,
        SubStatus::PickedUpByCustomer,
        SubStatus::AddressIssue,
        SubStatus::CustomsHold,
        SubStatus::DutiesDue,
        SubStatus::IdRequired,
        SubStatus::Weather,
        SubStatus::Damaged,
        SubStatus::Lost,
        SubStatus::Refused,
        SubStatus::HeldByCarrier,
        SubStatus::HeldAtCustomerRequest,
        SubStatus::DeliveryDelayed,
        SubStatus::ShipmentCancelled,
        SubStatus::ReturnInitiated,
        SubStatus::ReturnedToShipper,
        SubStatus::Unmapped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubStatus::Generic => "generic",
            SubStatus::LabelCreated => "label_created",
            SubStatus::PickedUp => "picked_up",
            SubStatus::DepartedFacility => "departed_facility",
            SubStatus::ArrivedAtFacility => "arrived_at_facility",
            SubStatus::ArrivedInDestinationCountry => "arrived_in_destination_country",
            SubStatus::CustomsClearance => "customs_clearance",
            SubStatus::CustomsReleased => "customs_released",
            SubStatus::Forwarded => "forwarded",
            SubStatus::Rescheduled => "rescheduled",
            SubStatus::Missorted => "missorted",
            SubStatus::Delayed => "delayed",
            SubStatus::OnVehicle => "on_vehicle",
            SubStatus::AwaitingPickup => "awaiting_pickup",
            SubStatus::RecipientNotAvailable => "recipient_not_available",
            SubStatus::BusinessClosed => "business_closed",
            SubStatus::NoSecureLocation => "no_secure_location",
            SubStatus::AccessProblem => "access_problem",
            SubStatus::DeliveredToRecipient => "delivered_to_recipient",
            SubStatus::DeliveredToNeighbour => "delivered_to_neighbour",
            SubStatus::DeliveredToSafePlace => "delivered_to_safe_place",
            SubStatus::DeliveredToLocker => "delivered_to_locker",
            SubStatus::PickedUpByCustomer => "picked_up_by_customer",
            SubStatus::AddressIssue => "address_issue",
            SubStatus::CustomsHold => "customs_hold",
            SubStatus::DutiesDue => "duties_due",
            SubStatus::IdRequired => "id_required",
            SubStatus::Weather => "weather",
            SubStatus::Damaged => "damaged",
            SubStatus::Lost => "lost",
            SubStatus::Refused => "refused",
            SubStatus::HeldByCarrier => "held_by_carrier",
            SubStatus::HeldAtCustomerRequest => "held_at_customer_request",
            SubStatus::DeliveryDelayed => "delivery_delayed",
            SubStatus::ShipmentCancelled => "shipment_cancelled",
            SubStatus::ReturnInitiated => "return_initiated",
            SubStatus::ReturnedToShipper => "returned_to_shipper",
            SubStatus::Unmapped => "unmapped",
        }
    }

    /// True where the customer must do something (fix an address, pay duties, show
    /// ID, collect a parcel, rebook a delivery) for the parcel to arrive.
    pub fn customer_action_required(self) -> bool {
        matches!(
            self,
            SubStatus::AddressIssue
                | SubStatus::DutiesDue
                | SubStatus::IdRequired
                | SubStatus::AwaitingPickup
                | SubStatus::RecipientNotAvailable
                | SubStatus::NoSecureLocation
                | SubStatus::AccessProblem
        )
    }
}

impl fmt::Display for SubStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SubStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SubStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a canonical sub-status"))
    }
}
