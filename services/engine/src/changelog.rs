//! How state is written to the changelog: one byte naming the format, then how
//! far the task had decided when it wrote the entry, then the state. An entry in a
//! format this build cannot read stops its partition with the topic, partition and
//! offset, never silently.
//!
//! The position is there for at-least-once: the changelog is written before the
//! input offsets are committed, so after a crash between the two a key's state
//! already holds decisions the task makes again. Restored with its position, the
//! engine knows which inputs that state has seen and does not decide them twice.

use serde::{de::DeserializeOwned, Serialize};

/// Format 1: the state as JSON.
const JSON: u8 = 1;
/// Format 2: the position, then the state as JSON.
const POSITIONED: u8 = 2;
/// Bytes of one mark: input, writer (`u32::MAX`: none), offset.
const MARK_BYTES: usize = 1 + 4 + 8;

/// How far a task had decided: the last offset decided of each input, and of
/// each writer on an internal input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    marks: Vec<Mark>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub input: u8,
    pub writer: Option<u32>,
    pub offset: i64,
}

impl Position {
    pub fn new(marks: Vec<Mark>) -> Self {
        Position { marks }
    }

    /// Whether the record at `offset` of this input (and writer) was decided.
    pub fn covers(&self, input: usize, writer: Option<u32>, offset: i64) -> bool {
        self.marks
            .iter()
            .any(|m| usize::from(m.input) == input && m.writer == writer && offset <= m.offset)
    }

    /// Whether it holds decisions `committed` does not.
    pub fn beyond(&self, committed: &Position) -> bool {
        self.marks
            .iter()
            .any(|m| !committed.covers(usize::from(m.input), m.writer, m.offset))
    }

    fn write(&self, out: &mut Vec<u8>) {
        let n = u16::try_from(self.marks.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&n.to_le_bytes());
        for m in self.marks.iter().take(usize::from(n)) {
            out.push(m.input);
            out.extend_from_slice(&m.writer.unwrap_or(u32::MAX).to_le_bytes());
            out.extend_from_slice(&m.offset.to_le_bytes());
        }
    }

    /// The position at the start of `bytes`, and what follows it.
    fn read(bytes: &[u8]) -> Option<(Position, &[u8])> {
        let n = usize::from(u16::from_le_bytes(bytes.get(..2)?.try_into().ok()?));
        let end = 2 + n.checked_mul(MARK_BYTES)?;
        let body = bytes.get(2..end)?;
        let marks = body
            .chunks_exact(MARK_BYTES)
            .map(|c| {
                let writer = u32::from_le_bytes([c[1], c[2], c[3], c[4]]);
                let mut offset = [0u8; 8];
                offset.copy_from_slice(&c[5..13]);
                Mark {
                    input: c[0],
                    writer: (writer != u32::MAX).then_some(writer),
                    offset: i64::from_le_bytes(offset),
                }
            })
            .collect();
        Some((Position { marks }, &bytes[end..]))
    }
}

/// The state's own bytes, as an entry carries them (what tells a changed state).
pub fn encode_state<S: Serialize>(state: &S) -> Vec<u8> {
    // Serialising wismo's own state types cannot fail (string keys, no non-finite
    // floats); an empty state would show up as a decode error on restore.
    serde_json::to_vec(state).unwrap_or_default()
}

/// An entry: the position, then the state's bytes ([`encode_state`]).
pub fn entry(position: &Position, state: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + position.marks.len() * MARK_BYTES + state.len());
    out.push(POSITIONED);
    position.write(&mut out);
    out.extend_from_slice(state);
    out
}

/// A decoded entry: the state, its position (none in format 1), and the state's
/// own bytes.
pub struct Entry<'a, S> {
    pub state: S,
    pub position: Option<Position>,
    pub state_bytes: &'a [u8],
}

