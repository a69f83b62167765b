//! Alternative: the buffer holds `NonNull<[f32]>`, a fat pointer made once
//! with `NonNull::slice_from_raw_parts`, and `Deref` is `as_ref()`; the empty
//! buffer's address comes from `NonNull::without_provenance`.
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
use std::ptr::NonNull;

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
/// `ALIGN`, and padded to a multiple of `ALIGN` so that SIMD code may load
/// whole vectors up to the padded end.
pub fn layout_for(len: usize) -> Result<Layout, AlignError> {
    // Each step checks its own arithmetic: `Layout::array` the multiplication
    // (and the `isize::MAX` limit), `align_to` the limit again for the larger
    // alignment. `pad_to_align` cannot overflow after that.
    Layout::array::<f32>(len)
        .and_then(|layout| layout.align_to(ALIGN))
        .map(|layout| layout.pad_to_align())
        .map_err(|_| AlignError::TooLarge { len })
}

/// `len` floats at a 64-byte aligned address, freed when dropped.
///
/// It owns its memory alone, like `Box<[f32]>`, so it is neither `Clone`
/// nor `Copy`: a copy of the pointer would be freed twice.
pub struct AlignedBuf {
    /// The first float. For `len == 0` nothing is allocated, and this is a
    /// dangling pointer that is still aligned to `ALIGN`.
    slice: NonNull<[f32]>,
}

impl AlignedBuf {
    /// A buffer of `len` zeros. Allocates once, or not at all for `len == 0`.
    pub fn zeroed(len: usize) -> Result<AlignedBuf, AlignError> {
        let layout = layout_for(len)?;
        if layout.size() == 0 {
            // Allocating zero bytes is undefined behaviour. A slice of length
            // 0 only needs a non-null, aligned pointer that is never read.
            let addr = std::num::NonZeroUsize::new(ALIGN).expect("ALIGN is not zero");
            let ptr = NonNull::<f32>::without_provenance(addr);
            return Ok(AlignedBuf {
                slice: NonNull::slice_from_raw_parts(ptr, 0),
            });
        }
        // SAFETY: the layout's size is not zero (checked above).
        let raw = unsafe { alloc::alloc_zeroed(layout) };
        // A null pointer is how the allocator says "no memory": an error
        // value here, not `handle_alloc_error`'s abort.
        let ptr = NonNull::new(raw.cast::<f32>()).ok_or(AlignError::OutOfMemory {
            bytes: layout.size(),
        })?;
        Ok(AlignedBuf {
            slice: NonNull::slice_from_raw_parts(ptr, len),
        })
    }

    /// A buffer holding a copy of `data`, at an aligned address.
    pub fn from_slice(data: &[f32]) -> Result<AlignedBuf, AlignError> {
        let mut buf = AlignedBuf::zeroed(data.len())?;
        buf.copy_from_slice(data);
        Ok(buf)
    }

    /// Two buffers at once, or neither: if the second cannot be made, the
    /// first is freed before the error is returned.
    pub fn pair(a: usize, b: usize) -> Result<(AlignedBuf, AlignedBuf), AlignError> {
        // If the second `?` returns early, `first` is a local that goes out
        // of scope, so its `Drop` frees it: no cleanup code to forget (C++
        // needs a `unique_ptr` or a `goto fail` for the same guarantee).
        let first = AlignedBuf::zeroed(a)?;
        Ok((first, AlignedBuf::zeroed(b)?))
    }

    /// Number of floats.
    pub fn len(&self) -> usize {
        self.slice.len()
    }

    /// Whether the buffer holds no floats.
    pub fn is_empty(&self) -> bool {
        self.slice.len() == 0
    }

    /// Bytes the buffer reserves: `len * 4` rounded up to a multiple of
    /// `ALIGN`.
    pub fn capacity_bytes(&self) -> usize {
        // `zeroed` succeeded with this layout, so it cannot fail now.
        layout_for(self.slice.len()).map_or(0, |layout| layout.size())
    }

    /// Address of the first float.
    pub fn as_ptr(&self) -> *const f32 {
        self.slice.as_ptr().cast::<f32>()
    }
}

impl Deref for AlignedBuf {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        // SAFETY: `ptr` is aligned and, for `len > 0`, points to `len`
        // initialised (zeroed) floats that this buffer owns; for `len == 0`
        // an aligned dangling pointer is valid for an empty slice. The
        // slice borrows `self`, so it cannot outlive the memory.
        unsafe { self.slice.as_ref() }
    }
}

impl DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [f32] {
        // SAFETY: as in `deref`, and `&mut self` makes this the only view.
        unsafe { self.slice.as_mut() }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        // The layout must be exactly the one `zeroed` allocated with: same
        // size (padded) and same alignment (64, not `f32`'s 4).
        let layout = layout_for(self.slice.len()).expect("the layout was valid in `zeroed`");
        if layout.size() != 0 {
            // SAFETY: `ptr` came from `alloc_zeroed` with this layout, and
            // `drop` runs once, so it is freed exactly once.
            unsafe { alloc::dealloc(self.slice.as_ptr().cast::<u8>(), layout) };
        }
    }
}
