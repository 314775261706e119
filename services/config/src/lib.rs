//! Configuration shared by the services and `replay`, so a dry run with `replay`
//! reads exactly the settings a deployment would.

mod decisions;
pub mod env;
mod limits;
pub mod policy;
mod topics;

pub use decisions::{matcher_config, tracker_config};
pub use env::{ConfigError, Env};
pub use limits::input_limits;
pub use topics::{group_prefix, Topics};
