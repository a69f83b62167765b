//! Alternative: the buffer keeps its `Layout` next to the pointer, so `Drop`
//! frees with the very value it allocated with; `match` instead of combinators.
//!
//! SIMD loads are fastest (and some instructions only work) on addresses that
//! are a multiple of the vector width; ggml aligns every tensor's data for
//! that reason. C++ gets such memory from `aligned_alloc` or `posix_memalign`
//! and must remember to `free` it on every path. Here `AlignedBuf` asks
//! `std::alloc` for memory described by a `Layout` with 64-byte alignment,
//! and its `Drop` gives the memory back with that same layout, exactly once.

use std::alloc::{self, Layout};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};

/// Alignment of every buffer, in bytes: one cache line, and the width of an
/// AVX-512 register.
pub const ALIGN: usize = 64;

/// Why a buffer could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlignError {
    /// `len` floats, padded to a multiple of `ALIGN` bytes, do not fit in a
    /// `Layout` (the byte size overflows or exceeds `isize::MAX`).
    TooLarge { len: usize },
    /// The allocator returned null for a valid layout of `bytes` bytes.
    OutOfMemory { bytes: usize },
}

impl fmt::Display for AlignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AlignError::TooLarge { len } => {
                write!(f, "{len} floats do not fit in one allocation")
            }
            AlignError::OutOfMemory { bytes } => {
                write!(f, "the allocator has no {bytes} bytes to give")
            }
        }
    }
}

impl std::error::Error for AlignError {}

/// The layout of a buffer of `len` floats: `len * 4` bytes, aligned to
/// `ALIGN`, padded to a multiple of `ALIGN`.
pub fn layout_for(len: usize) -> Result<Layout, AlignError> {
    let array = match Layout::array::<f32>(len) {
        Ok(layout) => layout,
        Err(_) => return Err(AlignError::TooLarge { len }),
    };
    match array.align_to(ALIGN) {
        Ok(layout) => Ok(layout.pad_to_align()),
        Err(_) => Err(AlignError::TooLarge { len }),
    }
}

/// `len` floats at a 64-byte aligned address, freed when dropped.
pub struct AlignedBuf {
    ptr: NonNull<f32>,
    len: usize,
    /// Exactly what `alloc_zeroed` was given (size 0: nothing allocated).
    layout: Layout,
}

impl AlignedBuf {
    /// A buffer of `len` zeros.
    pub fn zeroed(len: usize) -> Result<AlignedBuf, AlignError> {
        let layout = layout_for(len)?;
        let ptr = if layout.size() == 0 {
            // Never dereferenced; aligned to `ALIGN` because it *is* `ALIGN`.
            match NonNull::new(ptr::without_provenance_mut::<f32>(ALIGN)) {
                Some(ptr) => ptr,
                None => unreachable!("ALIGN is not zero"),
            }
        } else {
            // SAFETY: the size is not zero.
            let raw = unsafe { alloc::alloc_zeroed(layout) };
            match NonNull::new(raw.cast::<f32>()) {
                Some(ptr) => ptr,
                None => {
                    return Err(AlignError::OutOfMemory {
                        bytes: layout.size(),
                    });
                }
            }
        };
        Ok(AlignedBuf { ptr, len, layout })
    }

    /// A buffer holding a copy of `data`.
    pub fn from_slice(data: &[f32]) -> Result<AlignedBuf, AlignError> {
        let mut buf = AlignedBuf::zeroed(data.len())?;
        buf.copy_from_slice(data);
        Ok(buf)
    }

    /// Both buffers or neither; an early return drops `first`.
    pub fn pair(a: usize, b: usize) -> Result<(AlignedBuf, AlignedBuf), AlignError> {
        let first = AlignedBuf::zeroed(a)?;
        match AlignedBuf::zeroed(b) {
            Ok(second) => Ok((first, second)),
            Err(e) => Err(e), // `first` is dropped (and freed) here
        }
    }

    /// Number of floats.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer holds no floats.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes reserved.
    pub fn capacity_bytes(&self) -> usize {
        self.layout.size()
    }

    /// Address of the first float.
    pub fn as_ptr(&self) -> *const f32 {
        self.ptr.as_ptr()
    }
}

impl Deref for AlignedBuf {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        // SAFETY: aligned, non-null, `len` zero-initialised floats we own
        // (or an empty slice at an aligned dangling address).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [f32] {
        // SAFETY: as above, and `&mut self` excludes every other view.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        if self.layout.size() > 0 {
            // SAFETY: allocated by `alloc_zeroed` with `self.layout`; once.
            unsafe { alloc::dealloc(self.ptr.as_ptr().cast(), self.layout) };
        }
    }
}
