//! Where a merged queue keeps a writer's records past its memory limit: a FIFO in
//! local files, or in memory where there is no disk to spare (replay and tests).
//!
//! A spill is a cache of the partition, not state: it is rebuilt by reading the
//! partition from its committed offset, so a crash loses nothing kept here. Files
//! are segments of at most [`SEGMENT_BYTES`], each deleted once read through.

use crate::record::{Record, Source};
use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A segment file is closed for writing once it holds this much.
pub const SEGMENT_BYTES: u64 = 8 * 1024 * 1024;

/// Tells spills of one process apart, whatever partition they belong to.
static NEXT_SPILL: AtomicU64 = AtomicU64::new(0);

#[derive(Debug)]
pub(crate) enum Spill {
    Memory(VecDeque<Record>),
    File(FileSpill),
}

impl Spill {
    /// In `dir` when given, else in memory.
    pub fn new(dir: Option<&Arc<Path>>) -> Self {
        match dir {
            Some(dir) => Spill::File(FileSpill::new(dir.clone())),
            None => Spill::Memory(VecDeque::new()),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Spill::Memory(q) => q.len(),
            Spill::File(f) => f.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&mut self, record: Record) -> io::Result<()> {
        match self {
            Spill::Memory(q) => {
                q.push_back(record);
                Ok(())
            }
            Spill::File(f) => f.push(&record),
        }
    }

    /// The oldest record, of the partition `like` names.
    pub fn pop(&mut self, like: &Record) -> io::Result<Option<Record>> {
        match self {
            Spill::Memory(q) => Ok(q.pop_front()),
            Spill::File(f) => f.pop(like),
        }
    }
}

#[derive(Debug)]
struct Segment {
    path: PathBuf,
    /// Open while this is the segment written to.
    writer: Option<BufWriter<File>>,
    /// Open once reading has begun.
    reader: Option<BufReader<File>>,
    bytes: u64,
    written: usize,
    read: usize,
}

impl Drop for Segment {
    fn drop(&mut self) {
        // Best effort: the directory is scratch space, emptied at start-up.
        let _ = fs::remove_file(&self.path);
    }
}

#[derive(Debug)]
pub(crate) struct FileSpill {
    dir: Arc<Path>,
    id: u64,
    next_segment: u64,
    segments: VecDeque<Segment>,
    len: usize,
}

impl FileSpill {
    fn new(dir: Arc<Path>) -> Self {
        FileSpill {
            dir,
            id: NEXT_SPILL.fetch_add(1, Ordering::Relaxed),
            next_segment: 0,
            segments: VecDeque::new(),
            len: 0,
        }
    }

    fn push(&mut self, record: &Record) -> io::Result<()> {
        let open = self
            .segments
            .back()
            .is_some_and(|s| s.writer.is_some() && s.bytes < SEGMENT_BYTES);
        if !open {
            if let Some(last) = self.segments.back_mut() {
                if let Some(mut w) = last.writer.take() {
                    w.flush()?;
                }
            }
            let path = self
                .dir
                .join(format!("{}-{}.spill", self.id, self.next_segment));
            self.next_segment += 1;
            let file = OpenOptions::new()
                .create_new(true)
                .write(true)
                .open(&path)?;
            self.segments.push_back(Segment {
                path,
                writer: Some(BufWriter::with_capacity(64 * 1024, file)),
                reader: None,
                bytes: 0,
                written: 0,
                read: 0,
            });
        }
        let segment = self.segments.back_mut().ok_or_else(missing)?;
        let bytes = encode(record);
        segment
            .writer
            .as_mut()
            .ok_or_else(missing)?
            .write_all(&bytes)?;
        segment.bytes += bytes.len() as u64;
        segment.written += 1;
        self.len += 1;
        Ok(())
    }

