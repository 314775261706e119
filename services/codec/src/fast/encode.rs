//! Serde types straight into Avro binary, walking a schema without references
//! ([`crate::plan`]): the mirror of the direct decoder. No buffering of arrays
//! and no field looked up by name: a record's fields must come in its schema's
//! order, which is how serde's derive writes them and how wismo's schemas are
//! laid out (the round-trip tests hold both to it).
//!
//! It writes the bytes apache-avro's serializer writes, for the shapes wismo's
//! types use: records, `["null", T]` unions, a union of records chosen by the
//! struct's name (an adjacently tagged enum's content), enums (by symbol name),
//! arrays, maps, strings, bytes, numbers and booleans. Anything else, and any
//! mismatch with the schema, is an error without a message: the caller then
//! encodes the general way, which says what is wrong.

use super::{Fallback, Result};
use apache_avro::schema::RecordField;
use apache_avro::Schema;
use serde::ser::{self, Impossible, Serialize};

impl ser::Error for Fallback {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Fallback
    }
}

/// Appends `value`, one whole datum of `schema` (which has no references).
pub(crate) fn write<T: Serialize + ?Sized>(
    schema: &Schema,
    value: &T,
    out: &mut Vec<u8>,
) -> Result<()> {
    value.serialize(Datum { out, schema })
}

/// Avro's zig-zag varint, the same for `int` and `long`.
fn long(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    long(out, b.len() as i64);
    out.extend_from_slice(b);
}

fn index(i: usize) -> Result<i64> {
    i64::try_from(i).map_err(|_| Fallback)
}

const STRING: Schema = Schema::String;

struct Datum<'o, 's> {
    out: &'o mut Vec<u8>,
    schema: &'s Schema,
}

impl Datum<'_, '_> {
    fn integer(self, v: i128) -> Result<()> {
        match self.schema {
            Schema::Int | Schema::Date | Schema::TimeMillis => {
                long(self.out, i32::try_from(v).map_err(|_| Fallback)?.into())
            }
            Schema::Long
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimeMicros
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros => {
                long(self.out, i64::try_from(v).map_err(|_| Fallback)?)
            }
            _ => return Err(Fallback),
        }
        Ok(())
    }
}

impl<'o, 's> ser::Serializer for Datum<'o, 's> {
    type Ok = ();
    type Error = Fallback;
    type SerializeSeq = Items<'o, 's>;
    type SerializeTuple = Impossible<(), Fallback>;
    type SerializeTupleStruct = Impossible<(), Fallback>;
    type SerializeTupleVariant = Impossible<(), Fallback>;
    type SerializeMap = Entries<'o, 's>;
    type SerializeStruct = Fields<'o, 's>;
    type SerializeStructVariant = Impossible<(), Fallback>;

