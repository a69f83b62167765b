//! Exercise: a best-fit free-list allocator over one arena.
//!
//! ggml-alloc's dynamic tensor allocator (`ggml_dyn_tallocr`) plans where
//! each tensor of a compute graph lives inside one backend buffer. It keeps
//! the free blocks sorted by offset, gives each request the best-fitting
//! block, and merges a freed block with its free neighbours so the buffer
//! does not fragment. In C++ a block is a raw offset or pointer: nothing
//! stops code from using it after `free`, or freeing it twice.
//!
//! Here the arena is a `Box<[u8]>` and blocks are offset ranges into it, so
//! no `unsafe` is needed (every access is a bounds-checked slice). A block
//! is handed out as an `Allocation`, a handle that is neither `Copy` nor
//! `Clone`, and `free` takes it *by value*: after `free(a)`, `a` has moved,
//! and the compiler rejects any later use of it, a second `free` included
//! (E0382). Another design gives each handle a generation number that every
//! access checks; that catches the same bugs, but only at run time, when
//! they happen, and each access pays for the check. Moves make them
//! impossible for free.
//!
//! Rules the driver checks:
//! - `new`: the alignment is a power of two and divides the capacity, else
//!   `BadArena`; a capacity of 0 is a valid, empty arena.
//! - `alloc(0)` is `ZeroSize`. A request is rounded up to a multiple of the
//!   alignment; if that overflows or exceeds the capacity it is `TooLarge`
//!   (never a panic, up to `usize::MAX`); a request of exactly the capacity
//!   fits an empty arena.
//! - Best fit: the smallest free block that is large enough (the lowest
//!   offset among equals), taken from its start; if none is, `OutOfMemory`
//!   with the rounded size and the largest free block.
//! - A new block reads as zeros, even where a freed block's bytes were.
//! - `free` keeps the free blocks sorted by offset and merges a freed block
//!   with the free block right before it *and* the one right after it.
//! - `Allocation` is not `Clone` or `Copy`: the check compiles programs
//!   that use a handle after `free`, free it twice, or clone it.

use std::fmt;
use std::ops::Range;

/// Why an arena could not be made or a request was refused.
// Silences "variant never constructed" until your code returns them;
// remove it once the allocator is done.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocError {
    /// The alignment is not a power of two, or the capacity is not a
    /// multiple of it.
    BadArena { capacity: usize, align: usize },
    /// A request for zero bytes.
    ZeroSize,
    /// The request, rounded up to the alignment, is larger than the whole
    /// arena (or does not fit in `usize` at all).
    TooLarge { size: usize, capacity: usize },
    /// The arena could hold `size` bytes, but no free block is that large
    /// right now.
    OutOfMemory { size: usize, largest_free: usize },
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllocError::BadArena { capacity, align } => write!(
                f,
                "no arena of {capacity} bytes aligned to {align}: the alignment must be a power of two dividing the capacity"
            ),
            AllocError::ZeroSize => write!(f, "a request for zero bytes"),
            AllocError::TooLarge { size, capacity } => {
                write!(
                    f,
                    "a request of {size} bytes can never fit in a {capacity}-byte arena"
                )
            }
            AllocError::OutOfMemory { size, largest_free } => write!(
                f,
                "no free block of {size} bytes (the largest holds {largest_free})"
            ),
        }
    }
}

impl std::error::Error for AllocError {}

/// A block of the arena, owned by whoever holds this handle.
///
/// Deliberately neither `Copy` nor `Clone`: `FreeList::free` consumes it, so
/// no handle to a freed block can exist.
#[derive(Debug)]
pub struct Allocation {
    offset: usize,
    size: usize,
}

impl Allocation {
    /// Where the block starts in the arena.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Its size in bytes (the request rounded up to the alignment).
    pub fn size(&self) -> usize {
        self.size
    }

    /// The arena bytes it covers.
    pub fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.size
    }
}

