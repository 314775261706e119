//! Avro binary straight into serde types, for a record whose writer schema is the
//! reader's: no `Value` tree, no schema resolution, strings borrowed from the input
//! until the type copies them.
//!
//! It walks a schema without references ([`crate::plan`]) and refuses what
//! [`crate::wire`]'s structural check refuses (truncation, bad booleans, enum and
//! union indexes, UTF-8, times outside years 0000 to 9999, too many items,
//! trailing bytes), so a record it decodes passes that check. It maps Avro to serde
//! the way apache-avro's `from_value` does for the shapes wismo's schemas use
//! (records, `["null", T]` unions, enums, arrays, maps, strings, bytes, numbers,
//! booleans, dates and timestamps). Anything else, and any mismatch with the Rust
//! type, is an error without a message: the caller then decodes the record the
//! general way, which says what is wrong, so the error path costs nothing until it
//! is taken.

use crate::wire::{DATE_DAYS_RANGE, TIMESTAMP_MILLIS_RANGE};
use apache_avro::schema::{EnumSchema, RecordField, RecordSchema};
use apache_avro::Schema;
use serde::de::{
    self, value::BorrowedStrDeserializer, DeserializeOwned, DeserializeSeed, IntoDeserializer,
    Visitor,
};

/// The record does not decode this way; decode it the general way for the reason.
#[derive(Debug)]
pub(crate) struct Fallback;

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not decodable on the fast path")
    }
}

impl std::error::Error for Fallback {}

impl de::Error for Fallback {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Fallback
    }
}

type Result<T> = std::result::Result<T, Fallback>;

pub(crate) mod encode;
mod input;
use input::Input;

/// Decodes `body`, one whole datum of `schema` (which has no references).
pub(crate) fn from_slice<T: DeserializeOwned>(schema: &Schema, body: &[u8]) -> Result<T> {
    let mut input = Input {
        bytes: body,
        pos: 0,
        items: 0,
    };
    let value = T::deserialize(Datum {
        input: &mut input,
        schema,
    })?;
    if input.pos == body.len() {
        Ok(value)
    } else {
        Err(Fallback)
    }
}

/// One datum of `schema` at the input's position.
struct Datum<'i, 'a, 's> {
    input: &'i mut Input<'a>,
    schema: &'s Schema,
}

