//! Hostile input through the real broker, one test per class, as a broken 3PL
//! integration sends it: records and fields at and past every limit, a storm of
//! scans for one order, times at the ends of an Avro long and of chrono, a
//! tracking number registered twice, a scan dated years ahead, an output too large
//! to produce. In each, valid records around the hostile ones are still decided,
//! every hostile record is on `dead-letter` with a short reason that quotes
//! nothing long, and no service exits.
//!
//! A decision that panics and a record that crashes the process (the crash-loop
//! breaker) are in `pipeline.rs`; the mixed flood of every class at volume is
//! `loadtest flood` (docs/reliability.md).

#[path = "hostile/limits.rs"]
mod limits;
#[path = "hostile/meaning.rs"]
mod meaning;
#[path = "hostile/outputs.rs"]
mod outputs;
#[path = "hostile/storm.rs"]
mod storm;
#[path = "hostile/support.rs"]
mod support;
#[path = "hostile/times.rs"]
mod times;
