//! Exercise (capstone): a zero-copy GGUF model loader.
//!
//! llama.cpp does not `read()` gigabytes of weights into heap buffers. It
//! `mmap`s the model file, parses the small GGUF header and points every
//! tensor straight into the mapping; the kernel pages weights in on demand
//! and shares them between processes. This module does the same in Rust:
//!
//! * [`ModelLoader::open`] maps the file read-only and validates the whole
//!   header with bounds-checked reads, so a corrupt file becomes a
//!   [`LoadError`], never a panic or a read past the end of the mapping.
//! * [`ModelLoader::tensor_f32`] returns `&[f32]` views *into the mapping*.
//!   Their lifetime is tied to `&self`, so the compiler rejects any use after
//!   the file is unmapped: the dangling-pointer bug C++ leaves to discipline.
//! * [`ScratchPool`] is a bump arena for temporary results, like ggml's
//!   compute buffers. [`ModelLoader::dequantize_into`] writes owned f32
//!   copies into it; they borrow the pool, not the file.
//! * Consumers share one loader through `Arc<ModelLoader>` (C++:
//!   `std::shared_ptr`); the file is unmapped when the last handle goes.
//!
//! What is already written for you, and why: the byte-level layer you
//! built in the reader exercise. `Reader` (`take`, the little-endian
//! `u8`..`f64` reads, `string`, and `value` with its 13 value types and
//! nested arrays), the metadata accessors (`MetaValue::as_u64`/`as_str`,
//! `metadata_value`/`_str`/`_u64`) and the first half of `parse_header`
//! (magic, version, counts, metadata) are finished, commented code. Read
//! them once: they are the reader exercise's answers adapted to this file
//! format (the comments say where they differ), and everything you write
//! reads the file through them. `f16_to_f32` (the quant exercise),
//! `ScratchPool::new`, `reset` and `Drop`, and every error message (in
//! `impl Display for LoadError`) are written for you too.
//!
//! What is left is what the capstone is about. Work through the `todo!()`s
//! roughly top to bottom:
//! 1. the tensor table: `TensorInfo::n_elements`/`n_bytes` and
//!    `Reader::tensor_info`;
//! 2. `tensor_span`, the checks that make a tensor's byte range safe, and
//!    the rest of `parse_header`: the alignment, the tensor infos and the
//!    start of the data section;
//! 3. `ModelLoader::open`: map the file (the `Arc` sharing in the driver
//!    then works by itself: the mapping goes when the last handle drops);
//! 4. the views: `tensor_bytes`, the zero-copy `tensor_f32`, and
//!    `dequantize_into`, which converts F16 into the scratch pool;
//! 5. `ScratchPool::alloc_f32`, the pool exercise's `allocate` for f32s.
//!
//! The driver (`main.rs`) shows what every piece must print.
//!
//! Rules of the game: a malformed file must give a `LoadError`, never a
//! panic. So no indexing with `[]` on file data, no unchecked `+`/`*` on
//! numbers read from the file, and no `Vec::with_capacity(count)` with an
//! untrusted `count`. The driver's files hold counts, lengths and offsets
//! up to 2^64 - 1. Every `unsafe` block needs a `// SAFETY:` comment.
//!
//! Zero copy means zero copy: map the file, never `read` it. The driver's
//! model holds a 4 MiB tensor, the exercise limits the heap the whole
//! program may use to far less, and the driver asks the kernel
//! (/proc/self/maps) whether each view points into the mapped file.

// Silences "never used" warnings while parts of the file are still
// `todo!()`; delete this line when you are done.
#![allow(dead_code, unused_imports, unused_variables)]

use std::alloc::{self, Layout};
use std::cell::Cell;
use std::fmt;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::slice;

use memmap2::Mmap;

// GGUF stores numbers little-endian. Header fields are decoded with
// `from_le_bytes` and work anywhere, but a zero-copy `&[f32]` reinterprets
// file bytes as native floats, which is only correct on a little-endian host
// (llama.cpp makes the same assumption).
const _: () = assert!(
    cfg!(target_endian = "little"),
    "zero-copy f32 views need a little-endian host"
);

