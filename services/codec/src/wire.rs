//! A structural check of an Avro binary body against its writer schema, run before
//! apache-avro decodes it.
//!
//! Why: apache-avro 0.21 trusts the input more than a consumer of untrusted topics can.
//! At end of input a `string` or `boolean` decodes as `null` instead of failing, so a
//! truncated record can decode "successfully" with a field silently turned into `None`
//! (an `OrderEvent` cut inside `placed` came back with `placed: None`). And array/map
//! block counts go straight into `Vec::reserve`: a 17-byte record claiming 500 million
//! items made it reserve ~30 GB and abort the whole process. Even honest counts cost:
//! apache-avro builds a value tree of about 1 KiB per item, however small the item is
//! on the wire, so a 1 MB record of 3-byte items took ~390 MB and half a second to
//! decode. This walk allocates nothing, rejects all three (at most [`MAX_RECORD_ITEMS`]),
//! rejects trailing bytes and times outside years 0000 to 9999, and says where in the
//! record it failed.

use apache_avro::schema::{
    ArraySchema, DecimalSchema, EnumSchema, FixedSchema, MapSchema, Name, NamesRef, Namespace,
    RecordSchema, ResolvedSchema, UnionSchema,
};
use apache_avro::Schema;

/// The instants and dates a record may carry: years 0000 to 9999, as RFC 3339 writes
/// them (defined with the model's other bounds, in `wismo_core::model::limits`).
pub use wismo_core::model::limits::{DATE_DAYS_RANGE, TIMESTAMP_MILLIS_RANGE};

/// The most array items and map entries one record may hold, all its arrays and maps
/// together: ~10 MB to decode at worst. A real order, scan or command has dozens.
pub const MAX_RECORD_ITEMS: usize = 10_000;

/// Checks that `body` is exactly one well-formed datum of `schema`.
pub(crate) fn check(schema: &Schema, body: &[u8]) -> Result<(), String> {
    let resolved = ResolvedSchema::try_from(schema).map_err(|e| e.to_string())?;
    check_with(schema, resolved.get_names(), body)
}

/// [`check`] with the named types of `schema` already at hand (none for a schema
/// whose references are inlined, see [`crate::plan`]).
pub(crate) fn check_with<'s>(
    schema: &'s Schema,
    names: &NamesRef<'s>,
    body: &[u8],
) -> Result<(), String> {
    let mut walker = Walker {
        names,
        input: body,
        pos: 0,
        items: 0,
        path: Vec::new(),
    };
    walker.datum(schema, &None)?;
    let left = body.len() - walker.pos;
    if left > 0 {
        return Err(format!(
            "{left} trailing byte(s) after the end of the record (body is {} bytes)",
            body.len()
        ));
    }
    Ok(())
}

/// One step of the path to the current datum; put into words only on failure.
#[derive(Clone, Copy)]
enum Step<'s> {
    Field(&'s str),
    Index(usize),
    MapValue,
}

struct Walker<'a, 's> {
    names: &'a NamesRef<'s>,
    input: &'a [u8],
    pos: usize,
    /// Array items and map entries so far.
    items: usize,
    /// Field names and array indexes leading to the current datum, for messages.
    path: Vec<Step<'s>>,
}

