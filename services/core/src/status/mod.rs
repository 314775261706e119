//! Canonical shipment status: a two-level taxonomy plus the carrier's raw code, and
//! the data-driven tables that map carriers' codes onto it.

mod mapper;
mod taxonomy;

pub use mapper::{MappingError, Normalized, StatusMapper};
pub use taxonomy::{Status, SubStatus};