/// The four bytes every GGUF file starts with.
pub const GGUF_MAGIC: [u8; 4] = *b"GGUF";
/// The only GGUF version this loader reads.
pub const GGUF_VERSION: u32 = 3;
/// Alignment of tensor data when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;
/// The metadata key that overrides [`DEFAULT_ALIGNMENT`].
pub const ALIGNMENT_KEY: &str = "general.alignment";
/// ggml tensors have at most four dimensions (`GGML_MAX_DIMS`).
pub const MAX_DIMS: u32 = 4;
/// Arrays may contain arrays, but only this deep (a top-level array has
/// depth 1). Parsing recurses once per level, so without a limit a small
/// file of nested array headers could overflow the stack.
pub const MAX_ARRAY_DEPTH: usize = 8;
/// ggml type id of 32-bit floats.
pub const GGML_TYPE_F32: u32 = 0;
/// ggml type id of IEEE half floats.
pub const GGML_TYPE_F16: u32 = 1;

/// `(name, elements per block, bytes per block)` of the ggml types whose
/// size this loader knows. Quantised types store blocks of many elements.
/// A tensor of any other type is rejected, because its extent in the file
/// (and therefore its bounds check) would be unknown.
fn ggml_type_layout(ggml_type: u32) -> Option<(&'static str, u64, u64)> {
    let layout = match ggml_type {
        0 => ("F32", 1, 4),
        1 => ("F16", 1, 2),
        2 => ("Q4_0", 32, 18),
        3 => ("Q4_1", 32, 20),
        6 => ("Q5_0", 32, 22),
        7 => ("Q5_1", 32, 24),
        8 => ("Q8_0", 32, 34),
        9 => ("Q8_1", 32, 40),
        10 => ("Q2_K", 256, 84),
        11 => ("Q3_K", 256, 110),
        12 => ("Q4_K", 256, 144),
        13 => ("Q5_K", 256, 176),
        14 => ("Q6_K", 256, 210),
        15 => ("Q8_K", 256, 292),
        24 => ("I8", 1, 1),
        25 => ("I16", 1, 2),
        26 => ("I32", 1, 4),
        27 => ("I64", 1, 8),
        28 => ("F64", 1, 8),
        30 => ("BF16", 1, 2),
        _ => return None,
    };
    Some(layout)
}

/// Name of a ggml type id, or `"?"` for one this loader does not know.
pub fn ggml_type_name(ggml_type: u32) -> &'static str {
    ggml_type_layout(ggml_type).map_or("?", |(name, _, _)| name)
}