impl<'s> Walker<'_, 's> {
    fn fail<T>(&self, what: impl std::fmt::Display) -> Result<T, String> {
        let mut path = String::new();
        for step in &self.path {
            match step {
                Step::Field(name) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(name);
                }
                Step::Index(i) => path.push_str(&format!("[{i}]")),
                Step::MapValue => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str("{value}");
                }
            }
        }
        if path.is_empty() {
            path.push_str("record");
        }
        Err(format!("at `{path}` (byte {}): {what}", self.pos))
    }

    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&[u8], String> {
        if n > self.remaining() {
            return self.fail(format_args!(
                "{what} needs {n} byte(s) but only {} remain (record truncated?)",
                self.remaining()
            ));
        }
        let bytes = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    /// Zig-zag varint, as Avro encodes `int` and `long`.
    fn long(&mut self) -> Result<i64, String> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let Some(&byte) = self.input.get(self.pos) else {
                return self
                    .fail("input ends inside a variable-length integer (record truncated?)");
            };
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok((value >> 1) as i64 ^ -((value & 1) as i64));
            }
        }
        self.fail("variable-length integer is longer than 10 bytes")
    }

    fn int(&mut self) -> Result<i32, String> {
        let n = self.long()?;
        match i32::try_from(n) {
            Ok(n) => Ok(n),
            Err(_) => self.fail(format_args!("{n} does not fit an Avro int")),
        }
    }

    fn len(&mut self, what: &str) -> Result<usize, String> {
        let n = self.long()?;
        match usize::try_from(n) {
            Ok(n) => Ok(n),
            Err(_) => self.fail(format_args!("negative {what} length {n}")),
        }
    }

    fn bytes(&mut self, what: &str) -> Result<&[u8], String> {
        let n = self.len(what)?;
        self.take(n, what)
    }

    fn string(&mut self) -> Result<(), String> {
        let start = self.pos;
        let text = self.bytes("string")?;
        if let Err(e) = std::str::from_utf8(text) {
            self.pos = start;
            return self.fail(format_args!("string is not UTF-8: {e}"));
        }
        Ok(())
    }

    fn datum(&mut self, schema: &'s Schema, ns: &Namespace) -> Result<(), String> {
        match schema {
            Schema::Null => Ok(()),
            Schema::Boolean => match self.take(1, "boolean")?[0] {
                0 | 1 => Ok(()),
                b => self.fail(format_args!("boolean byte is 0x{b:02x}, not 0 or 1")),
            },
            Schema::Int | Schema::TimeMillis => self.int().map(drop),
            Schema::Date => {
                let start = self.pos;
                let days = self.int()?;
                if !DATE_DAYS_RANGE.contains(&days) {
                    self.pos = start;
                    return self.fail(format_args!(
                        "date {days} (days since 1970-01-01) is outside years 0000 to 9999"
                    ));
                }
                Ok(())
            }
            Schema::TimestampMillis => {
                let start = self.pos;
                let ms = self.long()?;
                if !TIMESTAMP_MILLIS_RANGE.contains(&ms) {
                    self.pos = start;
                    return self.fail(format_args!(
                        "timestamp {ms} (ms since 1970-01-01) is outside years 0000 to 9999"
                    ));
                }
                Ok(())
            }
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => self.long().map(drop),
            Schema::Float => self.take(4, "float").map(drop),
            Schema::Double => self.take(8, "double").map(drop),
            // apache-avro 0.21 reads a uuid as bytes: 16 raw bytes or its text form.
            Schema::Bytes | Schema::BigDecimal | Schema::Uuid => self.bytes("bytes").map(drop),
            Schema::String => self.string(),
            Schema::Fixed(FixedSchema { size, .. }) => self.take(*size, "fixed").map(drop),
            Schema::Duration => self.take(12, "duration").map(drop),
            Schema::Decimal(DecimalSchema { inner, .. }) => self.datum(inner, ns),
            Schema::Enum(EnumSchema { symbols, .. }) => {
                let index = self.int()?;
                if usize::try_from(index).is_ok_and(|i| i < symbols.len()) {
                    Ok(())
                } else {
                    self.fail(format_args!(
                        "enum index {index} is out of range ({} symbols)",
                        symbols.len()
                    ))
                }
            }
            Schema::Union(union) => self.union(union, ns),
            Schema::Array(ArraySchema { items, .. }) => {
                let zero_width_items = zero_width(items, self.names, ns);
                self.blocks(zero_width_items, |w, i| {
                    w.path.push(Step::Index(i));
                    w.datum(items, ns)?;
                    w.path.pop();
                    Ok(())
                })
            }
            Schema::Map(MapSchema { types, .. }) => self.blocks(false, |w, _| {
                w.string()?;
                w.path.push(Step::MapValue);
                w.datum(types, ns)?;
                w.path.pop();
                Ok(())
            }),
            Schema::Record(RecordSchema { name, fields, .. }) => {
                // The namespace only matters to references; without any (an
                // inlined schema) it is not worked out per record.
                let inner_ns = if self.names.is_empty() {
                    None
                } else {
                    name.fully_qualified_name(ns).namespace
                };
                for field in fields {
                    self.path.push(Step::Field(&field.name));
                    self.datum(&field.schema, &inner_ns)?;
                    self.path.pop();
                }
                Ok(())
            }
            Schema::Ref { name } => {
                let (schema, ns) = self.lookup(name, ns)?;
                self.datum(schema, &ns)
            }
        }
    }

    fn union(&mut self, union: &'s UnionSchema, ns: &Namespace) -> Result<(), String> {
        let index = self.long()?;
        match usize::try_from(index)
            .ok()
            .and_then(|i| union.variants().get(i))
        {
            Some(variant) => self.datum(variant, ns),
            None => self.fail(format_args!(
                "union branch {index} does not exist ({} branches)",
                union.variants().len()
            )),
        }
    }

    /// Arrays and maps: blocks of `count` items, a negative count followed by the
    /// block's byte size, ended by a zero count.
    fn blocks(
        &mut self,
        zero_width_items: bool,
        mut item: impl FnMut(&mut Self, usize) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut index = 0usize;
        loop {
            let count = self.long()?;
            if count == 0 {
                return Ok(());
            }
            if count < 0 {
                self.long()?; // block size in bytes, only useful for skipping
            }
            let count = count.unsigned_abs();
            // Items that take no bytes (null, empty records) cannot be bounded by the
            // input length; no wismo schema has them.
            if !zero_width_items && count > self.remaining() as u64 {
                return self.fail(format_args!(
                    "block claims {count} items but only {} byte(s) remain",
                    self.remaining()
                ));
            }
            if count > (MAX_RECORD_ITEMS - self.items) as u64 {
                return self.fail(format_args!(
                    "more than {MAX_RECORD_ITEMS} array items and map entries in one record"
                ));
            }
            self.items += count as usize;
            for _ in 0..count {
                item(self, index)?;
                index += 1;
            }
        }
    }

    fn lookup(&self, name: &Name, ns: &Namespace) -> Result<(&'s Schema, Namespace), String> {
        let full = name.fully_qualified_name(ns);
        match self.names.get(&full) {
            Some(&schema) => Ok((schema, full.namespace)),
            None => self.fail(format_args!(
                "schema refers to unknown type `{}`",
                full.fullname(None)
            )),
        }
    }
}

/// Whether a datum of `schema` can take zero bytes, which makes item counts unbounded.
fn zero_width(schema: &Schema, names: &NamesRef<'_>, ns: &Namespace) -> bool {
    match schema {
        Schema::Null => true,
        Schema::Fixed(FixedSchema { size, .. }) => *size == 0,
        Schema::Record(RecordSchema { name, fields, .. }) => {
            let inner = name.fully_qualified_name(ns).namespace;
            fields.iter().all(|f| zero_width(&f.schema, names, &inner))
        }
        Schema::Ref { name } => {
            // A recursive reference always goes through a union or array, which take bytes.
            let full = name.fully_qualified_name(ns);
            names.get(&full).is_some_and(|s| match s {
                Schema::Record(RecordSchema { fields, .. }) => fields.is_empty(),
                Schema::Fixed(FixedSchema { size, .. }) => *size == 0,
                _ => false,
            })
        }
        _ => false,
    }
}
