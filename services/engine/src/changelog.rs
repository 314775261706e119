//! How state is written to the changelog: one byte naming the format, then the
//! state. An entry in a format this build cannot read stops its partition with the
//! topic, partition and offset, never silently.

use serde::{de::DeserializeOwned, Serialize};

/// Format 1: the state as JSON.
const JSON: u8 = 1;

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
    let Some((&format, body)) = bytes.split_first() else {
        return Err(StateDecodeError::Empty {
            topic: topic.to_string(),
            partition,
            offset,
        });
    };
    if format != JSON {
        return Err(StateDecodeError::UnknownFormat {
            topic: topic.to_string(),
            partition,
            offset,
            format,
        });
    }
    serde_json::from_slice(body).map_err(|e| StateDecodeError::Corrupt {
        topic: topic.to_string(),
        partition,
        offset,
        reason: e.to_string(),
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
}