/// Everything that can go wrong while loading or reading a model.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be opened or mapped.
    Io { path: PathBuf, source: io::Error },
    /// The file does not start with `GGUF`.
    BadMagic([u8; 4]),
    /// A GGUF version other than [`GGUF_VERSION`].
    UnsupportedVersion(u32),
    /// A fixed-size field starting at `offset` needs `needed` bytes, but the
    /// file ends first.
    Truncated {
        offset: u64,
        needed: u64,
        file_len: u64,
    },
    /// The string whose length prefix starts at `offset` claims `len` bytes,
    /// more than remain in the file.
    StringPastEnd {
        offset: u64,
        len: u64,
        file_len: u64,
    },
    /// The string whose length prefix starts at `offset` is not UTF-8.
    InvalidUtf8 { offset: u64 },
    /// Metadata `key` (or an array inside it) uses a type id outside 0..=12.
    UnknownValueType { key: String, value_type: u32 },
    /// Metadata `key` nests arrays deeper than [`MAX_ARRAY_DEPTH`].
    NestingTooDeep { key: String },
    /// `general.alignment` is not a `u32` power of two (shown as found).
    BadAlignment(String),
    /// A tensor has more than [`MAX_DIMS`] dimensions.
    TooManyDims { tensor: String, n_dims: u32 },
    /// The element count or byte size of a tensor overflows `u64`.
    DimOverflow { tensor: String, dims: Vec<u64> },
    /// A tensor's ggml type is not in this loader's size table.
    UnknownGgmlType { tensor: String, ggml_type: u32 },
    /// A quantised tensor's first dimension is not a whole number of blocks.
    BadBlockShape {
        tensor: String,
        ne0: u64,
        block: u64,
    },
    /// A tensor's offset is not a multiple of the file's alignment.
    MisalignedOffset {
        tensor: String,
        offset: u64,
        alignment: u64,
    },
    /// A tensor's `len` bytes, starting at file position `start`, run past
    /// the end of the file.
    TensorDataPastEnd {
        tensor: String,
        start: u64,
        len: u64,
        file_len: u64,
    },
    /// No tensor has this name.
    TensorNotFound(String),
    /// A zero-copy `&[f32]` view was requested for a tensor of another type.
    NotF32 { tensor: String, ggml_type: u32 },
    /// The tensor's type cannot be converted to f32 by this loader.
    Unsupported { tensor: String, ggml_type: u32 },
    /// The tensor's bytes are not 4-byte aligned in memory, so they cannot
    /// be viewed as `&[f32]` (copy them with `dequantize_into` instead).
    MisalignedData { tensor: String },
    /// The scratch pool has too little room left (`available` is the
    /// capacity minus the bytes used so far, before any alignment padding).
    ScratchExhausted { requested: usize, available: usize },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io { path, source } => {
                write!(f, "cannot open {}: {source}", path.display())
            }
            LoadError::BadMagic(found) => write!(
                f,
                "not a GGUF file: magic is \"{}\", expected \"GGUF\"",
                found.escape_ascii()
            ),
            LoadError::UnsupportedVersion(v) => write!(
                f,
                "unsupported GGUF version {v} (this loader reads version {GGUF_VERSION})"
            ),
            LoadError::Truncated {
                offset,
                needed,
                file_len,
            } => write!(
                f,
                "truncated: {needed} bytes needed at offset {offset}, but the file is {file_len} bytes"
            ),
            LoadError::StringPastEnd {
                offset,
                len,
                file_len,
            } => write!(
                f,
                "string at offset {offset} claims {len} bytes, past the end of the file ({file_len} bytes)"
            ),
            LoadError::InvalidUtf8 { offset } => {
                write!(f, "string at offset {offset} is not valid UTF-8")
            }
            LoadError::UnknownValueType { key, value_type } => {
                write!(f, "metadata `{key}`: unknown value type {value_type}")
            }
            LoadError::NestingTooDeep { key } => write!(
                f,
                "metadata `{key}`: arrays nested deeper than {MAX_ARRAY_DEPTH} levels"
            ),
            LoadError::BadAlignment(found) => write!(
                f,
                "{ALIGNMENT_KEY} must be a non-zero power of two stored as u32, found {found}"
            ),
            LoadError::TooManyDims { tensor, n_dims } => write!(
                f,
                "tensor `{tensor}`: {n_dims} dimensions (at most {MAX_DIMS} allowed)"
            ),
            LoadError::DimOverflow { tensor, dims } => {
                write!(f, "tensor `{tensor}`: size of dims {dims:?} overflows u64")
            }
            LoadError::UnknownGgmlType { tensor, ggml_type } => {
                write!(f, "tensor `{tensor}`: unknown ggml type {ggml_type}")
            }
            LoadError::BadBlockShape { tensor, ne0, block } => write!(
                f,
                "tensor `{tensor}`: first dimension {ne0} is not a multiple of the block size {block}"
            ),
            LoadError::MisalignedOffset {
                tensor,
                offset,
                alignment,
            } => write!(
                f,
                "tensor `{tensor}`: offset {offset} is not a multiple of the alignment {alignment}"
            ),
            LoadError::TensorDataPastEnd {
                tensor,
                start,
                len,
                file_len,
            } => write!(
                f,
                "tensor `{tensor}`: {len} bytes at file offset {start} run past the end of the file ({file_len} bytes)"
            ),
            LoadError::TensorNotFound(name) => write!(f, "no tensor named `{name}`"),
            LoadError::NotF32 { tensor, ggml_type } => write!(
                f,
                "tensor `{tensor}` is {}, not F32: no zero-copy f32 view",
                ggml_type_name(*ggml_type)
            ),
            LoadError::Unsupported { tensor, ggml_type } => write!(
                f,
                "tensor `{tensor}`: converting {} to f32 is not supported",
                ggml_type_name(*ggml_type)
            ),
            LoadError::MisalignedData { tensor } => write!(
                f,
                "tensor `{tensor}`: data is not 4-byte aligned in memory, cannot view it as f32"
            ),
            LoadError::ScratchExhausted {
                requested,
                available,
            } => write!(
                f,
                "scratch pool exhausted: requested {requested} bytes, {available} available"
            ),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A metadata value. The variants are listed in GGUF type-id order (0..=12).
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    Str(String),
    /// All elements have the same type (GGUF stores it once per array).
    Array(Vec<MetaValue>),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl MetaValue {
    /// Short name of the value's type, for display.
    pub fn type_name(&self) -> &'static str {
        match self {
            MetaValue::U8(_) => "u8",
            MetaValue::I8(_) => "i8",
            MetaValue::U16(_) => "u16",
            MetaValue::I16(_) => "i16",
            MetaValue::U32(_) => "u32",
            MetaValue::I32(_) => "i32",
            MetaValue::F32(_) => "f32",
            MetaValue::Bool(_) => "bool",
            MetaValue::Str(_) => "str",
            MetaValue::Array(_) => "array",
            MetaValue::U64(_) => "u64",
            MetaValue::I64(_) => "i64",
            MetaValue::F64(_) => "f64",
        }
    }

    /// The value as a `u64`, if it is an integer that fits (negative
    /// numbers do not).
    pub fn as_u64(&self) -> Option<u64> {
        // Provided (with `as_str`): `try_from` turns a negative number into `None`.
        match *self {
            MetaValue::U8(v) => Some(v.into()),
            MetaValue::U16(v) => Some(v.into()),
            MetaValue::U32(v) => Some(v.into()),
            MetaValue::U64(v) => Some(v),
            MetaValue::I8(v) => u64::try_from(v).ok(),
            MetaValue::I16(v) => u64::try_from(v).ok(),
            MetaValue::I32(v) => u64::try_from(v).ok(),
            MetaValue::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a string slice, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetaValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for MetaValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetaValue::U8(v) => write!(f, "{v}"),
            MetaValue::I8(v) => write!(f, "{v}"),
            MetaValue::U16(v) => write!(f, "{v}"),
            MetaValue::I16(v) => write!(f, "{v}"),
            MetaValue::U32(v) => write!(f, "{v}"),
            MetaValue::I32(v) => write!(f, "{v}"),
            MetaValue::F32(v) => write!(f, "{v}"),
            MetaValue::Bool(v) => write!(f, "{v}"),
            MetaValue::Str(s) => write!(f, "{s:?}"),
            MetaValue::Array(items) => {
                write!(f, "[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{item}")?;
                }
                write!(f, "]")
            }
            MetaValue::U64(v) => write!(f, "{v}"),
            MetaValue::I64(v) => write!(f, "{v}"),
            MetaValue::F64(v) => write!(f, "{v}"),
        }
    }
}

