//! How far a task had decided when it wrote a changelog entry.

/// Bytes of one mark: input, writer (`u32::MAX`: none), offset.
const MARK_BYTES: usize = 1 + 4 + 8;

/// How far a task had decided: the last offset decided of each input, and of
/// each writer on an internal input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    pub(super) marks: Vec<Mark>,
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

    pub(super) fn encoded_len(&self) -> usize {
        2 + self.marks.len() * MARK_BYTES
    }

    pub(super) fn write(&self, out: &mut Vec<u8>) {
        let n = u16::try_from(self.marks.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&n.to_le_bytes());
        for m in self.marks.iter().take(usize::from(n)) {
            out.push(m.input);
            out.extend_from_slice(&m.writer.unwrap_or(u32::MAX).to_le_bytes());
            out.extend_from_slice(&m.offset.to_le_bytes());
        }
    }

    /// The position at the start of `bytes`, and what follows it.
    pub(super) fn read(bytes: &[u8]) -> Option<(Position, &[u8])> {
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
