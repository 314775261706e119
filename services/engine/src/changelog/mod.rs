//! How state is written to the changelog: one byte naming the format, then how
//! far the task had decided when it wrote the entry, then the state. An entry in a
//! format this build cannot read stops its partition with the topic, partition and
//! offset, never silently.
//!
//! The state is Avro (format 3) of its subject's schema in `schemas/`, framed with
//! the schema's id as on the topics: an entry written under an older schema
//! version resolves to the current one. Formats 1 and 2 (JSON) are still read.
//!
//! The position is there for at-least-once: the changelog is written before the
//! input offsets are committed, so after a crash between the two a key's state
//! already holds decisions the task makes again. Restored with its position, the
//! engine knows which inputs that state has seen and does not decide them twice.

mod position;

pub use position::{Mark, Position};
use serde::{de::DeserializeOwned, Serialize};
use wismo_codec::{Codec, CodecError};

/// Format 1: the state as JSON.
const JSON: u8 = 1;
/// Format 2: the position, then the state as JSON.
const POSITIONED: u8 = 2;
/// Format 3: the position, then the state as framed Avro.
const AVRO: u8 = 3;

/// A state its schema cannot hold: a bug in wismo (the schema and the type
/// disagree), never caused by input. Stops the service rather than lose it.
#[derive(Debug, thiserror::Error)]
#[error("state of key {key} cannot be written to the changelog: {source}")]
pub struct StateEncodeError {
    pub key: String,
    #[source]
    pub source: CodecError,
}

/// The state's own bytes, as an entry carries them (what tells a changed state):
/// Avro of `subject`, framed with its schema id.
pub fn encode_state<S: Serialize>(subject: &str, state: &S) -> Result<Vec<u8>, CodecError> {
    Codec::default().encode(subject, state)
}

/// An entry: the position, then the state's bytes ([`encode_state`]).
pub fn entry(position: &Position, state: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + position.encoded_len() + state.len());
    out.push(AVRO);
    position.write(&mut out);
    out.extend_from_slice(state);
    out
}

/// [`entry`] of [`encode_state`], built in one buffer, and where in it the
/// state's own bytes start.
pub fn encode_entry<S: Serialize>(
    subject: &str,
    position: &Position,
    state: &S,
) -> Result<(Vec<u8>, usize), CodecError> {
    let mut out = Vec::with_capacity(1024);
    out.push(AVRO);
    position.write(&mut out);
    let from = out.len();
    Codec::default().encode_into(subject, state, &mut out)?;
    Ok((out, from))
}

/// A decoded entry: the state, its position (none in format 1), and the state's
/// own bytes.
pub struct Entry<'a, S> {
    pub state: S,
    pub position: Option<Position>,
    pub state_bytes: &'a [u8],
    /// The state's bytes are framed Avro, which [`decode_state`] reads (format 3).
    pub avro: bool,
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

