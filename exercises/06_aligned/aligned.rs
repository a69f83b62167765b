//! Exercise: a 64-byte aligned `f32` buffer on the raw allocator.
//!
//! SIMD loads are fastest (and some instructions only work) on addresses
//! that are a multiple of the vector width; ggml aligns every tensor's data
//! for that reason. C++ asks `aligned_alloc` or `posix_memalign` for such
//! memory (or declares `alignas(64)`), and must remember to `free` it on
//! every path, including the one where a later allocation fails.
//!
//! In Rust you describe the memory with a `std::alloc::Layout` (size and
//! alignment), get it from `std::alloc::alloc_zeroed`, and give it back with
//! `std::alloc::dealloc` and *the same layout*. Wrapping the pointer in a
//! struct with `Drop` (RAII) makes "give it back exactly once, on every
//! path" automatic. This is the first time you call the allocator
//! yourself (the mapper's only `unsafe` was one call into memmap2): each
//! `unsafe` block gets a `// SAFETY:` comment saying why its rules hold.
//!
//! Rules the driver checks:
//! - `layout_for(len)`: `len * 4` bytes rounded up to a multiple of `ALIGN`,
//!   alignment `ALIGN`; any overflow, or a size over what one allocation may
//!   hold, is `TooLarge` (never a panic).
//! - `zeroed(0)` allocates nothing, and its pointer is still a multiple of
//!   `ALIGN`; dropping it frees nothing.
//! - A null pointer from the allocator is `OutOfMemory`, not a crash.
//! - Memory is zeroed, even memory the allocator hands out again.
//! - `pair` returns both buffers or neither, and leaks nothing.
//! - Every allocation is freed once, with the layout it was made with.
//! - `AlignedBuf` is not `Clone` (the check compiles a program that tries).

use std::alloc::{self, Layout};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// Alignment of every buffer, in bytes: one cache line, and the width of an
/// AVX-512 register.
pub const ALIGN: usize = 64;

/// Why a buffer could not be made.
// Silences "variant never constructed" until your code returns them;
// remove it once the buffer is done.
#[allow(dead_code)]
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
    // TODO: no hand-written arithmetic is needed. `Layout` has a constructor
    // for "an array of `len` values of type T" that checks the
    // multiplication, a method that raises the alignment (checking the size
    // again), and one that pads the size to a multiple of the alignment.
    // Each check that can fail returns a `LayoutError`: turn it into
    // `AlignError::TooLarge { len }`.
    let _ = (len, Layout::new::<f32>()); // (delete this line: it only silences a warning)
    todo!()
}

/// `len` floats at a 64-byte aligned address, freed when dropped.
///
/// It owns its memory alone, like `Box<[f32]>`, so it must not be `Clone`
/// or `Copy`: a copy of the pointer would be freed twice.
pub struct AlignedBuf {
    /// The first float. For `len == 0` nothing is allocated, and this is a
    /// dangling pointer that is still aligned to `ALIGN`.
    ptr: NonNull<f32>,
    len: usize,
}

impl AlignedBuf {
    /// A buffer of `len` zeros. Allocates once, or not at all for `len == 0`.
    pub fn zeroed(len: usize) -> Result<AlignedBuf, AlignError> {
        // TODO:
        // 1. Get the layout from `layout_for` (`?` passes its error on).
        // 2. Calling the allocator with a size of 0 is undefined behaviour.
        //    For an empty buffer, use a pointer that is never dereferenced
        //    but is non-null and aligned: the address `ALIGN` itself
        //    (`std::ptr::without_provenance_mut`). `NonNull::dangling()` is
        //    only aligned for `f32`, to 4 bytes.
        // 3. Otherwise `alloc::alloc_zeroed(layout)` (an `unsafe` call: why
        //    is it safe here?). Memory from plain `alloc` holds whatever
        //    was there before, and reading it is undefined behaviour.
        // 4. The allocator reports failure with a null pointer: that is
        //    `OutOfMemory { bytes: layout.size() }`. `NonNull::new` tells
        //    you which it is.
        let _ = (len, &alloc::alloc_zeroed); // (delete this line: it only silences a warning)
        todo!()
    }

    /// A buffer holding a copy of `data`, at an aligned address.
    pub fn from_slice(data: &[f32]) -> Result<AlignedBuf, AlignError> {
        // TODO: two lines and an `Ok`. Once `Deref` and `DerefMut` work, a
        // buffer has every method of `[f32]`, `copy_from_slice` included.
        let _ = data; // (delete this line: it only silences a warning)
        todo!()
    }

    /// Two buffers at once, or neither: if the second cannot be made, the
    /// first is freed before the error is returned.
    pub fn pair(a: usize, b: usize) -> Result<(AlignedBuf, AlignedBuf), AlignError> {
        // TODO: in C++ this needs a `unique_ptr` or a cleanup label, or the
        // first buffer leaks when the second allocation fails. What happens
        // here to a local `AlignedBuf` when `?` returns early? (The check
        // counts the bytes still allocated at exit.)
        let _ = (a, b); // (delete this line: it only silences a warning)
        todo!()
    }

    /// Number of floats.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer holds no floats.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the buffer reserves: `len * 4` rounded up to a multiple of
    /// `ALIGN`.
    pub fn capacity_bytes(&self) -> usize {
        // `zeroed` succeeded with this layout, so it cannot fail now.
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
        // TODO: `std::slice::from_raw_parts`, in an `unsafe` block with a
        // `// SAFETY:` comment: is the pointer aligned and non-null (also
        // for `len == 0`)? Are `len` floats there, initialised and owned?
        // How long may the slice live (look at the signature)?
        todo!()
    }
}

impl DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [f32] {
        // TODO: the same with `from_raw_parts_mut`. Why may there be no
        // other view of the floats while this one lives?
        todo!()
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        // TODO: give the memory back with `alloc::dealloc`, with exactly the
        // layout `zeroed` allocated with: the same padded size and the same
        // alignment (64, not the 4 of `Layout::array::<f32>`). The check
        // catches a different layout. An empty buffer was never allocated:
        // freeing its dangling pointer would crash.
        todo!()
    }
}
