//! The Avro binary reader under the direct decoder: varints, lengths, strings and
//! union branches, refusing what the structural check refuses.

use super::{Fallback, Result};
use crate::wire::MAX_RECORD_ITEMS;
use apache_avro::Schema;

pub(super) struct Input<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) pos: usize,
    /// Array items and map entries so far.
    pub(super) items: usize,
}

impl<'a> Input<'a> {
    pub(super) fn long(&mut self) -> Result<i64> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let byte = *self.bytes.get(self.pos).ok_or(Fallback)?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok((value >> 1) as i64 ^ -((value & 1) as i64));
            }
        }
        Err(Fallback)
    }

    pub(super) fn int(&mut self) -> Result<i32> {
        i32::try_from(self.long()?).map_err(|_| Fallback)
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(Fallback)?;
        let bytes = self.bytes.get(self.pos..end).ok_or(Fallback)?;
        self.pos = end;
        Ok(bytes)
    }

    pub(super) fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = usize::try_from(self.long()?).map_err(|_| Fallback)?;
        self.take(n)
    }

    pub(super) fn str(&mut self) -> Result<&'a str> {
        std::str::from_utf8(self.bytes()?).map_err(|_| Fallback)
    }

    /// The item count of the next array or map block; 0 at the end. Bounded as
    /// the structural check bounds it (every item of wismo's schemas takes bytes).
    pub(super) fn block(&mut self) -> Result<u64> {
        let count = self.long()?;
        if count < 0 {
            self.long()?; // the block's size in bytes
        }
        let count = count.unsigned_abs();
        let left = (self.bytes.len() - self.pos) as u64;
        if count > left || count > (MAX_RECORD_ITEMS - self.items) as u64 {
            return Err(Fallback);
        }
        self.items += count as usize;
        Ok(count)
    }

    pub(super) fn union_branch<'s>(&mut self, schema: &'s Schema) -> Result<&'s Schema> {
        let Schema::Union(union) = schema else {
            return Err(Fallback);
        };
        let index = usize::try_from(self.long()?).map_err(|_| Fallback)?;
        union.variants().get(index).ok_or(Fallback)
    }
}