    /// Binary, as apache-avro's own serializer says: a type that writes itself
    /// differently for Avro than for JSON does the same on either path.
    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, v: bool) -> Result<()> {
        match self.schema {
            Schema::Boolean => {
                self.out.push(u8::from(v));
                Ok(())
            }
            _ => Err(Fallback),
        }
    }

    fn serialize_i8(self, v: i8) -> Result<()> {
        self.integer(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<()> {
        self.integer(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<()> {
        self.integer(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<()> {
        self.integer(v.into())
    }
    fn serialize_u8(self, v: u8) -> Result<()> {
        self.integer(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<()> {
        self.integer(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<()> {
        self.integer(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<()> {
        self.integer(v.into())
    }

    fn serialize_f32(self, v: f32) -> Result<()> {
        match self.schema {
            Schema::Float => self.out.extend_from_slice(&v.to_le_bytes()),
            Schema::Double => self.out.extend_from_slice(&f64::from(v).to_le_bytes()),
            _ => return Err(Fallback),
        }
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result<()> {
        match self.schema {
            Schema::Double => self.out.extend_from_slice(&v.to_le_bytes()),
            _ => return Err(Fallback),
        }
        Ok(())
    }

    fn serialize_char(self, _v: char) -> Result<()> {
        Err(Fallback)
    }

    fn serialize_str(self, v: &str) -> Result<()> {
        match self.schema {
            Schema::String => bytes(self.out, v.as_bytes()),
            Schema::Enum(e) => {
                let i = e.symbols.iter().position(|s| s == v).ok_or(Fallback)?;
                long(self.out, index(i)?);
            }
            _ => return Err(Fallback),
        }
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        match self.schema {
            Schema::Bytes => bytes(self.out, v),
            Schema::Fixed(f) if f.size == v.len() => self.out.extend_from_slice(v),
            _ => return Err(Fallback),
        }
        Ok(())
    }

    fn serialize_none(self) -> Result<()> {
        let Schema::Union(u) = self.schema else {
            return Err(Fallback);
        };
        let i = u
            .variants()
            .iter()
            .position(|b| *b == Schema::Null)
            .ok_or(Fallback)?;
        long(self.out, index(i)?);
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        let Schema::Union(u) = self.schema else {
            return Err(Fallback);
        };
        // Only `["null", T]`: with more branches, which one is not ours to guess.
        let mut others = u
            .variants()
            .iter()
            .enumerate()
            .filter(|(_, b)| **b != Schema::Null);
        let (Some((i, branch)), None) = (others.next(), others.next()) else {
            return Err(Fallback);
        };
        long(self.out, index(i)?);
        value.serialize(Datum {
            out: self.out,
            schema: branch,
        })
    }

    fn serialize_unit(self) -> Result<()> {
        match self.schema {
            Schema::Null => Ok(()),
            _ => Err(Fallback),
        }
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<()> {
        match self.schema {
            Schema::Enum(_) => self.serialize_str(variant),
            _ => Err(Fallback),
        }
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<()> {
        Err(Fallback)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Items<'o, 's>> {
        let (Schema::Array(array), Some(len)) = (self.schema, len) else {
            return Err(Fallback);
        };
        Items::start(self.out, &array.items, len)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(Fallback)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(Fallback)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Fallback)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Entries<'o, 's>> {
        let (Schema::Map(map), Some(len)) = (self.schema, len) else {
            return Err(Fallback);
        };
        let items = Items::start(self.out, &map.types, len)?;
        Ok(Entries { items })
    }

    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Fields<'o, 's>> {
        let record = match self.schema {
            Schema::Record(r) => r,
            // A choice of records: the one of the struct's name and size, as
            // apache-avro chooses it.
            Schema::Union(u) => {
                let (i, record) = u
                    .variants()
                    .iter()
                    .enumerate()
                    .find_map(|(i, b)| match b {
                        Schema::Record(r) if r.name.name == name && r.fields.len() == len => {
                            Some((i, r))
                        }
                        _ => None,
                    })
                    .ok_or(Fallback)?;
                long(self.out, index(i)?);
                record
            }
            _ => return Err(Fallback),
        };
        Ok(Fields {
            out: self.out,
            fields: record.fields.iter(),
        })
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Fallback)
    }
}

/// An array's items (or a map's entries) as one block: its count, the items,
/// then the empty block that ends it.
struct Items<'o, 's> {
    out: &'o mut Vec<u8>,
    schema: &'s Schema,
    left: usize,
}

impl<'o, 's> Items<'o, 's> {
    fn start(out: &'o mut Vec<u8>, schema: &'s Schema, len: usize) -> Result<Self> {
        if len > 0 {
            long(out, index(len)?);
        }
        Ok(Items {
            out,
            schema,
            left: len,
        })
    }

    fn item<T: Serialize + ?Sized>(&mut self, schema: &Schema, value: &T) -> Result<()> {
        value.serialize(Datum {
            out: self.out,
            schema,
        })
    }

    fn next(&mut self) -> Result<()> {
        self.left = self.left.checked_sub(1).ok_or(Fallback)?;
        Ok(())
    }

    fn end(self) -> Result<()> {
        if self.left != 0 {
            return Err(Fallback);
        }
        self.out.push(0);
        Ok(())
    }
}

impl ser::SerializeSeq for Items<'_, '_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.next()?;
        let schema = self.schema;
        self.item(schema, value)
    }

    fn end(self) -> Result<()> {
        Items::end(self)
    }
}

struct Entries<'o, 's> {
    items: Items<'o, 's>,
}

impl ser::SerializeMap for Entries<'_, '_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.items.next()?;
        self.items.item(&STRING, key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let schema = self.items.schema;
        self.items.item(schema, value)
    }

    fn end(self) -> Result<()> {
        self.items.end()
    }
}

/// A record's fields, which must come in the schema's order.
struct Fields<'o, 's> {
    out: &'o mut Vec<u8>,
    fields: std::slice::Iter<'s, RecordField>,
}

impl ser::SerializeStruct for Fields<'_, '_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        let field = self.fields.next().ok_or(Fallback)?;
        if field.name != key {
            return Err(Fallback);
        }
        value.serialize(Datum {
            out: self.out,
            schema: &field.schema,
        })
    }

    fn skip_field(&mut self, _key: &'static str) -> Result<()> {
        Err(Fallback)
    }

    fn end(mut self) -> Result<()> {
        match self.fields.next() {
            None => Ok(()),
            Some(_) => Err(Fallback),
        }
    }
}
