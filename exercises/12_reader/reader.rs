//! Exercise: a bounds-checked binary reader over untrusted bytes.
//!
//! Before llama.cpp can point at a single tensor, it parses the GGUF header:
//! little-endian integers, length-prefixed strings and typed (possibly
//! nested) arrays, every length and count read from the file itself. In C
//! that is a cursor into a buffer and a discipline: check `pos + n <= size`
//! before every read, without letting `pos + n` wrap around, and never
//! trust a count enough to `malloc` it. This module is that cursor in Rust.
//! Every read returns a value or a `ReadError`; none panics, reads outside
//! the input or reserves memory for a count it has not seen.
//!
//! Rules the driver checks (it tries lengths and counts up to 2^64 - 1):
//! * No read panics, whatever the input holds: no `[..]` indexing with
//!   numbers from the input, no unchecked `+`, no `as usize` that could
//!   truncate a length (`usize::try_from`).
//! * A failed read leaves the position exactly where it was, however far
//!   into a string or a nested array it got. A successful one moves it past
//!   what it read.
//! * `Truncated` reports where the failing `take` started, how many bytes
//!   it needed and how many remained. Each error's fields are documented on
//!   `ReadError`.
//! * Strings are borrowed from the input (`&'a str`), never copied.
//! * Nothing is reserved for a count read from the input: no
//!   `Vec::with_capacity(count)` (the check limits the heap, and a count of
//!   2^40 would abort the program).
//! * Arrays nest at most `MAX_DEPTH` deep: the driver tries 100 000 levels,
//!   which would overflow the stack without the limit.
//!
//! No `unsafe` is needed anywhere.

use std::fmt;

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
// Silences "variant never constructed" until your code returns them;
// remove it once the reader is done.
#[allow(dead_code)]
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
#[allow(dead_code)] // (remove it once `value` is done)
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
        // TODO: the only method that touches `self.bytes`.
        // 1. `n` comes from the input and may be up to 2^64 - 1. It may not
        //    fit a `usize` (on a 32-bit target), and `self.pos + n` may wrap
        //    around (a panic in a debug build, a wrong slice in release).
        //    Which conversion and which addition return an `Option` instead?
        // 2. `self.bytes[a..b]` panics when out of range; which method of
        //    slices returns `None` instead?
        // 3. On success, move `pos` past the bytes and return them: borrowed
        //    from the input (`&'a [u8]`), not copied. On failure return
        //    `Truncated { offset: self.pos, needed: n, available: self.remaining() }`
        //    and leave `pos` alone.
        let _ = n; // (delete this line: it only silences a warning)
        todo!()
    }

    /// The next `N` bytes as an array, ready for `from_le_bytes`.
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ReadError> {
        // TODO: `take` N bytes and turn the `&[u8]` into a `[u8; N]`
        // (`try_into`). `take` guarantees the length, so the conversion
        // cannot fail, but handle its `Err` without `unwrap` anyway: no
        // panic paths in a parser.
        todo!()
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
        // TODO: a `u64` length, then `take(len)`, then UTF-8 validation
        // (`std::str::from_utf8` borrows, `String::from_utf8` would copy).
        // `InvalidUtf8.offset` is where the string's bytes start (after the
        // length). If any step fails, the length must not stay consumed:
        // remember `self.pos` and restore it, or (since `Reader` is `Copy`)
        // read from a copy, `let mut r = *self;`, and `*self = r` only once
        // everything succeeded.
        todo!()
    }

    /// A typed value: a `u32` type, then the value. On any error the
    /// position is unchanged.
    pub fn value(&mut self) -> Result<Value<'a>, ReadError> {
        // TODO: read the `u32` type (remember its offset, for UnknownType),
        // then let `value_of` read the value at depth 0. On any error,
        // restore the position (the same trick as `string`).
        let _ = Self::value_of; // (delete this line: it only silences a warning)
        todo!()
    }

    /// A value of type `value_type` (read at `type_offset`), inside `depth`
    /// arrays already.
    fn value_of(
        &mut self,
        value_type: u32,
        type_offset: usize,
        depth: usize,
    ) -> Result<Value<'a>, ReadError> {
        // TODO: `match value_type`:
        // - TYPE_U8, TYPE_U32, TYPE_U64, TYPE_STRING: one read each.
        // - TYPE_ARRAY:
        //   1. `depth` counts the arrays already around this one. If it is
        //      already `MAX_DEPTH`, this array is one too deep: `TooDeep`
        //      at `self.pos` (where its element type would be read). Without
        //      this, each level is one more stack frame: 100 000 levels of a
        //      12-byte header overflow the stack.
        //   2. Read the element type and the count. Reject an unknown element
        //      type (`UnknownType` at its offset) before reading any
        //      element, even if the count is 0.
        //   3. The count is untrusted: no `Vec::with_capacity(count)`.
        //      Push into a `Vec::new()` as elements are read: each one takes
        //      at least one byte, so a lying count runs out of input and
        //      fails with `Truncated`.
        //   4. Each element is `self.value_of(elem_type, elem_offset, depth + 1)`.
        // - anything else: `UnknownType { offset: type_offset, .. }`.
        let _ = (value_type, type_offset, depth); // (delete this line: it only silences a warning)
        todo!()
    }
}
