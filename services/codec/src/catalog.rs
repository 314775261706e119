//! The schemas wismo knows, embedded at compile time so binaries need no files at
//! runtime, and the local id table behind [`SchemaRegistry`].
//!
//! Ids are stable and assigned here: version `v` from `schemas/history/<subject>/` has
//! id `100 * v + base`, so records framed with an old version keep decoding after
//! the schema moves on. On the topics the subject's base id (1..=11) names its
//! current schema, the ids publishers and consumers know; the services' state
//! is framed with its version's own id, which never names another schema, so an
//! entry written before a state change still reads as what it was.

use crate::{error::CodecError, plan::DecodePlan, subjects};
use apache_avro::Schema;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Looks schemas up by Confluent schema id and subject. Implemented by the local
/// [`SchemaCatalog`]; a Confluent schema-registry client can implement it later.
pub trait SchemaRegistry {
    /// The schema a record framed with `id` was written with.
    fn schema_by_id(&self, id: u32) -> Option<&Schema>;
    /// The id of the current (newest) schema of `subject`: what encoders write and
    /// what decoders resolve to.
    fn id_of(&self, subject: &str) -> Option<u32>;
    /// What decoding needs of schema `id`, prepared once. `None` (the default): the
    /// codec prepares it for every record it decodes, which is slower.
    fn plan(&self, id: u32) -> Option<&DecodePlan> {
        let _ = id;
        None
    }
}

impl<R: SchemaRegistry + ?Sized> SchemaRegistry for &R {
    fn schema_by_id(&self, id: u32) -> Option<&Schema> {
        (**self).schema_by_id(id)
    }
    fn id_of(&self, subject: &str) -> Option<u32> {
        (**self).id_of(subject)
    }
    fn plan(&self, id: u32) -> Option<&DecodePlan> {
        (**self).plan(id)
    }
}

/// Which id a subject's records are framed with.
#[derive(Clone, Copy)]
enum Framing {
    /// The base id, which names the current schema.
    BaseId,
    /// The newest version's id; the base id names version `base_id_is`, the one
    /// that releases framing with the base id wrote.
    VersionId { base_id_is: u32 },
}

/// A subject's schemas as embedded in the binary.
struct Builtin {
    subject: &'static str,
    base_id: u32,
    framing: Framing,
    current: &'static str,
    /// `(version, text)` of every file in `schemas/history/<subject>/`; the newest is a
    /// copy of `current` (a test checks both that and that no file is missing here).
    history: &'static [(u32, &'static str)],
}

macro_rules! schema_file {
    ($path:literal) => {
        include_str!(concat!("../../../schemas/", $path))
    };
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        subject: subjects::ORDER_EVENT,
        base_id: 1,
        framing: Framing::BaseId,
        current: schema_file!("order_event.avsc"),
        history: &[(1, schema_file!("history/order_event/v1.avsc"))],
    },
    Builtin {
        subject: subjects::CARRIER_SCAN,
        base_id: 2,
        framing: Framing::BaseId,
        current: schema_file!("carrier_scan.avsc"),
        history: &[
            (1, schema_file!("history/carrier_scan/v1.avsc")),
            (2, schema_file!("history/carrier_scan/v2.avsc")),
        ],
    },
    Builtin {
        subject: subjects::NOTIFICATION_COMMAND,
        base_id: 3,
        framing: Framing::BaseId,
        current: schema_file!("notification_command.avsc"),
        history: &[
            (1, schema_file!("history/notification_command/v1.avsc")),
            (2, schema_file!("history/notification_command/v2.avsc")),
        ],
    },
    Builtin {
        subject: subjects::DEAD_LETTER,
        base_id: 4,
        framing: Framing::BaseId,
        current: schema_file!("dead_letter.avsc"),
        history: &[
            (1, schema_file!("history/dead_letter/v1.avsc")),
            (2, schema_file!("history/dead_letter/v2.avsc")),
        ],
    },
    Builtin {
        subject: subjects::SHIPMENT_REGISTERED,
        base_id: 5,
        framing: Framing::BaseId,
        current: schema_file!("shipment_registered.avsc"),
        history: &[(1, schema_file!("history/shipment_registered/v1.avsc"))],
    },
    Builtin {
        subject: subjects::ROUTED_SCAN,
        base_id: 6,
        framing: Framing::BaseId,
        current: schema_file!("routed_scan.avsc"),
        history: &[(1, schema_file!("history/routed_scan/v1.avsc"))],
    },
    Builtin {
        subject: subjects::DELAY_APOLOGY_COMMAND,
        base_id: 7,
        framing: Framing::BaseId,
        current: schema_file!("delay_apology_command.avsc"),
        history: &[
            (1, schema_file!("history/delay_apology_command/v1.avsc")),
            (2, schema_file!("history/delay_apology_command/v2.avsc")),
        ],
    },
    Builtin {
        subject: subjects::REVIEW_REQUEST_COMMAND,
        base_id: 8,
        framing: Framing::BaseId,
        current: schema_file!("review_request_command.avsc"),
        history: &[
            (1, schema_file!("history/review_request_command/v1.avsc")),
            (2, schema_file!("history/review_request_command/v2.avsc")),
        ],
    },
    Builtin {
        subject: subjects::ORDER_STATE,
        base_id: 9,
        framing: Framing::VersionId { base_id_is: 1 },
        current: schema_file!("order_state.avsc"),
        history: &[
            (1, schema_file!("history/order_state/v1.avsc")),
            (2, schema_file!("history/order_state/v2.avsc")),
        ],
    },
    Builtin {
        subject: subjects::TRACKING_STATE,
        base_id: 10,
        framing: Framing::VersionId { base_id_is: 1 },
        current: schema_file!("tracking_state.avsc"),
        history: &[(1, schema_file!("history/tracking_state/v1.avsc"))],
    },
    Builtin {
        subject: subjects::RECIPIENT_HOLD,
        base_id: 11,
        framing: Framing::VersionId { base_id_is: 1 },
        current: schema_file!("recipient_hold.avsc"),
        history: &[(1, schema_file!("history/recipient_hold/v1.avsc"))],
    },
];

