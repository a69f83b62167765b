//! A bounds-checked binary reader over untrusted bytes (reference solution).
//!
//! Before llama.cpp can point at a single tensor, it parses the GGUF header:
//! little-endian integers, length-prefixed strings and typed (possibly
//! nested) arrays, every length and count read from the file itself. In C
//! that is a cursor into a buffer and a discipline: check `pos + n <= size`
//! before every read, without letting `pos + n` wrap around, and never
//! trust a count enough to `malloc` it. This module is that cursor in Rust.
//! Every read returns a value or a `ReadError`; none panics, reads outside
//! the input or reserves memory for a count it has not seen.

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
///
/// `Copy`, because it is only a slice and a position: a reader can try a
/// read on a copy of itself and keep the copy only if the read succeeded.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    /// Invariant: `pos <= bytes.len()`.
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

    /// The next `n` bytes, borrowed from the input, or `Truncated` (and the
    /// position unchanged) if fewer remain.
    pub fn take(&mut self, n: u64) -> Result<&'a [u8], ReadError> {
        // `n` may come straight from the input. It may not fit a `usize`
        // (on a 32-bit target), and `pos + n` may wrap: both are checked,
        // and `get` never panics where `[..]` would.
        let taken = usize::try_from(n)
            .ok()
            .and_then(|n| self.pos.checked_add(n))
            .and_then(|end| self.bytes.get(self.pos..end))
            .ok_or(ReadError::Truncated {
                offset: self.pos,
                needed: n,
                available: self.remaining(),
            })?;
        self.pos += taken.len();
        Ok(taken)
    }

    /// The next `N` bytes as an array, ready for `from_le_bytes`.
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ReadError> {
        let offset = self.pos;
        let bytes = self.take(N as u64)?;
        // `take` returned exactly N bytes, so this cannot fail; the fallback
        // keeps even the impossible case free of panics.
        bytes.try_into().map_err(|_| ReadError::Truncated {
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

    /// A string: a `u64` length, then that many UTF-8 bytes, borrowed from
    /// the input (no copy). On any error the position is unchanged.
    pub fn string(&mut self) -> Result<&'a str, ReadError> {
        // Work on a copy and commit only on success, so that a length read
        // before a failure does not stay consumed.
        let mut r = *self;
        let len = r.u64()?;
        let offset = r.pos;
        let bytes = r.take(len)?;
        let s = str::from_utf8(bytes).map_err(|_| ReadError::InvalidUtf8 { offset })?;
        *self = r;
        Ok(s)
    }

    /// A typed value: a `u32` type, then the value. On any error the
    /// position is unchanged.
    pub fn value(&mut self) -> Result<Value<'a>, ReadError> {
        let mut r = *self;
        let offset = r.pos;
        let value_type = r.u32()?;
        let value = r.value_of(value_type, offset, 0)?;
        *self = r;
        Ok(value)
    }

    /// A value of type `value_type` (read at `type_offset`), inside `depth`
    /// arrays already.
    fn value_of(
        &mut self,
        value_type: u32,
        type_offset: usize,
        depth: usize,
    ) -> Result<Value<'a>, ReadError> {
        Ok(match value_type {
            TYPE_U8 => Value::U8(self.u8()?),
            TYPE_U32 => Value::U32(self.u32()?),
            TYPE_U64 => Value::U64(self.u64()?),
            TYPE_STRING => Value::Str(self.string()?),
            TYPE_ARRAY => {
                // Recursion is bounded by the depth, not by the input: a
                // small file of nested array headers would otherwise
                // overflow the stack.
                if depth == MAX_DEPTH {
                    return Err(ReadError::TooDeep {
                        offset: self.pos,
                        limit: MAX_DEPTH,
                    });
                }
                let elem_offset = self.pos;
                let elem_type = self.u32()?;
                let count = self.u64()?;
                // No `Vec::with_capacity(count)`: `count` is untrusted, and
                // 2^40 would abort the process before the first element is
                // read. Every element takes at least one byte, so a count
                // that lies ends in `Truncated` after at most `remaining()`
                // pushes. The element type is checked before any element,
                // so an empty array of an unknown type is rejected too.
                if !matches!(
                    elem_type,
                    TYPE_U8 | TYPE_U32 | TYPE_U64 | TYPE_STRING | TYPE_ARRAY
                ) {
                    return Err(ReadError::UnknownType {
                        offset: elem_offset,
                        value_type: elem_type,
                    });
                }
                let mut items = Vec::new();
                for _ in 0..count {
                    items.push(self.value_of(elem_type, elem_offset, depth + 1)?);
                }
                Value::Array(items)
            }
            other => {
                return Err(ReadError::UnknownType {
                    offset: type_offset,
                    value_type: other,
                });
            }
        })
    }
}
