//! The reference for what the services should decide: the same events through
//! the in-memory pipeline `replay` runs (the matcher and tracker's decision code
//! with the default settings), in arrival order, then on to a given instant.

use crate::gen;
use wismo_core::model::Timestamp;
use wismo_core::pipeline::{Emitted, Pipeline, PipelineInput};

/// What the in-memory pipeline decided.
#[derive(Debug, Default, Clone, Copy)]
pub struct Replayed {
    /// Commands decided (notifications, delay apologies, review requests),
    /// counted before the per-recipient cap, as the tracker's outbox is.
    pub commands: u64,
    pub dead_letters: u64,
}

/// Feeds `events` (sorted by arrival) and runs the clock on to `until`.
pub fn replay(mut events: Vec<(Timestamp, PipelineInput)>, until: Timestamp) -> Replayed {
    events.sort_by_key(|(at, _)| *at);
    let start = events
        .first()
        .map_or(until, |(at, _)| *at - chrono::Duration::minutes(1));
    let (matcher, tracker) = gen::configs();
    let mut pipeline = Pipeline::new(matcher, tracker, start);
    let origin = gen::origin();
    let mut replayed = Replayed::default();
    for (at, input) in events {
        pipeline.feed(at, input, origin.clone());
        count(&mut pipeline, &mut replayed);
    }
    pipeline.advance_to(until);
    count(&mut pipeline, &mut replayed);
    replayed
}

fn count(pipeline: &mut Pipeline, replayed: &mut Replayed) {
    for emitted in pipeline.drain() {
        match emitted {
            Emitted::Notification(_)
            | Emitted::DelayApology(_)
            | Emitted::ReviewRequest(_)
            | Emitted::Capped { .. } => replayed.commands += 1,
            Emitted::DeadLetter { .. } => replayed.dead_letters += 1,
            Emitted::Suppressed { .. } => {}
        }
    }
}