/// One entry of the tensor table in the GGUF header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    /// Dimensions in ggml order: `dims[0]` (`ne0`) varies fastest, so a
    /// row-major numpy array of shape `(rows, cols)` is stored as `[cols, rows]`.
    pub dims: Vec<u64>,
    pub ggml_type: u32,
    /// Start of the data, relative to the start of the data section.
    pub offset: u64,
}

impl TensorInfo {
    /// Number of elements, or `None` if the product overflows.
    pub fn n_elements(&self) -> Option<u64> {
        // TODO: the product of `dims` (1 for no dims), using `checked_mul` so that
        // an absurd shape gives `None` instead of wrapping around or panicking.
        todo!()
    }

    /// Size of the data in bytes, or `None` if the type is unknown, the
    /// shape does not fit the type's blocks, or the size overflows.
    pub fn n_bytes(&self) -> Option<u64> {
        // TODO: look up `(name, block, block_bytes)` with `ggml_type_layout`; the
        // element count must be a whole number of blocks; the size is
        // `n_elements / block * block_bytes` (checked).
        todo!()
    }

    /// Name of the tensor's ggml type (`"?"` if unknown).
    pub fn type_name(&self) -> &'static str {
        ggml_type_name(self.ggml_type)
    }
}

// ---------------------------------------------------------------------
// PROVIDED: the reader exercise's layer, finished. The capstone is about
// what sits on top of it (the tensor table, alignment, views, sharing), so
// `take`, the number reads, `string` and `value` are written for you; only
// `tensor_info` at the end of this `impl` is yours. What differs from the
// reader exercise, so you can read it against your own code:
// * `take` takes a `usize` (callers convert first), and `Truncated`
//   reports the file's length, not the bytes remaining;
// * a failed read ends `open`, so the position is not restored on error;
// * strings are copied into `String`s (a `MetaValue` owns its data), a
//   length past the end is `StringPastEnd`, and both string errors point
//   at the length prefix;
// * there are 13 value types (0..=12), not five, and arrays nest up to
//   `MAX_ARRAY_DEPTH`.
// ---------------------------------------------------------------------

