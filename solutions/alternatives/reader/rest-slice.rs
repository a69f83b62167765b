//! Alternative: the reader keeps the unread rest of the input as a slice
//! and splits it with `split_at_checked`; the position is derived from how
//! much is left; one `attempt` combinator restores it on every error.

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
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    /// The unread part of the input.
    rest: &'a [u8],
    /// Length of the whole input.
    len: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader {
            rest: bytes,
            len: bytes.len(),
        }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.len - self.rest.len()
    }

    /// Bytes left to read.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Runs `read` and keeps its progress only if it succeeds.
    fn attempt<T>(
        &mut self,
        read: impl FnOnce(&mut Reader<'a>) -> Result<T, ReadError>,
    ) -> Result<T, ReadError> {
        let mut copy = *self;
        let value = read(&mut copy)?;
        *self = copy;
        Ok(value)
    }

    /// The next `n` bytes, borrowed from the input.
    pub fn take(&mut self, n: u64) -> Result<&'a [u8], ReadError> {
        let split = usize::try_from(n)
            .ok()
            .and_then(|n| self.rest.split_at_checked(n));
        match split {
            Some((taken, rest)) => {
                self.rest = rest;
                Ok(taken)
            }
            None => Err(ReadError::Truncated {
                offset: self.position(),
                needed: n,
                available: self.remaining(),
            }),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ReadError> {
        let offset = self.position();
        let bytes = self.take(N as u64)?;
        <[u8; N]>::try_from(bytes).map_err(|_| ReadError::Truncated {
            offset,
            needed: N as u64,
            available: bytes.len(),
        })
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, ReadError> {
        self.array().map(u8::from_le_bytes)
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, ReadError> {
        self.array().map(u32::from_le_bytes)
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, ReadError> {
        self.array().map(u64::from_le_bytes)
    }

    /// A length-prefixed UTF-8 string, borrowed from the input.
    pub fn string(&mut self) -> Result<&'a str, ReadError> {
        self.attempt(|r| {
            let len = r.u64()?;
            let offset = r.position();
            let bytes = r.take(len)?;
            std::str::from_utf8(bytes).map_err(|_| ReadError::InvalidUtf8 { offset })
        })
    }

    /// A typed value; on error the position is unchanged.
    pub fn value(&mut self) -> Result<Value<'a>, ReadError> {
        self.attempt(|r| {
            let offset = r.position();
            let value_type = r.u32()?;
            r.value_of(value_type, offset, 0)
        })
    }

    fn value_of(
        &mut self,
        value_type: u32,
        type_offset: usize,
        depth: usize,
    ) -> Result<Value<'a>, ReadError> {
        let value = match value_type {
            TYPE_U8 => Value::U8(self.u8()?),
            TYPE_U32 => Value::U32(self.u32()?),
            TYPE_U64 => Value::U64(self.u64()?),
            TYPE_STRING => Value::Str(self.string()?),
            TYPE_ARRAY => {
                let elem_offset = self.position();
                if depth >= MAX_DEPTH {
                    return Err(ReadError::TooDeep {
                        offset: elem_offset,
                        limit: MAX_DEPTH,
                    });
                }
                let elem_type = self.u32()?;
                let known = matches!(
                    elem_type,
                    TYPE_U8 | TYPE_U32 | TYPE_U64 | TYPE_STRING | TYPE_ARRAY
                );
                if !known {
                    return Err(ReadError::UnknownType {
                        offset: elem_offset,
                        value_type: elem_type,
                    });
                }
                let count = self.u64()?;
                let items = (0..count)
                    .map(|_| self.value_of(elem_type, elem_offset, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                Value::Array(items)
            }
            other => {
                return Err(ReadError::UnknownType {
                    offset: type_offset,
                    value_type: other,
                });
            }
        };
        Ok(value)
    }
}
