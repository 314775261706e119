//! Scenario and property tests: orders and scans through the real scan-matcher,
//! order-tracker and dispatcher, each on the engine, over `replay`'s in-memory log
//! and virtual clock; the commands they publish are the assertions.

mod common;

mod caps;
mod delays;
mod episodes;
mod holidays;
mod hostile_times;
mod milestones;
mod ordering_properties;
mod returns;
mod review_moments;
mod reviews;
mod unmapped_timers;