/// A bounds-checked little-endian cursor over the file's bytes.
///
/// Every read either returns the requested bytes or an error: it never
/// panics and never reads outside `bytes`, whatever numbers the file holds.
struct Reader<'a> {
    bytes: &'a [u8],
    /// Invariant: `pos <= bytes.len()`.
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    fn file_len(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Consumes the next `n` bytes, or fails with [`LoadError::Truncated`]
    /// (offset = current position, needed = `n`) if fewer remain.
    fn take(&mut self, n: usize) -> Result<&'a [u8], LoadError> {
        // `get` instead of indexing, and `checked_add` because `n` may come
        // straight from the file: `pos + n` must not wrap around.
        let taken = self
            .pos
            .checked_add(n)
            .and_then(|end| self.bytes.get(self.pos..end))
            .ok_or(LoadError::Truncated {
                offset: self.pos as u64,
                needed: n as u64,
                file_len: self.file_len(),
            })?;
        self.pos += n;
        Ok(taken)
    }

    /// Reads a fixed-size field, ready for `from_le_bytes`.
    fn array<const N: usize>(&mut self) -> Result<[u8; N], LoadError> {
        let bytes = self.take(N)?;
        // `take` returned exactly N bytes, so the conversion cannot fail; the
        // fallback keeps even that impossible case panic-free.
        bytes.try_into().map_err(|_| LoadError::Truncated {
            offset: self.pos as u64,
            needed: N as u64,
            file_len: self.file_len(),
        })
    }

    fn u8(&mut self) -> Result<u8, LoadError> {
        self.array().map(u8::from_le_bytes)
    }
    fn i8(&mut self) -> Result<i8, LoadError> {
        self.array().map(i8::from_le_bytes)
    }
    fn u16(&mut self) -> Result<u16, LoadError> {
        self.array().map(u16::from_le_bytes)
    }
    fn i16(&mut self) -> Result<i16, LoadError> {
        self.array().map(i16::from_le_bytes)
    }
    fn u32(&mut self) -> Result<u32, LoadError> {
        self.array().map(u32::from_le_bytes)
    }
    fn i32(&mut self) -> Result<i32, LoadError> {
        self.array().map(i32::from_le_bytes)
    }
    fn u64(&mut self) -> Result<u64, LoadError> {
        self.array().map(u64::from_le_bytes)
    }
    fn i64(&mut self) -> Result<i64, LoadError> {
        self.array().map(i64::from_le_bytes)
    }
    fn f32(&mut self) -> Result<f32, LoadError> {
        self.array().map(f32::from_le_bytes)
    }
    fn f64(&mut self) -> Result<f64, LoadError> {
        self.array().map(f64::from_le_bytes)
    }

    /// Reads a GGUF string: a `u64` byte length, then that many UTF-8 bytes
    /// (no terminating NUL). A length past the end of the file is
    /// [`LoadError::StringPastEnd`], with the offset of the length prefix.
    fn string(&mut self) -> Result<String, LoadError> {
        // Unlike the reader exercise, both errors below report the offset of
        // the *length prefix* (where this call started), not of the bytes.
        let offset = self.pos as u64;
        let len = self.u64()?;
        let remaining = self.bytes.len() - self.pos;
        let past_end = LoadError::StringPastEnd {
            offset,
            len,
            file_len: self.file_len(),
        };
        // `len` comes from the file: check it against what remains before
        // taking anything (on a 32-bit target it may not even fit a `usize`).
        let n = usize::try_from(len)
            .ok()
            .filter(|&n| n <= remaining)
            .ok_or(past_end)?;
        let bytes = self.take(n)?;
        // Copy into an owned `String`: metadata is small, and owning it keeps
        // `ModelLoader` free of self-references into its own mapping.
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| LoadError::InvalidUtf8 { offset })
    }

    /// Reads one metadata value of GGUF type `value_type`. `depth` counts
    /// the arrays we are already inside; `key` is only for error messages.
    fn value(&mut self, key: &str, value_type: u32, depth: usize) -> Result<MetaValue, LoadError> {
        let value = match value_type {
            0 => MetaValue::U8(self.u8()?),
            1 => MetaValue::I8(self.i8()?),
            2 => MetaValue::U16(self.u16()?),
            3 => MetaValue::I16(self.i16()?),
            4 => MetaValue::U32(self.u32()?),
            5 => MetaValue::I32(self.i32()?),
            6 => MetaValue::F32(self.f32()?),
            // Stored as one byte. We read any non-zero byte as true; a
            // stricter reader could reject 2..=255.
            7 => MetaValue::Bool(self.u8()? != 0),
            8 => MetaValue::Str(self.string()?),
            9 => {
                if depth >= MAX_ARRAY_DEPTH {
                    return Err(LoadError::NestingTooDeep {
                        key: key.to_owned(),
                    });
                }
                let elem_type = self.u32()?;
                // Check the element type even if the array turns out empty.
                if elem_type > 12 {
                    return Err(LoadError::UnknownValueType {
                        key: key.to_owned(),
                        value_type: elem_type,
                    });
                }
                let count = self.u64()?;
                // No `Vec::with_capacity(count)`: `count` is untrusted, and a
                // corrupt 2^60 would abort the process before the first read.
                // Every element takes at least one byte, so a lying count
                // ends in `Truncated` after at most `file_len` iterations.
                let mut items = Vec::new();
                for _ in 0..count {
                    items.push(self.value(key, elem_type, depth + 1)?);
                }
                MetaValue::Array(items)
            }
            10 => MetaValue::U64(self.u64()?),
            11 => MetaValue::I64(self.i64()?),
            12 => MetaValue::F64(self.f64()?),
            other => {
                return Err(LoadError::UnknownValueType {
                    key: key.to_owned(),
                    value_type: other,
                });
            }
        };
        Ok(value)
    }

    /// Reads one tensor-info record: name, n_dims, dims, type, offset.
    fn tensor_info(&mut self) -> Result<TensorInfo, LoadError> {
        // TODO (yours: the first piece of the tensor table): read, with the
        // methods above, the name (`self.string()`), n_dims (`self.u32()`, at
        // most MAX_DIMS, else `TooManyDims`: check it *before* reading any
        // dimension, since it comes from the file), n_dims dims (`self.u64()`
        // each), the ggml type (u32) and the offset (u64). Any read error
        // just goes up with `?`.
        todo!()
    }
}

