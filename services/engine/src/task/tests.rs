use super::*;
use crate::record::Record;
use chrono::TimeZone;
use std::sync::Arc;

fn rec(topic: &str, offset: i64, ts: i64) -> Record {
    Record {
        topic: Arc::from(topic),
        partition: 0,
        offset,
        timestamp: ts,
        key: Some(b"k".to_vec()),
        value: Some(format!("{topic}{offset}").into_bytes()),
        source: None,
        watermark: None,
    }
}

fn task(inputs: usize) -> Task<u32> {
    Task {
        id: TaskId {
            group: 0,
            partition: 0,
        },
        partitions: (0..inputs)
            .map(|i| TopicPartition::new(format!("in{i}"), 0))
            .collect(),
        queues: (0..inputs)
            .map(|i| InputQueue::new(i, false, 0, 100, None))
            .collect(),
        store: Some(StateStore::default()),
        source: Source { task: 0, of: 1 },
        stream_time: i64::MIN,
        floor: i64::MIN,
        sent_watermark: i64::MIN,
        watermark_sent_at: 0,
        breaker: Default::default(),
        ahead: Default::default(),
    }
}

const CLOCK: Clockwork = Clockwork {
    wall: 1_000_000,
    idle: 250,
    upstream_timeout: None,
};

#[test]
fn the_earliest_head_goes_first_and_an_input_that_is_behind_is_waited_for() {
    let mut t = task(2);
    t.queues[0].push(rec("a", 0, 200), 0);
    t.queues[0].push(rec("a", 1, 400), 0);
    // Input 1 has told nothing yet: it may still hold something earlier.
    assert_eq!(t.next(&CLOCK), Next::Wait);
    t.queues[1].push(rec("b", 0, 300), 0);
    assert_eq!(t.next(&CLOCK), Next::Record(0));
    assert_eq!(t.pop(0).map(|r| r.timestamp), Some(200));
    assert_eq!(t.next(&CLOCK), Next::Record(1));
    assert_eq!(t.pop(1).map(|r| r.timestamp), Some(300));
    // Input 1 is empty and not known to be at its end: wait, although 400 is there.
    assert_eq!(t.next(&CLOCK), Next::Wait);
    t.queues[1].at_end = true;
    assert_eq!(t.next(&CLOCK), Next::Record(0));
}

#[test]
fn an_idle_input_holds_others_back_only_for_the_idle_time() {
    let mut t = task(2);
    t.queues[1].at_end = true;
    t.queues[0].push(rec("a", 0, CLOCK.wall - 100), 0);
    assert_eq!(t.next(&CLOCK), Next::Wait);
    let later = Clockwork {
        wall: CLOCK.wall + 150,
        ..CLOCK
    };
    assert_eq!(t.next(&later), Next::Record(0));
    assert_eq!(t.wake_at(&CLOCK), Some(CLOCK.wall + 150));
}

#[test]
fn timers_fire_at_their_deadline_before_later_records_and_not_past_the_frontier() {
    let mut t = task(1);
    let at = |ms| chrono::Utc.timestamp_millis_opt(ms).unwrap();
    t.store
        .as_mut()
        .unwrap()
        .put("x".into(), Some(1), Some(at(500)));
    t.queues[0].push(rec("a", 0, 700), 0);
    assert_eq!(t.next(&CLOCK), Next::Timer(at(500), "x".into()));
    t.store
        .as_mut()
        .unwrap()
        .put("x".into(), Some(1), Some(at(700)));
    // Same instant: the timer first.
    assert_eq!(t.next(&CLOCK), Next::Timer(at(700), "x".into()));
    t.store
        .as_mut()
        .unwrap()
        .put("x".into(), Some(1), Some(at(900)));
    assert_eq!(t.next(&CLOCK), Next::Record(0));
    t.pop(0);
    // Input empty and behind: the timer at 900 waits.
    assert_eq!(t.next(&CLOCK), Next::Wait);
    t.queues[0].at_end = true;
    assert_eq!(t.next(&CLOCK), Next::Timer(at(900), "x".into()));
}

#[test]
fn stamps_never_go_back_and_the_watermark_never_passes_what_is_pending() {
    let mut t = task(1);
    assert_eq!(t.stamp(500), 500);
    assert_eq!(t.stamp(300), 500, "a late decision is stamped at the floor");
    t.queues[0].push(rec("a", 0, 800), 0);
    assert_eq!(t.output_watermark(&CLOCK), 800);
    t.pop(0);
    t.queues[0].at_end = true;
    assert_eq!(t.output_watermark(&CLOCK), CLOCK.wall - 250);
    let at = chrono::Utc.timestamp_millis_opt(2_000).unwrap();
    t.store.as_mut().unwrap().put("x".into(), Some(1), Some(at));
    assert_eq!(t.output_watermark(&CLOCK), 2_000);
}