impl<'de> de::Deserializer<'de> for Datum<'_, 'de, '_> {
    type Error = Fallback;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.schema {
            Schema::Null => visitor.visit_unit(),
            Schema::Boolean => match self.input.take(1)? {
                [0] => visitor.visit_bool(false),
                [1] => visitor.visit_bool(true),
                _ => Err(Fallback),
            },
            Schema::Int | Schema::TimeMillis => visitor.visit_i32(self.input.int()?),
            Schema::Date => {
                let days = self.input.int()?;
                if !DATE_DAYS_RANGE.contains(&days) {
                    return Err(Fallback);
                }
                visitor.visit_i32(days)
            }
            Schema::TimestampMillis => {
                let ms = self.input.long()?;
                if !TIMESTAMP_MILLIS_RANGE.contains(&ms) {
                    return Err(Fallback);
                }
                visitor.visit_i64(ms)
            }
            Schema::Long | Schema::TimestampMicros => visitor.visit_i64(self.input.long()?),
            Schema::Float => {
                let b = self.input.take(4)?;
                visitor.visit_f32(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            Schema::Double => {
                let b = self.input.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                visitor.visit_f64(f64::from_le_bytes(a))
            }
            Schema::String => visitor.visit_borrowed_str(self.input.str()?),
            Schema::Bytes => visitor.visit_borrowed_bytes(self.input.bytes()?),
            Schema::Enum(e) => visitor.visit_str(symbol(self.input, e)?),
            Schema::Union(_) => {
                let branch = self.input.union_branch(self.schema)?;
                match branch {
                    Schema::Null => visitor.visit_unit(),
                    other => Datum {
                        input: self.input,
                        schema: other,
                    }
                    .deserialize_any(visitor),
                }
            }
            Schema::Array(array) => visitor.visit_seq(Items {
                blocks: Blocks::start(self.input)?,
                input: self.input,
                items: &array.items,
            }),
            Schema::Map(map) => visitor.visit_map(Entries {
                blocks: Blocks::start(self.input)?,
                input: self.input,
                values: &map.types,
            }),
            Schema::Record(record) => visitor.visit_map(Fields {
                input: self.input,
                fields: record.fields.iter(),
                value: None,
            }),
            _ => Err(Fallback),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.input.union_branch(self.schema)? {
            Schema::Null => visitor.visit_none(),
            branch => visitor.visit_some(Datum {
                input: self.input,
                schema: branch,
            }),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.schema {
            Schema::String => visitor.visit_borrowed_str(self.input.str()?),
            _ => Err(Fallback),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.schema {
            Schema::String => visitor.visit_borrowed_str(self.input.str()?),
            Schema::Enum(e) => visitor.visit_str(symbol(self.input, e)?),
            _ => Err(Fallback),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.schema {
            Schema::Bytes => visitor.visit_borrowed_bytes(self.input.bytes()?),
            _ => Err(Fallback),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.schema {
            Schema::Bytes => visitor.visit_byte_buf(self.input.bytes()?.to_vec()),
            _ => Err(Fallback),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.schema {
            Schema::Null => visitor.visit_unit(),
            _ => Err(Fallback),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.schema {
            Schema::Array(_) => self.deserialize_any(visitor),
            _ => Err(Fallback),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.schema {
            Schema::Map(_) | Schema::Record(_) => self.deserialize_any(visitor),
            _ => Err(Fallback),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.schema {
            Schema::Record(RecordSchema { fields, .. }) => visitor.visit_map(Fields {
                input: self.input,
                fields: fields.iter(),
                value: None,
            }),
            // One of several records (an adjacently tagged enum's content): the
            // branch written says which; a branch of another shape fails below.
            Schema::Union(_) => {
                let branch = self.input.union_branch(self.schema)?;
                Datum {
                    input: self.input,
                    schema: branch,
                }
                .deserialize_struct(name, fields, visitor)
            }
            _ => Err(Fallback),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.schema {
            Schema::Enum(e) => {
                let symbol: &str = symbol(self.input, e)?;
                visitor.visit_enum(symbol.into_deserializer())
            }
            _ => Err(Fallback),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // Still read: the datum's bytes must be passed over.
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char
        unit_struct tuple tuple_struct identifier
    }
}

fn symbol<'s>(input: &mut Input<'_>, e: &'s EnumSchema) -> Result<&'s str> {
    let index = usize::try_from(input.int()?).map_err(|_| Fallback)?;
    e.symbols.get(index).map(String::as_str).ok_or(Fallback)
}

/// A record's fields, in the writer's order, as a map from field name to value.
struct Fields<'i, 'a, 's> {
    input: &'i mut Input<'a>,
    fields: std::slice::Iter<'s, RecordField>,
    value: Option<&'s Schema>,
}

impl<'de> de::MapAccess<'de> for Fields<'_, 'de, '_> {
    type Error = Fallback;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some(field) = self.fields.next() else {
            return Ok(None);
        };
        self.value = Some(&field.schema);
        let name: &str = &field.name;
        seed.deserialize(name.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let schema = self.value.take().ok_or(Fallback)?;
        seed.deserialize(Datum {
            input: self.input,
            schema,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.fields.len())
    }
}

/// How many items of an array or map are left, block by block. The first block
/// is read up front, so its count sizes what the items are decoded into.
struct Blocks {
    left: u64,
    done: bool,
}

impl Blocks {
    fn start(input: &mut Input<'_>) -> Result<Blocks> {
        let left = input.block()?;
        Ok(Blocks {
            left,
            done: left == 0,
        })
    }

    /// Whether another item follows; reads the next block's count when one ends.
    fn next(&mut self, input: &mut Input<'_>) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        if self.left == 0 {
            self.left = input.block()?;
            if self.left == 0 {
                self.done = true;
                return Ok(false);
            }
        }
        self.left -= 1;
        Ok(true)
    }

    /// The items left in this block (the whole array, as wismo writes one block).
    fn size_hint(&self) -> Option<usize> {
        usize::try_from(self.left).ok()
    }
}

/// An array's items, block by block.
struct Items<'i, 'a, 's> {
    input: &'i mut Input<'a>,
    items: &'s Schema,
    blocks: Blocks,
}

impl<'de> de::SeqAccess<'de> for Items<'_, 'de, '_> {
    type Error = Fallback;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if !self.blocks.next(self.input)? {
            return Ok(None);
        }
        seed.deserialize(Datum {
            input: self.input,
            schema: self.items,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        self.blocks.size_hint()
    }
}

/// A map's entries, block by block; keys are strings.
struct Entries<'i, 'a, 's> {
    input: &'i mut Input<'a>,
    values: &'s Schema,
    blocks: Blocks,
}

impl<'de> de::MapAccess<'de> for Entries<'_, 'de, '_> {
    type Error = Fallback;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if !self.blocks.next(self.input)? {
            return Ok(None);
        }
        let key = self.input.str()?;
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(Datum {
            input: self.input,
            schema: self.values,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.blocks.size_hint()
    }
}

#[cfg(test)]
mod tests;