/// Where `info`'s bytes are in the file, after checking everything that
/// could make that range wrong: size overflow, unknown type, partial
/// blocks, misaligned offset, data past the end.
fn tensor_span(
    info: &TensorInfo,
    data_offset: u64,
    alignment: u64,
    file_len: u64,
) -> Result<Range<usize>, LoadError> {
    // TODO: check, in this order (each failure has its own `LoadError`):
    // 1. the element count fits in u64            (DimOverflow)
    // 2. the type is in `ggml_type_layout`         (UnknownGgmlType)
    // 3. dims[0] is a multiple of the block size  (BadBlockShape)
    // 4. the byte size fits in u64                 (DimOverflow)
    // 5. the offset is a multiple of `alignment`   (MisalignedOffset)
    // 6. data_offset + offset + size <= file_len   (TensorDataPastEnd; `start`
    //    is data_offset + offset with `saturating_add`, so a sum past u64::MAX
    //    shows as u64::MAX; `start + size` must not overflow either, and may
    //    end exactly at file_len)
    // Then return the range as `usize`s.
    todo!()
}

/// Everything `open` learns from the header.
struct Header {
    version: u32,
    alignment: u64,
    data_offset: u64,
    metadata: Vec<(String, MetaValue)>,
    tensors: Vec<TensorInfo>,
    spans: Vec<Range<usize>>,
}

/// Parses and validates the header of the GGUF file `bytes`.
fn parse_header(bytes: &[u8]) -> Result<Header, LoadError> {
    // PROVIDED: the fixed header and the metadata, read with the `Reader`.
    let mut r = Reader::new(bytes);
    let magic = r.array::<4>()?;
    if magic != GGUF_MAGIC {
        return Err(LoadError::BadMagic(magic));
    }
    let version = r.u32()?;
    if version != GGUF_VERSION {
        return Err(LoadError::UnsupportedVersion(version));
    }
    let tensor_count = r.u64()?;
    let kv_count = r.u64()?;

    // As with arrays, the counts are untrusted: grow the vectors as records
    // are actually read instead of reserving `count` slots up front.
    let mut metadata = Vec::new();
    for _ in 0..kv_count {
        let key = r.string()?;
        let value_type = r.u32()?;
        let value = r.value(&key, value_type, 0)?;
        metadata.push((key, value));
    }

    // TODO (yours): the rest of the header, then `Ok(Header { .. })`.
    // - the alignment: the value of `ALIGNMENT_KEY` in `metadata` if present
    //   (it must be a `MetaValue::U32` power of two, else `BadAlignment`
    //   showing "<type name> <value>", e.g. "u64 32" or "u32 0"), else
    //   `DEFAULT_ALIGNMENT`;
    // - `tensor_count` tensor infos (`r.tensor_info()`), pushed one by one
    //   (the count is untrusted, like `kv_count` above);
    // - the data section starts at the reader's position (`r.pos`) rounded
    //   up to the alignment (`checked_next_multiple_of`; if that overflows,
    //   `Truncated` at that position, needing `alignment` bytes);
    // - a span for every tensor (`tensor_span`, with `r.file_len()`), so
    //   that `open` rejects a bad file before any view exists.
    todo!()
}

