//! Alternative: the byte size by hand with `checked_mul` and
//! `checked_next_multiple_of`, then `Layout::from_size_align`; `Option`
//! combinators and an `impl` that allocates with `alloc` + `write_bytes`.

use std::alloc::{self, Layout};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};

/// Alignment of every buffer, in bytes.
pub const ALIGN: usize = 64;

/// Why a buffer could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlignError {
    /// The padded byte size does not fit in a `Layout`.
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

/// `len * 4` bytes rounded up to a multiple of `ALIGN`, aligned to `ALIGN`.
pub fn layout_for(len: usize) -> Result<Layout, AlignError> {
    len.checked_mul(size_of::<f32>())
        .and_then(|bytes| bytes.checked_next_multiple_of(ALIGN))
        // `from_size_align` refuses sizes over `isize::MAX - (ALIGN - 1)`.
        .and_then(|padded| Layout::from_size_align(padded, ALIGN).ok())
        .ok_or(AlignError::TooLarge { len })
}

/// `len` floats at a 64-byte aligned address, freed when dropped.
pub struct AlignedBuf {
    ptr: NonNull<f32>,
    len: usize,
}

impl AlignedBuf {
    /// A buffer of `len` zeros.
    pub fn zeroed(len: usize) -> Result<AlignedBuf, AlignError> {
        let layout = layout_for(len)?;
        if layout.size() == 0 {
            let ptr = NonNull::new(ptr::without_provenance_mut(ALIGN)).expect("ALIGN > 0");
            return Ok(AlignedBuf { ptr, len });
        }
        // SAFETY: non-zero size.
        let raw = unsafe { alloc::alloc(layout) };
        let ptr = NonNull::new(raw).ok_or(AlignError::OutOfMemory {
            bytes: layout.size(),
        })?;
        // SAFETY: `ptr` is valid for `layout.size()` bytes of writes; after
        // this every float is an initialised 0.0.
        unsafe { ptr::write_bytes(ptr.as_ptr(), 0, layout.size()) };
        Ok(AlignedBuf {
            ptr: ptr.cast(),
            len,
        })
    }

    /// A buffer holding a copy of `data`.
    pub fn from_slice(data: &[f32]) -> Result<AlignedBuf, AlignError> {
        AlignedBuf::zeroed(data.len()).map(|mut buf| {
            buf.copy_from_slice(data);
            buf
        })
    }

    /// Both or neither: the closure's error drops `first`.
    pub fn pair(a: usize, b: usize) -> Result<(AlignedBuf, AlignedBuf), AlignError> {
        AlignedBuf::zeroed(a).and_then(|first| AlignedBuf::zeroed(b).map(|second| (first, second)))
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
        layout_for(self.len).map_or(0, |layout| layout.size())
    }

    /// Address of the first float.
    pub fn as_ptr(&self) -> *const f32 {
        self.ptr.as_ptr()
    }
}

impl Deref for AlignedBuf {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        // SAFETY: aligned, non-null, `len` initialised floats we own.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [f32] {
        // SAFETY: as above; `&mut self` makes this view unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        if let Ok(layout) = layout_for(self.len)
            && layout.size() != 0
        {
            // SAFETY: allocated with this same layout in `zeroed`; once.
            unsafe { alloc::dealloc(self.ptr.as_ptr().cast(), layout) };
        }
    }
}
