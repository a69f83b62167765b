//! Alternative: the position saved and restored by hand on every error,
//! `take` comparing the length with what remains, `split_first_chunk` for
//! fixed-size fields, and arrays reserved up to what the input could hold.

use std::fmt;
use std::str;

/// GGUF value type of a `u8`.
pub const TYPE_U8: u32 = 0;
/// GGUF value type of a little-endian `u32`.
pub const TYPE_U32: u32 = 4;
/// GGUF value type of a string: a `u64` byte length, then UTF-8 bytes.
pub const TYPE_STRING: u32 = 8;
/// GGUF value type of an array: element type (`u32`), count (`u64`), then
/// `count` values of that type, without type tags of their own.
pub const TYPE_ARRAY: u32 = 9;
/// GGUF value type of a little-endian `u64`.
pub const TYPE_U64: u32 = 10;
/// Arrays may hold arrays, this deep at most: a top-level array is at
/// depth 1, an array inside it at depth 2, and so on.
pub const MAX_DEPTH: usize = 4;

/// Why a read failed. Offsets count bytes from the start of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// A read starting at `offset` needs `needed` bytes; only `available`
    /// remain.
    Truncated {
        offset: usize,
        needed: u64,
        available: usize,
    },
    /// The string whose bytes start at `offset` is not UTF-8.
    InvalidUtf8 { offset: usize },
    /// The type field at `offset` holds a type this reader does not know.
    UnknownType { offset: usize, value_type: u32 },
    /// The array starting at `offset` (its element type field) would be
    /// deeper than `limit`.
    TooDeep { offset: usize, limit: usize },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Truncated {
                offset,
                needed,
                available,
            } => write!(
                f,
                "truncated at offset {offset}: {needed} bytes needed, {available} available"
            ),
            ReadError::InvalidUtf8 { offset } => {
                write!(f, "the string at offset {offset} is not UTF-8")
            }
            ReadError::UnknownType { offset, value_type } => {
                write!(f, "unknown value type {value_type} at offset {offset}")
            }
            ReadError::TooDeep { offset, limit } => write!(
                f,
                "the array at offset {offset} is nested more than {limit} deep"
            ),
        }
    }
}

impl std::error::Error for ReadError {}

/// One typed value, borrowing its strings from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    U8(u8),
    U32(u32),
    U64(u64),
    Str(&'a str),
    Array(Vec<Value<'a>>),
}

/// A little-endian cursor over borrowed bytes.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left to read.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// The next `n` bytes, borrowed from the input.
    pub fn take(&mut self, n: u64) -> Result<&'a [u8], ReadError> {
        let available = self.remaining();
        // Compare with what remains: no addition, so nothing can wrap.
        if n > available as u64 {
            return Err(ReadError::Truncated {
                offset: self.pos,
                needed: n,
                available,
            });
        }
        let start = self.pos;
        self.pos += n as usize; // n <= available, so this fits
        Ok(&self.bytes[start..self.pos])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ReadError> {
        let offset = self.pos;
        match self.take(N as u64)?.split_first_chunk::<N>() {
            Some((array, _)) => Ok(*array),
            None => Err(ReadError::Truncated {
                offset,
                needed: N as u64,
                available: 0,
            }),
        }
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, ReadError> {
        Ok(u8::from_le_bytes(self.array()?))
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, ReadError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, ReadError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A length-prefixed UTF-8 string, borrowed from the input.
    pub fn string(&mut self) -> Result<&'a str, ReadError> {
        let start = self.pos;
        let result = self.string_inner();
        if result.is_err() {
            self.pos = start;
        }
        result
    }

    fn string_inner(&mut self) -> Result<&'a str, ReadError> {
        let len = self.u64()?;
        let offset = self.pos;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map_err(|_| ReadError::InvalidUtf8 { offset })
    }

    /// A typed value; on error the position is unchanged.
    pub fn value(&mut self) -> Result<Value<'a>, ReadError> {
        let start = self.pos;
        let result = self
            .u32()
            .and_then(|value_type| self.value_of(value_type, start, 1));
        if result.is_err() {
            self.pos = start;
        }
        result
    }

    /// `level` is this value's own nesting level if it is an array (1 at
    /// the top).
    fn value_of(
        &mut self,
        value_type: u32,
        type_offset: usize,
        level: usize,
    ) -> Result<Value<'a>, ReadError> {
        match value_type {
            TYPE_U8 => self.u8().map(Value::U8),
            TYPE_U32 => self.u32().map(Value::U32),
            TYPE_U64 => self.u64().map(Value::U64),
            TYPE_STRING => self.string().map(Value::Str),
            TYPE_ARRAY if level > MAX_DEPTH => Err(ReadError::TooDeep {
                offset: self.pos,
                limit: MAX_DEPTH,
            }),
            TYPE_ARRAY => {
                let elem_offset = self.pos;
                let elem_type = self.u32()?;
                if ![TYPE_U8, TYPE_U32, TYPE_U64, TYPE_STRING, TYPE_ARRAY].contains(&elem_type) {
                    return Err(ReadError::UnknownType {
                        offset: elem_offset,
                        value_type: elem_type,
                    });
                }
                let count = self.u64()?;
                // Each element takes at least one byte: never reserve more
                // than the input could possibly hold.
                let bound =
                    usize::try_from(count).map_or(self.remaining(), |c| c.min(self.remaining()));
                let mut items = Vec::with_capacity(bound);
                for _ in 0..count {
                    items.push(self.value_of(elem_type, elem_offset, level + 1)?);
                }
                Ok(Value::Array(items))
            }
            other => Err(ReadError::UnknownType {
                offset: type_offset,
                value_type: other,
            }),
        }
    }
}
