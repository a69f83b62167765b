//! A zero-copy GGUF model loader (reference solution of the capstone).
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
        self.dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
    }

    /// Size of the data in bytes, or `None` if the type is unknown, the
    /// shape does not fit the type's blocks, or the size overflows.
    pub fn n_bytes(&self) -> Option<u64> {
        let (_, block, block_bytes) = ggml_type_layout(self.ggml_type)?;
        let n = self.n_elements()?;
        if !n.is_multiple_of(block) {
            return None;
        }
        (n / block).checked_mul(block_bytes)
    }

    /// Name of the tensor's ggml type (`"?"` if unknown).
    pub fn type_name(&self) -> &'static str {
        ggml_type_name(self.ggml_type)
    }
}

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
        let name = self.string()?;
        let n_dims = self.u32()?;
        if n_dims > MAX_DIMS {
            return Err(LoadError::TooManyDims {
                tensor: name,
                n_dims,
            });
        }
        let dims = (0..n_dims)
            .map(|_| self.u64())
            .collect::<Result<Vec<u64>, LoadError>>()?;
        let ggml_type = self.u32()?;
        let offset = self.u64()?;
        Ok(TensorInfo {
            name,
            dims,
            ggml_type,
            offset,
        })
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
    let tensor = || info.name.clone();
    let overflow = || LoadError::DimOverflow {
        tensor: tensor(),
        dims: info.dims.clone(),
    };
    let n_elements = info.n_elements().ok_or_else(overflow)?;
    let (_, block, block_bytes) =
        ggml_type_layout(info.ggml_type).ok_or_else(|| LoadError::UnknownGgmlType {
            tensor: tensor(),
            ggml_type: info.ggml_type,
        })?;
    let ne0 = info.dims.first().copied().unwrap_or(1);
    if !ne0.is_multiple_of(block) {
        return Err(LoadError::BadBlockShape {
            tensor: tensor(),
            ne0,
            block,
        });
    }
    let len = (n_elements / block)
        .checked_mul(block_bytes)
        .ok_or_else(overflow)?;
    if !info.offset.is_multiple_of(alignment) {
        return Err(LoadError::MisalignedOffset {
            tensor: tensor(),
            offset: info.offset,
            alignment,
        });
    }
    // Saturating start + checked end: a huge offset can neither wrap around
    // to a small (valid-looking) position nor panic.
    let start = data_offset.saturating_add(info.offset);
    let past_end = || LoadError::TensorDataPastEnd {
        tensor: tensor(),
        start,
        len,
        file_len,
    };
    let end = start
        .checked_add(len)
        .filter(|&end| end <= file_len)
        .ok_or_else(past_end)?;
    // Both fit in usize: they are at most `file_len`, the length of a slice.
    let to_usize = |v: u64| usize::try_from(v).map_err(|_| past_end());
    Ok(to_usize(start)?..to_usize(end)?)
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

    let alignment = match metadata.iter().find(|(k, _)| k == ALIGNMENT_KEY) {
        None => DEFAULT_ALIGNMENT,
        Some((_, MetaValue::U32(a))) if a.is_power_of_two() => u64::from(*a),
        Some((_, other)) => {
            return Err(LoadError::BadAlignment(format!(
                "{} {other}",
                other.type_name()
            )));
        }
    };

    let mut tensors = Vec::new();
    for _ in 0..tensor_count {
        tensors.push(r.tensor_info()?);
    }

    // The data section starts at the first aligned position after the
    // header. `pos` is at most the file length, so this cannot overflow in
    // practice, but the checked form costs nothing.
    let header_end = r.pos as u64;
    let data_offset =
        header_end
            .checked_next_multiple_of(alignment)
            .ok_or(LoadError::Truncated {
                offset: header_end,
                needed: alignment,
                file_len: r.file_len(),
            })?;

    // Validate every tensor now, so that a successfully opened loader only
    // ever holds ranges that lie inside the mapping.
    let spans = tensors
        .iter()
        .map(|t| tensor_span(t, data_offset, alignment, r.file_len()))
        .collect::<Result<Vec<_>, _>>()?;

    Ok(Header {
        version,
        alignment,
        data_offset,
        metadata,
        tensors,
        spans,
    })
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
        let path = path.as_ref();
        let io_error = |source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io_error)?;
        // SAFETY: the mapping is read-only, and we rely on nobody truncating
        // or rewriting the file while it is mapped: that would change bytes
        // behind our `&[u8]` (or raise SIGBUS). llama.cpp makes the same
        // assumption; model files are written once and then only read.
        let map = unsafe { Mmap::map(&file) }.map_err(io_error)?;
        // The mapping stays valid after the file handle closes.
        drop(file);
        let header = parse_header(&map)?;
        Ok(ModelLoader {
            path: path.to_path_buf(),
            version: header.version,
            alignment: header.alignment,
            data_offset: header.data_offset,
            metadata: header.metadata,
            tensors: header.tensors,
            spans: header.spans,
            map: Mapping(map),
        })
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
        let index = self
            .tensors
            .iter()
            .position(|t| t.name == name)
            .ok_or_else(|| LoadError::TensorNotFound(name.to_owned()))?;
        let info = &self.tensors[index];
        // `open` validated the span; `get` re-checks it anyway, so even a bug
        // there could only produce an error, never an out-of-bounds read.
        let bytes = self
            .spans
            .get(index)
            .and_then(|span| self.map.0.get(span.clone()))
            .ok_or_else(|| LoadError::TensorDataPastEnd {
                tensor: name.to_owned(),
                start: self.data_offset.saturating_add(info.offset),
                len: info.n_bytes().unwrap_or(0),
                file_len: self.file_len(),
            })?;
        Ok((info, bytes))
    }

    /// A zero-copy view of F32 tensor `name`, borrowed from the mapping.
    ///
    /// The elided lifetime ties the slice to `&self`: the loader cannot be
    /// dropped, and the file cannot be unmapped, while the view is alive.
    pub fn tensor_f32(&self, name: &str) -> Result<&[f32], LoadError> {
        let (info, bytes) = self.tensor_bytes(name)?;
        if info.ggml_type != GGML_TYPE_F32 {
            return Err(LoadError::NotF32 {
                tensor: name.to_owned(),
                ggml_type: info.ggml_type,
            });
        }
        // SAFETY: f32 has no invalid bit patterns and no padding, so any
        // initialised bytes (and mapped file bytes are initialised) are valid
        // f32s; `align_to` only puts properly aligned, whole f32s in the
        // middle slice. The result keeps the lifetime of `bytes`, i.e. of `&self`.
        let (head, floats, tail) = unsafe { bytes.align_to::<f32>() };
        // The mapping is page-aligned, so the data is misaligned only if the
        // file puts it at a position that is not a multiple of 4.
        if !head.is_empty() || !tail.is_empty() {
            return Err(LoadError::MisalignedData {
                tensor: name.to_owned(),
            });
        }
        Ok(floats)
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
        let (info, bytes) = self.tensor_bytes(name)?;
        match info.ggml_type {
            GGML_TYPE_F32 => {
                let (words, _) = bytes.as_chunks::<4>();
                let out = pool.alloc_f32(words.len())?;
                for (dst, &word) in out.iter_mut().zip(words) {
                    *dst = f32::from_le_bytes(word);
                }
                Ok(out)
            }
            GGML_TYPE_F16 => {
                let (halves, _) = bytes.as_chunks::<2>();
                let out = pool.alloc_f32(halves.len())?;
                for (dst, &half) in out.iter_mut().zip(halves) {
                    *dst = f16_to_f32(u16::from_le_bytes(half));
                }
                Ok(out)
            }
            other => Err(LoadError::Unsupported {
                tensor: name.to_owned(),
                ggml_type: other,
            }),
        }
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
    // `&mut` slices ever overlap. The cast from `*mut u8` to `*mut f32` is
    // aligned, which clippy's pedantic `cast_ptr_alignment` cannot see: the
    // base is 64-aligned and `start` a multiple of 64.
    #[allow(clippy::mut_from_ref, clippy::cast_ptr_alignment)]
    pub fn alloc_f32(&self, len: usize) -> Result<&mut [f32], LoadError> {
        let exhausted = || LoadError::ScratchExhausted {
            requested: len.saturating_mul(size_of::<f32>()),
            available: self.available(),
        };
        // Round the start up to the alignment, then check the end; every
        // step is checked because `len` may be absurd.
        let start = self
            .offset
            .get()
            .checked_next_multiple_of(SCRATCH_ALIGN)
            .ok_or_else(exhausted)?;
        let end = len
            .checked_mul(size_of::<f32>())
            .and_then(|size| start.checked_add(size))
            .filter(|&end| end <= self.capacity)
            .ok_or_else(exhausted)?;
        self.offset.set(end);
        // SAFETY: `start..end` lies inside the arena (checked above) and no
        // other live slice covers it: the offset only grows, and `reset`
        // needs `&mut self`, impossible while a slice borrows `&self`. The
        // base is 64-aligned and `start` a multiple of 64, so the pointer is
        // aligned for f32. The bytes are zeroed before the slice is created,
        // so it only ever covers initialised f32s.
        unsafe {
            let ptr = self.base.as_ptr().add(start);
            ptr.write_bytes(0, end - start);
            Ok(slice::from_raw_parts_mut(ptr.cast::<f32>(), len))
        }
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