/// IEEE-754 half precision to single precision. Exact: every f16 value is
/// representable as an f32.
fn f16_to_f32(bits: u16) -> f32 {
    let negative = bits & 0x8000 != 0;
    let exponent = u32::from((bits >> 10) & 0x1f);
    let mantissa = u32::from(bits & 0x03ff);
    let magnitude = match exponent {
        // Zero and subnormals: mantissa * 2^-24, a normal f32.
        0 => f32::from(bits & 0x03ff) * f32::from_bits(0x3380_0000),
        // Infinity and NaN keep their payload.
        0x1f => f32::from_bits(0x7f80_0000 | (mantissa << 13)),
        // Normal numbers: re-bias the exponent (15 -> 127), widen the mantissa.
        _ => f32::from_bits(((exponent + 127 - 15) << 23) | (mantissa << 13)),
    };
    if negative { -magnitude } else { magnitude }
}

/// Keeps the memory map and announces when it is released. The actual
/// `munmap` happens in `Mmap`'s own `Drop`, right after ours.
struct Mapping(Mmap);

impl Drop for Mapping {
    fn drop(&mut self) {
        println!("  unmapping {} bytes", self.0.len());
    }
}

/// A GGUF model file, memory-mapped and validated.
///
/// Tensor views borrow from the loader, so it cannot be dropped (unmapping
/// the file) while any view is alive. Share it between owners with
/// `Arc<ModelLoader>`.
pub struct ModelLoader {
    path: PathBuf,
    version: u32,
    alignment: u64,
    /// Absolute file position where the tensor data section starts.
    data_offset: u64,
    /// In file order. A linear search is fine for a few dozen keys (llama.cpp
    /// does the same).
    metadata: Vec<(String, MetaValue)>,
    /// In file order.
    tensors: Vec<TensorInfo>,
    /// Validated byte range of `tensors[i]` within `map`.
    spans: Vec<Range<usize>>,
    map: Mapping,
}

impl ModelLoader {
    /// Maps the file at `path` read-only and parses its header.
    pub fn open(path: impl AsRef<Path>) -> Result<ModelLoader, LoadError> {
        // TODO: open the file (`std::fs::File::open`) and map it with
        // `memmap2::Mmap::map` (an I/O failure of either is `LoadError::Io`).
        // `Mmap::map` is `unsafe`: your `// SAFETY:` comment should say what we
        // assume about the file while it is mapped. Then `parse_header` and move
        // everything into the struct.
        todo!()
    }

    /// The path the loader was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// GGUF version of the file (always [`GGUF_VERSION`]).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Alignment of tensor data: `general.alignment`, or 32 if absent.
    pub fn alignment(&self) -> u64 {
        self.alignment
    }

    /// Absolute file position where the tensor data section starts.
    pub fn data_offset(&self) -> u64 {
        self.data_offset
    }

    /// Size of the mapped file in bytes.
    pub fn file_len(&self) -> u64 {
        self.map.0.len() as u64
    }

    /// All metadata, in file order.
    pub fn metadata(&self) -> &[(String, MetaValue)] {
        &self.metadata
    }

    /// The value of metadata `key`, if present.
    pub fn metadata_value(&self, key: &str) -> Option<&MetaValue> {
        // Provided (with `metadata_str` and `metadata_u64`): a linear search.
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, value)| value)
    }

    /// The value of a string-valued metadata key.
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        self.metadata_value(key)?.as_str()
    }

    /// The value of an integer metadata key, if it fits in a `u64`.
    pub fn metadata_u64(&self, key: &str) -> Option<u64> {
        self.metadata_value(key)?.as_u64()
    }

    /// The tensor table, in file order.
    pub fn tensor_infos(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// The info and the (still bounds-checked) bytes of tensor `name`.
    fn tensor_bytes(&self, name: &str) -> Result<(&TensorInfo, &[u8]), LoadError> {
        // TODO: find the tensor (`TensorNotFound`), then take its span's bytes
        // from the mapping with `get` rather than `[]`.
        todo!()
    }

    /// A zero-copy view of F32 tensor `name`, borrowed from the mapping.
    ///
    /// The elided lifetime ties the slice to `&self`: the loader cannot be
    /// dropped, and the file cannot be unmapped, while the view is alive.
    pub fn tensor_f32(&self, name: &str) -> Result<&[f32], LoadError> {
        // TODO: only F32 tensors (`NotF32` otherwise). Reinterpret the bytes as
        // f32s without copying: `slice::align_to::<f32>` (unsafe; why is it sound
        // for f32?) or an explicit alignment check plus
        // `slice::from_raw_parts`. Data that is not 4-byte aligned in memory is
        // `MisalignedData`, never undefined behaviour.
        todo!()
    }

    /// Copies tensor `name` into `pool` as f32s, converting F16 on the way.
    ///
    /// The trade-off against [`tensor_f32`](Self::tensor_f32): this costs an
    /// allocation and a pass over the data, but it works for F16, does not
    /// care about alignment (it reads bytes), and the copy borrows the pool,
    /// not the file, so it outlives the loader.
    pub fn dequantize_into<'p>(
        &self,
        name: &str,
        pool: &'p ScratchPool,
    ) -> Result<&'p mut [f32], LoadError> {
        // TODO: allocate `n` f32s with `pool.alloc_f32` and fill them from the
        // bytes: F32 via `f32::from_le_bytes` on 4-byte chunks, F16 via
        // `f16_to_f32(u16::from_le_bytes(..))` on 2-byte chunks
        // (`bytes.as_chunks::<N>()` or `chunks_exact`). Other types: `Unsupported`.
        todo!()
    }
}

