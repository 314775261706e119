//! What a task commits beside its offsets (as the offsets' metadata), so that a
//! restart resumes its time instead of starting from nothing.

use crate::breaker::Marker;

/// A task's place in time at a commit, and for an internal input partition how
/// far each writer's records were decided (they are decided in time order, not
/// offset order, so some past the committed offset may be decided already).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The latest timestamp decided.
    pub stream_time: i64,
    /// No output was, or will be, stamped earlier: watermarks up to it were sent.
    pub floor: i64,
    /// How many tasks write the internal input partition, and what is known of
    /// each that was heard from.
    pub writer_count: u32,
    pub writers: Vec<WriterMark>,
    /// Restarts of the task since its last commit after a decision.
    pub restarts: u32,
    /// What a careful task was about to decide (see [`crate::breaker`]).
    pub deciding: Option<Marker>,
}

impl Default for Checkpoint {
    fn default() -> Self {
        Checkpoint {
            stream_time: i64::MIN,
            floor: i64::MIN,
            writer_count: 0,
            writers: Vec::new(),
            restarts: 0,
            deciding: None,
        }
    }
}

/// One writer of an internal input partition at a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterMark {
    pub task: u32,
    /// Offset of its last record decided, if any.
    pub decided: Option<i64>,
    /// Nothing earlier is still to come from it.
    pub frontier: i64,
}

const VERSION: &str = "wismo1";

impl Checkpoint {
    pub fn encode(&self) -> String {
        let mut out = format!("{VERSION};st={};fl={}", self.stream_time, self.floor);
        if self.writer_count > 0 {
            out.push_str(&format!(";n={}", self.writer_count));
        }
        if !self.writers.is_empty() {
            let marks: Vec<String> = self
                .writers
                .iter()
                .map(|w| match w.decided {
                    Some(o) => format!("{}@{o}@{}", w.task, w.frontier),
                    None => format!("{}@-@{}", w.task, w.frontier),
                })
                .collect();
            out.push_str(";w=");
            out.push_str(&marks.join(","));
        }
        if self.restarts > 0 {
            out.push_str(&format!(";r={}", self.restarts));
        }
        if let Some(m) = &self.deciding {
            out.push_str(&format!(";d={}", m.encode()));
        }
        out
    }

    /// Metadata this version did not write (none, another tool's, a newer format)
    /// is no checkpoint: the task starts from nothing, as on first start.
    pub fn decode(text: &str) -> Option<Checkpoint> {
        let mut parts = text.split(';');
        if parts.next()? != VERSION {
            return None;
        }
        let mut c = Checkpoint::default();
        for part in parts {
            let (k, v) = part.split_once('=')?;
            match k {
                "st" => c.stream_time = v.parse().ok()?,
                "fl" => c.floor = v.parse().ok()?,
                "n" => c.writer_count = v.parse().ok()?,
                "r" => c.restarts = v.parse().ok()?,
                "d" => c.deciding = Some(Marker::decode(v)?),
                "w" => {
                    for mark in v.split(',') {
                        let mut f = mark.split('@');
                        let (task, decided, frontier) = (f.next()?, f.next()?, f.next()?);
                        c.writers.push(WriterMark {
                            task: task.parse().ok()?,
                            decided: match decided {
                                "-" => None,
                                o => Some(o.parse().ok()?),
                            },
                            frontier: frontier.parse().ok()?,
                        });
                    }
                }
                _ => {}
            }
        }
        Some(c)
    }

    /// The later of two checkpoints' times (a task commits the same on each of
    /// its partitions; the writer marks are each partition's own).
    pub fn later_time(self, other: &Checkpoint) -> Checkpoint {
        Checkpoint {
            stream_time: self.stream_time.max(other.stream_time),
            floor: self.floor.max(other.floor),
            writer_count: 0,
            writers: Vec::new(),
            restarts: self.restarts.max(other.restarts),
            deciding: self.deciding.or(other.deciding),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_ignores_what_it_did_not_write() {
        let c = Checkpoint {
            stream_time: 1_700_000_000_123,
            floor: -5,
            writer_count: 0,
            writers: vec![],
            restarts: 0,
            deciding: None,
        };
        assert_eq!(Checkpoint::decode(&c.encode()), Some(c.clone()));
        let marked = Checkpoint {
            writer_count: 4,
            writers: vec![
                WriterMark {
                    task: 0,
                    decided: Some(19),
                    frontier: 500,
                },
                WriterMark {
                    task: 3,
                    decided: None,
                    frontier: 7,
                },
            ],
            ..c
        };
        assert_eq!(
            marked.encode(),
            "wismo1;st=1700000000123;fl=-5;n=4;w=0@19@500,3@-@7"
        );
        assert_eq!(Checkpoint::decode(&marked.encode()), Some(marked.clone()));
        let careful = Checkpoint {
            restarts: 1,
            deciding: Some(Marker::Record {
                input: 1,
                offset: 33,
            }),
            ..marked
        };
        assert!(careful.encode().ends_with(";r=1;d=r1@33"));
        assert_eq!(Checkpoint::decode(&careful.encode()), Some(careful));
        assert_eq!(Checkpoint::decode("wismo1;w=0@x@1"), None);
        assert_eq!(Checkpoint::decode(""), None);
        assert_eq!(Checkpoint::decode("wismo9;st=1"), None);
        assert_eq!(Checkpoint::decode("wismo1;st=x"), None);
        assert_eq!(
            Checkpoint::decode("wismo1;st=4;zz=1"),
            Some(Checkpoint {
                stream_time: 4,
                floor: i64::MIN,
                writer_count: 0,
                writers: vec![],
                ..Checkpoint::default()
            })
        );
    }
}
