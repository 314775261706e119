//! wismo's decision core.
//!
//! Every decision here is a pure function of `(state, input, now)` returning
//! `(new state, outputs)`: no I/O, no clock reads, no randomness. The services and
//! the `replay` CLI run exactly this code, so a replay reproduces a live run.

pub mod calendar;
pub mod clock;
pub mod delay;
pub mod dispatch;
pub mod hold;
pub mod ids;
pub mod matcher;
pub mod model;
pub mod policy;
pub mod quote;
pub mod status;
pub mod tracker;
pub mod wording;
