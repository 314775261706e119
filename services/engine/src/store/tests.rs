//! The store's own bookkeeping; the engine's tests and the simulation show it
//! decides the same with states decoded or kept as bytes.
use super::*;
use chrono::TimeZone;

fn t(s: i64) -> Timestamp {
    chrono::Utc.timestamp_opt(s, 0).unwrap()
}

fn enc(v: &u32) -> Result<(Vec<u8>, usize), ()> {
    Ok((v.to_string().into_bytes(), 0))
}

#[test]
fn reindexes_and_deletes() {
    let mut p: StateStore<u32> = StateStore::default();
    p.put("a".into(), Some(1), Some(t(10)));
    p.put("b".into(), Some(2), Some(t(5)));
    assert_eq!(p.first_timer(), Some((t(5), "b")));
    p.put("b".into(), Some(3), Some(t(20)));
    assert_eq!(p.first_timer(), Some((t(10), "a")));
    p.put("a".into(), None, None);
    assert_eq!(p.len(), 1);
    assert_eq!(p.next_deadline(), Some(t(20)));
    assert_eq!(p.timer_count(), 1);
}

#[test]
fn only_changed_encodings_and_tombstones_are_written() {
    let mut p: StateStore<u32> = StateStore::default();
    p.restore("kept".into(), 7, None, b"7", true);
    p.restore("gone".into(), 8, None, b"8", true);
    p.put("new".into(), Some(1), None);
    let v = p.take("kept").unwrap().unwrap();
    p.put("kept".into(), Some(v), None);
    p.put("gone".into(), None, None);
    assert_eq!(
        p.drain_changes(enc).unwrap(),
        vec![("new".into(), Some(b"1".to_vec())), ("gone".into(), None)]
    );
    assert!(!p.has_changes());
    p.put("new".into(), Some(1), None);
    assert!(
        p.drain_changes(enc).unwrap().is_empty(),
        "unchanged: nothing to write"
    );
    p.put("never-written".into(), Some(3), None);
    p.put("never-written".into(), None, None);
    assert!(
        p.drain_changes(enc).unwrap().is_empty(),
        "no tombstone for what was never written"
    );
}

#[test]
fn a_key_deleted_and_put_back_is_written_once_with_its_last_state() {
    let mut p: StateStore<u32> = StateStore::default();
    p.restore("k".into(), 1, None, b"1", true);
    p.put("k".into(), Some(2), None);
    p.put("k".into(), None, None);
    p.put("k".into(), Some(3), None);
    assert_eq!(
        p.drain_changes(enc).unwrap(),
        vec![("k".into(), Some(b"3".to_vec()))]
    );
    assert!(!p.has_changes());
}

/// Keys sharing a deadline fire in key order, whatever order they were armed in,
/// so a restored task fires them as its first life did (and a cap that holds
/// some of them holds the same ones).
#[test]
fn timers_of_one_deadline_fire_in_key_order_however_they_were_armed() {
    let keys = [
        "order-000017",
        "order-000003",
        "order-000042",
        "order-000005",
    ];
    let fired = |order: &[&str]| {
        let mut p: StateStore<u32> = StateStore::default();
        for k in order {
            p.put(k.to_string(), Some(0), Some(t(100)));
        }
        let mut fired = Vec::new();
        while let Some((at, key)) = p.first_timer() {
            assert_eq!(at, t(100));
            let key = key.to_string();
            p.put(key.clone(), Some(1), None);
            fired.push(key);
        }
        fired
    };
    let mut sorted = keys.map(String::from).to_vec();
    sorted.sort();
    assert_eq!(fired(&keys), sorted);
    let mut reversed = keys;
    reversed.reverse();
    assert_eq!(fired(&reversed), sorted);
}

fn dec(b: &[u8]) -> Result<u32, String> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{b:?} is not a number"))
}

fn bytes_of(v: &u32) -> Result<Vec<u8>, ()> {
    Ok(v.to_string().into_bytes())
}

fn flush(p: &mut StateStore<u32>) -> (Vec<Change>, usize) {
    let changes = p.drain_changes(enc).unwrap();
    (changes, p.evict(bytes_of).unwrap())
}

#[test]
fn past_the_limit_the_states_taken_least_recently_are_kept_as_bytes() {
    let mut p = StateStore::bounded(2, dec);
    for (k, v) in [("a", 1), ("b", 2), ("c", 3)] {
        p.put(k.into(), Some(v), Some(t(v.into())));
    }
    assert_eq!(
        p.decoded_len(),
        3,
        "a commit's states stay decoded until it flushes"
    );
    // `a` is taken again before the flush: the clock passes it over once.
    let a = p.take("a").unwrap();
    p.put("a".into(), a, Some(t(1)));
    let (written, stored) = flush(&mut p);
    assert_eq!(written.len(), 3);
    assert_eq!((stored, p.decoded_len(), p.len()), (1, 2, 3));
    assert_eq!(p.with("b", |v| *v).unwrap(), Some(2), "read without taking");
    assert_eq!(p.decoded_len(), 2);
    assert_eq!(p.first_timer(), Some((t(1), "a")), "timers stay indexed");
    // Taken back as it was: decoded, and not written again (same bytes).
    for k in ["a", "b", "c"] {
        let v = p.take(k).unwrap();
        assert!(v.is_some(), "{k} is held");
        p.put(k.into(), v, None);
    }
    assert_eq!(p.decoded_len(), 3);
    let (written, stored) = flush(&mut p);
    assert!(written.is_empty(), "unchanged states: {written:?}");
    assert_eq!((stored, p.decoded_len()), (1, 2));
}

#[test]
fn a_restored_state_is_kept_as_its_bytes_until_a_decision_takes_it() {
    let mut p = StateStore::bounded(10, dec);
    p.restore("k".into(), 7, Some(t(5)), b"7", true);
    p.restore("json".into(), 8, None, b"{8}", false);
    assert_eq!(
        (p.len(), p.decoded_len()),
        (2, 1),
        "only what `dec` reads is kept as bytes"
    );
    assert_eq!(p.take("k").unwrap(), Some(7));
    p.put("k".into(), Some(7), Some(t(5)));
    assert!(
        flush(&mut p).0.is_empty(),
        "the restored bytes are the state's"
    );
    p.restore("bad".into(), 9, None, b"x", true);
    let err = p.take("bad").unwrap_err();
    assert_eq!(err.key, "bad");
    assert!(p.with("bad", |v| *v).is_err(), "kept, not lost");
}

#[test]
fn deleted_keys_leave_the_count_of_decoded_states() {
    let mut p = StateStore::bounded(1, dec);
    for round in 0..3_000u32 {
        let key = format!("k{round}");
        p.put(key.clone(), Some(round), None);
        if round % 2 == 0 {
            p.put(key, None, None);
        }
        flush(&mut p);
    }
    assert_eq!(p.decoded_len(), 1);
    assert_eq!(p.len(), 1_500);
    for round in (1..3_000u32).step_by(2) {
        assert_eq!(p.take(&format!("k{round}")).unwrap(), Some(round));
    }
}