impl Drop for ModelLoader {
    fn drop(&mut self) {
        // Runs before the fields are dropped; `map` (declared last) goes last.
        println!("ModelLoader: dropping {}", self.path.display());
    }
}

/// Alignment of every scratch allocation: a cache line, enough for any
/// SIMD load.
pub const SCRATCH_ALIGN: usize = 64;

/// A bump allocator for temporary f32 buffers, in the style of the `pool`
/// exercise: one allocation up front, aligned pieces handed out by bumping
/// an offset, an error (not a reallocation) when it is full, and everything
/// freed at once.
pub struct ScratchPool {
    /// Start of the arena; valid for `capacity` bytes until `drop`.
    base: NonNull<u8>,
    capacity: usize,
    /// Bytes handed out so far. A `Cell` lets `alloc_f32` take `&self`, so
    /// several scratch buffers can be alive at the same time.
    offset: Cell<usize>,
}

impl ScratchPool {
    /// Allocates an arena of `capacity` bytes aligned to [`SCRATCH_ALIGN`].
    ///
    /// # Panics
    /// If `capacity` is too large for a `Layout`; aborts if the allocator fails.
    pub fn new(capacity: usize) -> ScratchPool {
        let layout = Self::layout(capacity);
        // SAFETY: `layout` has a non-zero size (see `layout`).
        let raw = unsafe { alloc::alloc(layout) };
        let base = NonNull::new(raw).unwrap_or_else(|| alloc::handle_alloc_error(layout));
        ScratchPool {
            base,
            capacity,
            offset: Cell::new(0),
        }
    }

    /// Allocating zero bytes is undefined behaviour, so a zero-capacity pool
    /// still owns one byte (that it never hands out).
    fn layout(capacity: usize) -> Layout {
        Layout::from_size_align(capacity.max(1), SCRATCH_ALIGN).expect("scratch pool too large")
    }

    /// Hands out a zeroed buffer of `len` f32s, aligned to [`SCRATCH_ALIGN`].
    ///
    /// The buffer borrows the pool, which therefore can be neither reset nor
    /// dropped while it is alive.
    // Returning `&mut` from `&self` is what a bump allocator does (bumpalo
    // too): each call hands out a fresh, disjoint region, so no two live
    // `&mut` slices ever overlap.
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_f32(&self, len: usize) -> Result<&mut [f32], LoadError> {
        // TODO: like `MemoryPool::allocate` in the pool exercise: round the
        // offset up to SCRATCH_ALIGN, check `start + len * 4` against the
        // capacity with checked arithmetic (`len` may be usize::MAX / 2; on
        // failure `ScratchExhausted`, with `requested` = `len * 4` bytes,
        // saturating at usize::MAX, and the `available` bytes *before* this
        // call), bump the offset. The end may equal the capacity, and `len`
        // may be 0.
        // Then build the slice in an `unsafe` block with a `// SAFETY:` comment:
        // zero the bytes first (`ptr.write_bytes(0, n)`, n in bytes), because a
        // `&mut [f32]` must never cover uninitialised memory, and after `reset`
        // the region still holds old floats; then
        // `slice::from_raw_parts_mut`.
        todo!()
    }

    /// Total size of the arena in bytes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes handed out so far, including alignment padding.
    pub fn used(&self) -> usize {
        self.offset.get()
    }

    /// Bytes still free at the end of the arena.
    pub fn available(&self) -> usize {
        self.capacity - self.offset.get()
    }

    /// Makes the whole arena available again. `&mut self` guarantees that
    /// no buffer handed out before is still alive.
    pub fn reset(&mut self) {
        self.offset.set(0);
    }
}

impl Drop for ScratchPool {
    fn drop(&mut self) {
        // SAFETY: `base` came from `alloc::alloc` with this same layout and is
        // freed only here, once.
        unsafe { alloc::dealloc(self.base.as_ptr(), Self::layout(self.capacity)) };
        println!("released scratch pool of {} bytes", self.capacity);
    }
}