    fn pop(&mut self, like: &Record) -> io::Result<Option<Record>> {
        let Some(segment) = self.segments.front_mut() else {
            return Ok(None);
        };
        if let Some(w) = segment.writer.as_mut() {
            // Reading the segment still written to: what it holds must be on disk.
            w.flush()?;
        }
        if segment.reader.is_none() {
            segment.reader = Some(BufReader::with_capacity(
                64 * 1024,
                File::open(&segment.path)?,
            ));
        }
        let reader = segment.reader.as_mut().ok_or_else(missing)?;
        let record = decode(reader, like)?;
        segment.read += 1;
        self.len -= 1;
        if segment.read == segment.written {
            self.segments.pop_front();
        }
        Ok(Some(record))
    }
}

fn missing() -> io::Error {
    io::Error::other("spill segment not open")
}

/// offset, timestamp, source (flag, task, of), key and value (length or
/// `u32::MAX` for none, then bytes). Topic and partition are the queue's own.
fn encode(r: &Record) -> Vec<u8> {
    let body = |b: &Option<Vec<u8>>| b.as_ref().map_or(0, Vec::len);
    let mut out = Vec::with_capacity(33 + body(&r.key) + body(&r.value));
    out.extend_from_slice(&r.offset.to_le_bytes());
    out.extend_from_slice(&r.timestamp.to_le_bytes());
    let (flag, task, of) = r.source.map_or((0u8, 0, 0), |s| (1, s.task, s.of));
    out.push(flag);
    out.extend_from_slice(&task.to_le_bytes());
    out.extend_from_slice(&of.to_le_bytes());
    for field in [&r.key, &r.value] {
        match field {
            Some(b) => {
                out.extend_from_slice(&(b.len() as u32).to_le_bytes());
                out.extend_from_slice(b);
            }
            None => out.extend_from_slice(&u32::MAX.to_le_bytes()),
        }
    }
    out
}

fn decode(r: &mut impl Read, like: &Record) -> io::Result<Record> {
    let mut fixed = [0u8; 25];
    r.read_exact(&mut fixed)?;
    let word = |at: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&fixed[at..at + 4]);
        u32::from_le_bytes(b)
    };
    let long = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&fixed[at..at + 8]);
        i64::from_le_bytes(b)
    };
    let source = (fixed[16] == 1).then(|| Source {
        task: word(17),
        of: word(21),
    });
    let mut bytes = || -> io::Result<Option<Vec<u8>>> {
        let mut len = [0u8; 4];
        r.read_exact(&mut len)?;
        let len = u32::from_le_bytes(len);
        if len == u32::MAX {
            return Ok(None);
        }
        let mut b = vec![0u8; len as usize];
        r.read_exact(&mut b)?;
        Ok(Some(b))
    };
    let key = bytes()?;
    let value = bytes()?;
    Ok(Record {
        topic: like.topic.clone(),
        partition: like.partition,
        offset: long(0),
        timestamp: long(8),
        key,
        value,
        source,
        watermark: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rec(offset: i64, size: usize) -> Record {
        Record {
            topic: Arc::from("t"),
            partition: 3,
            offset,
            timestamp: offset * 7 - 1_000,
            key: (offset % 3 != 0).then(|| format!("k{offset}").into_bytes()),
            value: (offset % 5 != 0).then(|| vec![offset as u8; size]),
            source: (offset % 2 == 0).then_some(Source {
                task: offset as u32 % 4,
                of: 4,
            }),
            watermark: None,
        }
    }

    fn scratch() -> Arc<Path> {
        let dir = std::env::temp_dir().join(format!(
            "wismo-spill-test-{}-{}",
            std::process::id(),
            NEXT_SPILL.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).expect("scratch dir");
        Arc::from(dir.as_path())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Pushes and pops in any interleaving, across segment ends: the records
        /// come back whole and in order, and every segment read through is gone.
        #[test]
        fn a_file_spill_is_a_fifo_of_whole_records(
            steps in proptest::collection::vec((any::<bool>(), 0usize..400_000), 1..120)
        ) {
            let dir = scratch();
            let mut spill = Spill::new(Some(&dir));
            let mut model = VecDeque::new();
            let like = rec(0, 0);
            for (i, (push, size)) in steps.into_iter().enumerate() {
                if push || model.is_empty() {
                    let r = rec(i as i64, size);
                    spill.push(r.clone()).expect("push");
                    model.push_back(r);
                } else {
                    prop_assert_eq!(spill.pop(&like).expect("pop"), model.pop_front());
                }
                prop_assert_eq!(spill.len(), model.len());
            }
            while let Some(r) = model.pop_front() {
                prop_assert_eq!(spill.pop(&like).expect("pop"), Some(r));
            }
            prop_assert_eq!(spill.pop(&like).expect("pop"), None);
            prop_assert_eq!(fs::read_dir(&dir).expect("dir").count(), 0);
            drop(spill);
            fs::remove_dir_all(&dir).expect("clean");
        }
    }

    #[test]
    fn a_dropped_spill_leaves_no_files() {
        let dir = scratch();
        let mut spill = Spill::new(Some(&dir));
        for i in 0..30 {
            spill.push(rec(i, 600_000)).expect("push");
        }
        assert!(
            fs::read_dir(&dir).expect("dir").count() > 1,
            "several segments"
        );
        drop(spill);
        assert_eq!(fs::read_dir(&dir).expect("dir").count(), 0);
        fs::remove_dir_all(&dir).expect("clean");
    }
}