/// An arena of `capacity` bytes, handed out in aligned blocks.
pub struct FreeList {
    arena: Box<[u8]>,
    align: usize,
    /// The free blocks, sorted by offset, none empty, no two touching (a
    /// freed block is always merged with free neighbours).
    free: Vec<Range<usize>>,
}

impl FreeList {
    /// An arena of `capacity` zeroed bytes, all free. Every block starts at
    /// a multiple of `align`.
    pub fn new(capacity: usize, align: usize) -> Result<FreeList, AllocError> {
        // TODO:
        // 1. `align` must be a power of two (0 is not one: is there a method
        //    that knows?), and `capacity` a multiple of `align`; otherwise
        //    `BadArena { capacity, align }`.
        // 2. The arena is `capacity` zeroed bytes in a `Box<[u8]>`.
        // 3. At first the whole arena is one free block, unless it is
        //    empty: the free list never holds an empty block. (Clippy warns
        //    that `vec![0..capacity]` looks like a mistake, and its suggested
        //    fix builds a `Vec<usize>`, which is not what `free` holds: a
        //    `Vec<Range<usize>>` with one range is right here, and pushing
        //    the range onto an empty `Vec` says so without a warning.)
        let _ = (capacity, align); // (delete this line: it only silences a warning)
        todo!()
    }

    /// Size of the arena in bytes.
    pub fn capacity(&self) -> usize {
        self.arena.len()
    }

    /// A zeroed block of at least `size` bytes, from the smallest free block
    /// that holds it (the lowest offset among equals), taken from its start.
    pub fn alloc(&mut self, size: usize) -> Result<Allocation, AllocError> {
        // TODO:
        // 1. Zero bytes is `ZeroSize`.
        // 2. Round `size` up to a multiple of `self.align`, so the block
        //    after this one starts aligned too. `(size + align - 1) & ...`
        //    overflows for `usize::MAX`: which `checked_` method rounds up?
        //    A rounded size that does not fit in `usize` or exceeds the
        //    capacity is `TooLarge { size, capacity }` (the size asked for).
        // 3. Best fit: among the free blocks that are large enough, the
        //    smallest (the first one, by offset, among equals). Not simply
        //    the first large enough block: that wastes big blocks on small
        //    requests, and the driver can tell. None large enough is
        //    `OutOfMemory { size: rounded, largest_free }`.
        // 4. Take the block's start: shrink the free block, or remove it
        //    if it is used up exactly (no empty blocks in the list).
        // 5. Zero the block's bytes (they may hold a freed block's data) and
        //    return its handle.
        let _ = (size, self.align); // (delete this line: it only silences a warning)
        todo!()
    }

    /// Gives the block back, merging it with the free blocks right before
    /// and right after it.
    pub fn free(&mut self, allocation: Allocation) {
        // TODO:
        // 1. Find where the block goes in `self.free` to keep it sorted by
        //    offset (`partition_point` finds the index in a sorted `Vec`).
        // 2. If the free block after it starts where this one ends, merge
        //    them into one; the same for the free block before it, which
        //    would end where this one starts. Both can happen at once, and
        //    then three blocks become one. Without merging, two neighbouring
        //    holes could never serve a request larger than either.
        // 3. Otherwise insert the block as it is.
        // The handle is consumed: nobody can use it, or free it, again.
        let _ = allocation; // (delete this line: it only silences a warning)
        todo!()
    }

    /// The bytes of a live block.
    pub fn bytes(&self, allocation: &Allocation) -> &[u8] {
        &self.arena[allocation.range()]
    }

    /// The bytes of a live block, writable.
    pub fn bytes_mut(&mut self, allocation: &Allocation) -> &mut [u8] {
        &mut self.arena[allocation.range()]
    }

    /// The free blocks, sorted by offset.
    pub fn free_blocks(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.free.iter().cloned()
    }

    /// Free bytes in all.
    pub fn free_bytes(&self) -> usize {
        // TODO: the sum of the free blocks' lengths.
        todo!()
    }

    /// Size of the largest free block: the largest request that can succeed.
    pub fn largest_free(&self) -> usize {
        // TODO: the longest free block's length, 0 if there is none.
        todo!()
    }
}