pub fn decode<S: DeserializeOwned>(
    subject: &str,
    bytes: &[u8],
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<S, StateDecodeError> {
    decode_entry(subject, bytes, topic, partition, offset).map(|e| e.state)
}

/// Decodes an entry of any format this build reads; `subject` names the schema
/// a format-3 state resolves to.
pub fn decode_entry<'a, S: DeserializeOwned>(
    subject: &str,
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
    let positioned =
        || Position::read(body).ok_or_else(|| corrupt("the position is cut short".to_string()));
    let (state, position, state_bytes) = match format {
        JSON => (json(body).map_err(corrupt)?, None, body),
        POSITIONED => {
            let (position, rest) = positioned()?;
            (json(rest).map_err(corrupt)?, Some(position), rest)
        }
        AVRO => {
            let (position, rest) = positioned()?;
            let state = Codec::default()
                .decode(subject, rest)
                .map_err(|e| corrupt(e.to_string()))?;
            (state, Some(position), rest)
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
    Ok(Entry {
        state,
        position,
        state_bytes,
        avro: format == AVRO,
    })
}

/// A state from its own bytes as an entry carries them ([`encode_state`]),
/// resolved from the schema version that wrote them.
pub fn decode_state<S: DeserializeOwned>(subject: &str, bytes: &[u8]) -> Result<S, CodecError> {
    Codec::default().decode(subject, bytes)
}

fn json<S: DeserializeOwned>(bytes: &[u8]) -> Result<S, String> {
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wismo_codec::subjects::TRACKING_STATE;
    use wismo_core::matcher::TrackingState;

    fn state() -> TrackingState {
        TrackingState {
            order_id: Some("o-1".into()),
            registered_at: None,
            held: Vec::new(),
        }
    }

    fn position() -> Position {
        Position::new(vec![
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
        ])
    }

    fn read(bytes: &[u8]) -> Result<TrackingState, StateDecodeError> {
        decode(TRACKING_STATE, bytes, "c", 3, 9)
    }

    #[test]
    fn an_avro_entry_round_trips_with_its_position() {
        let bytes = encode_state(TRACKING_STATE, &state()).unwrap();
        let entry_bytes = entry(&position(), &bytes);
        assert_eq!(entry_bytes[0], AVRO);
        let e = decode_entry::<TrackingState>(TRACKING_STATE, &entry_bytes, "c", 0, 0).unwrap();
        assert_eq!(e.state, state());
        assert_eq!(e.position, Some(position()));
        assert_eq!(e.state_bytes, bytes.as_slice());
        let (built, from) = encode_entry(TRACKING_STATE, &position(), &state()).unwrap();
        assert_eq!(built, entry_bytes, "built in one buffer, the same entry");
        assert_eq!(
            &built[from..],
            bytes.as_slice(),
            "the state's bytes start there"
        );
        let json = serde_json::to_vec(&state()).unwrap();
        assert!(
            bytes.len() * 3 < json.len(),
            "{} against {}",
            bytes.len(),
            json.len()
        );
    }

    #[test]
    fn json_entries_of_formats_1_and_2_are_still_read() {
        let json = serde_json::to_vec(&state()).unwrap();
        let one = [&[JSON][..], &json].concat();
        assert_eq!(read(&one).unwrap(), state());
        let mut two = vec![POSITIONED];
        position().write(&mut two);
        two.extend_from_slice(&json);
        let e = decode_entry::<TrackingState>(TRACKING_STATE, &two, "c", 0, 0).unwrap();
        assert_eq!((e.state, e.position), (state(), Some(position())));
    }

    #[test]
    fn an_entry_that_cannot_be_read_says_where_and_why() {
        let e = read(b"{\"old\":1}").unwrap_err();
        assert!(e.to_string().contains("c/3 offset 9"), "{e}");
        assert!(matches!(
            e,
            StateDecodeError::UnknownFormat { format: b'{', .. }
        ));
        assert!(matches!(read(&[]), Err(StateDecodeError::Empty { .. })));
        assert!(matches!(
            read(&[JSON, b'x']),
            Err(StateDecodeError::Corrupt { .. })
        ));
        let good = entry(
            &position(),
            &encode_state(TRACKING_STATE, &state()).unwrap(),
        );
        assert!(matches!(
            read(&good[..4]),
            Err(StateDecodeError::Corrupt { .. })
        ));
        let cut = &good[..good.len() - 1];
        assert!(matches!(read(cut), Err(StateDecodeError::Corrupt { .. })));
        let mut unknown_schema = good.clone();
        let at = 1 + position().encoded_len() + 1;
        unknown_schema[at..at + 4].copy_from_slice(&9999u32.to_be_bytes());
        let e = read(&unknown_schema).unwrap_err();
        assert!(e.to_string().contains("9999"), "{e}");
    }

    #[test]
    fn a_task_position_tells_what_it_covers() {
        let position = position();
        assert!(position.covers(0, None, 41) && !position.covers(0, None, 42));
        assert!(position.covers(1, Some(2), 7) && !position.covers(1, Some(1), 7));
        let committed = Position::new(vec![Mark {
            input: 0,
            writer: None,
            offset: 41,
        }]);
        assert!(position.beyond(&committed), "writer 2 was decided further");
        assert!(!committed.beyond(&position));
    }
}