/// Why a changelog entry cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum StateDecodeError {
    #[error("changelog entry {topic}/{partition} offset {offset} is empty")]
    Empty {
        topic: String,
        partition: i32,
        offset: i64,
    },
    #[error("changelog entry {topic}/{partition} offset {offset} has state format {format}, which this version of wismo cannot read")]
    UnknownFormat {
        topic: String,
        partition: i32,
        offset: i64,
        format: u8,
    },
    #[error("changelog entry {topic}/{partition} offset {offset} does not decode: {reason}")]
    Corrupt {
        topic: String,
        partition: i32,
        offset: i64,
        reason: String,
    },
}

pub fn encode<S: Serialize>(state: &S) -> Vec<u8> {
    let mut out = vec![JSON];
    // Serialising wismo's own state types cannot fail (string keys, no non-finite
    // floats); an empty entry would show up as a decode error on restore.
    if serde_json::to_writer(&mut out, state).is_err() {
        out.truncate(1);
    }
    out
}

pub fn decode<S: DeserializeOwned>(
    bytes: &[u8],
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<S, StateDecodeError> {
    decode_entry(bytes, topic, partition, offset).map(|e| e.state)
}

pub fn decode_entry<'a, S: DeserializeOwned>(
    bytes: &'a [u8],
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<Entry<'a, S>, StateDecodeError> {
    let Some((&format, body)) = bytes.split_first() else {
        return Err(StateDecodeError::Empty {
            topic: topic.to_string(),
            partition,
            offset,
        });
    };
    let corrupt = |reason: String| StateDecodeError::Corrupt {
        topic: topic.to_string(),
        partition,
        offset,
        reason,
    };
    let (position, state_bytes) = match format {
        JSON => (None, body),
        POSITIONED => {
            let (position, rest) = Position::read(body)
                .ok_or_else(|| corrupt("the position is cut short".to_string()))?;
            (Some(position), rest)
        }
        _ => {
            return Err(StateDecodeError::UnknownFormat {
                topic: topic.to_string(),
                partition,
                offset,
                format,
            })
        }
    };
    let state = serde_json::from_slice(state_bytes).map_err(|e| corrupt(e.to_string()))?;
    Ok(Entry {
        state,
        position,
        state_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_entries_round_trip_and_others_name_their_position() {
        let bytes = encode(&vec![1u32, 2]);
        assert_eq!(bytes[0], JSON);
        assert_eq!(decode::<Vec<u32>>(&bytes, "c", 0, 1).unwrap(), vec![1, 2]);
        let e = decode::<Vec<u32>>(b"{\"old\":1}", "c", 3, 9).unwrap_err();
        assert!(e.to_string().contains("c/3 offset 9"), "{e}");
        assert!(matches!(
            e,
            StateDecodeError::UnknownFormat { format: b'{', .. }
        ));
        assert!(matches!(
            decode::<Vec<u32>>(&[JSON, b'x'], "c", 0, 0),
            Err(StateDecodeError::Corrupt { .. })
        ));
        assert!(matches!(
            decode::<Vec<u32>>(&[], "c", 0, 0),
            Err(StateDecodeError::Empty { .. })
        ));
    }

    #[test]
    fn an_entry_carries_how_far_its_task_had_decided() {
        let position = Position::new(vec![
            Mark {
                input: 0,
                writer: None,
                offset: 41,
            },
            Mark {
                input: 1,
                writer: Some(2),
                offset: 7,
            },
        ]);
        let state = encode_state(&vec![3u32]);
        let bytes = entry(&position, &state);
        let e = decode_entry::<Vec<u32>>(&bytes, "c", 0, 0).unwrap();
        assert_eq!(e.state, vec![3]);
        assert_eq!(e.position.as_ref(), Some(&position));
        assert_eq!(e.state_bytes, state.as_slice());
        assert!(position.covers(0, None, 41) && !position.covers(0, None, 42));
        assert!(position.covers(1, Some(2), 7) && !position.covers(1, Some(1), 7));
        let committed = Position::new(vec![Mark {
            input: 0,
            writer: None,
            offset: 41,
        }]);
        assert!(position.beyond(&committed), "writer 2 was decided further");
        assert!(!committed.beyond(&position));
        assert!(matches!(
            decode::<Vec<u32>>(&bytes[..4], "c", 0, 0),
            Err(StateDecodeError::Corrupt { .. })
        ));
    }
}