/// The id of history version `version` of the subject with base id `base_id`.
pub const fn history_id(base_id: u32, version: u32) -> u32 {
    100 * version + base_id
}

/// One registered schema.
#[derive(Debug, Clone)]
pub struct SchemaEntry {
    pub id: u32,
    pub subject: &'static str,
    /// `Some(v)` for `schemas/history/<subject>/v<v>.avsc`, `None` for the base id.
    pub version: Option<u32>,
    /// The `.avsc` text as embedded.
    pub text: &'static str,
    pub schema: Schema,
}

/// The local schema table: every current and historical schema, by id and subject.
#[derive(Debug, Clone)]
pub struct SchemaCatalog {
    entries: Vec<SchemaEntry>,
    /// One per entry, in the same order.
    plans: Vec<DecodePlan>,
    by_id: HashMap<u32, usize>,
    current: HashMap<&'static str, u32>,
}

impl SchemaCatalog {
    /// Parses the embedded schemas. Each file is parsed on its own, as a schema
    /// registry would, so each must be self-contained.
    pub fn load() -> Result<Self, CodecError> {
        let mut catalog = SchemaCatalog {
            entries: Vec::new(),
            plans: Vec::new(),
            by_id: HashMap::new(),
            current: HashMap::new(),
        };
        for b in BUILTINS {
            let current_id = match b.framing {
                Framing::BaseId => {
                    catalog.add(b.base_id, b.subject, None, b.current)?;
                    b.base_id
                }
                Framing::VersionId { base_id_is } => {
                    let &(_, text) = b
                        .history
                        .iter()
                        .find(|(v, _)| *v == base_id_is)
                        .ok_or_else(|| CodecError::Schema {
                            name: format!("{} v{base_id_is}", b.subject),
                            message: "not in schemas/history".to_owned(),
                        })?;
                    catalog.add(b.base_id, b.subject, None, text)?;
                    // The newest version is the current schema (the history holds it).
                    let newest = b.history.iter().map(|(v, _)| *v).max();
                    history_id(b.base_id, newest.unwrap_or(base_id_is))
                }
            };
            catalog.current.insert(b.subject, current_id);
            for &(version, text) in b.history {
                catalog.add(
                    history_id(b.base_id, version),
                    b.subject,
                    Some(version),
                    text,
                )?;
            }
        }
        Ok(catalog)
    }

    /// The embedded schemas, parsed once per process.
    ///
    /// # Panics
    /// Only if an embedded schema does not parse, which the crate's tests rule out.
    pub fn builtin() -> &'static SchemaCatalog {
        static CATALOG: OnceLock<SchemaCatalog> = OnceLock::new();
        CATALOG.get_or_init(|| match SchemaCatalog::load() {
            Ok(catalog) => catalog,
            Err(e) => panic!("embedded Avro schemas are broken: {e}"),
        })
    }

    fn add(
        &mut self,
        id: u32,
        subject: &'static str,
        version: Option<u32>,
        text: &'static str,
    ) -> Result<(), CodecError> {
        let schema = Schema::parse_str(text).map_err(|e| CodecError::Schema {
            name: match version {
                Some(v) => format!("{subject} v{v}"),
                None => subject.to_owned(),
            },
            message: e.to_string(),
        })?;
        self.by_id.insert(id, self.entries.len());
        self.plans.push(DecodePlan::new(&schema));
        self.entries.push(SchemaEntry {
            id,
            subject,
            version,
            text,
            schema,
        });
        Ok(())
    }

    /// Every registered schema, current ones and history versions.
    pub fn entries(&self) -> &[SchemaEntry] {
        &self.entries
    }

    /// The entry registered under `id`.
    pub fn entry(&self, id: u32) -> Option<&SchemaEntry> {
        self.by_id.get(&id).map(|&i| &self.entries[i])
    }

    /// The base id of `subject` (1..=11), which history ids count from.
    pub fn base_id(&self, subject: &str) -> Option<u32> {
        BUILTINS
            .iter()
            .find(|b| b.subject == subject)
            .map(|b| b.base_id)
    }

    /// The current schema of `subject`.
    pub fn current(&self, subject: &str) -> Option<&Schema> {
        self.id_of(subject).and_then(|id| self.schema_by_id(id))
    }
}

impl SchemaRegistry for SchemaCatalog {
    fn schema_by_id(&self, id: u32) -> Option<&Schema> {
        self.entry(id).map(|e| &e.schema)
    }

    fn id_of(&self, subject: &str) -> Option<u32> {
        self.current.get(subject).copied()
    }

    fn plan(&self, id: u32) -> Option<&DecodePlan> {
        self.by_id.get(&id).map(|&i| &self.plans[i])
    }
}
