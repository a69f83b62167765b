//! A best-fit free-list allocator over one arena (reference solution).
//!
//! ggml-alloc's dynamic tensor allocator (`ggml_dyn_tallocr`) plans where
//! each tensor of a compute graph lives inside one backend buffer: it keeps
//! the free blocks sorted by offset, gives each request the best-fitting
//! block, and merges a freed block with its free neighbours so that the
//! buffer does not fragment. `FreeList` does the same over a `Box<[u8]>`.
//! Blocks are offset ranges into the arena, so no `unsafe` is needed: every
//! access is a bounds-checked slice.
//!
//! A block is handed out as an `Allocation`, a handle that is neither
//! `Copy` nor `Clone`, and `free` takes it by value. Once freed, the handle
//! has moved into `free`, so using it again, or freeing it twice, is a
//! compile error (E0382), not a bug to find at run time. The alternative,
//! a generation number in each handle checked on every access, catches the
//! same mistakes only when they happen, and costs a check each time; moves
//! make them impossible for free.

use std::fmt;
use std::ops::Range;

/// Why an arena could not be made or a request was refused.
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
        // `is_power_of_two` is false for 0, and a power of two divides the
        // capacity exactly when the capacity is a multiple of it.
        if !align.is_power_of_two() || !capacity.is_multiple_of(align) {
            return Err(AllocError::BadArena { capacity, align });
        }
        let mut free = Vec::new();
        if capacity > 0 {
            free.push(0..capacity);
        }
        Ok(FreeList {
            arena: vec![0; capacity].into_boxed_slice(),
            align,
            free,
        })
    }

    /// Size of the arena in bytes.
    pub fn capacity(&self) -> usize {
        self.arena.len()
    }

    /// A zeroed block of at least `size` bytes, from the smallest free block
    /// that holds it (the lowest offset among equals), taken from its start.
    pub fn alloc(&mut self, size: usize) -> Result<Allocation, AllocError> {
        if size == 0 {
            return Err(AllocError::ZeroSize);
        }
        let capacity = self.capacity();
        // Round up so the next block starts aligned too. `checked_` because
        // `usize::MAX` rounded up does not fit.
        let size = size
            .checked_next_multiple_of(self.align)
            .filter(|&rounded| rounded <= capacity)
            .ok_or(AllocError::TooLarge { size, capacity })?;
        // Best fit: the smallest block that is large enough. `min_by_key`
        // keeps the first of equal keys, which is the lowest offset.
        let (index, block) = self
            .free
            .iter()
            .enumerate()
            .filter(|(_, block)| block.len() >= size)
            .min_by_key(|(_, block)| block.len())
            .ok_or(AllocError::OutOfMemory {
                size,
                largest_free: self.largest_free(),
            })?;
        let offset = block.start;
        if block.len() == size {
            self.free.remove(index);
        } else {
            self.free[index].start += size;
        }
        // The block may hold a freed block's old bytes: zero them.
        self.arena[offset..offset + size].fill(0);
        Ok(Allocation { offset, size })
    }

    /// Gives the block back, merging it with the free blocks right before
    /// and right after it.
    pub fn free(&mut self, allocation: Allocation) {
        let Range { start, mut end } = allocation.range();
        // Where the block goes to keep `free` sorted by offset.
        let index = self.free.partition_point(|block| block.start < start);
        // Merge with the next block first, so `index` stays valid.
        if let Some(next) = self.free.get(index)
            && next.start == end
        {
            end = next.end;
            self.free.remove(index);
        }
        if let Some(prev) = index.checked_sub(1).map(|i| &mut self.free[i])
            && prev.end == start
        {
            prev.end = end;
        } else {
            self.free.insert(index, start..end);
        }
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
        self.free.iter().map(|block| block.len()).sum()
    }

    /// Size of the largest free block: the largest request that can succeed.
    pub fn largest_free(&self) -> usize {
        self.free.iter().map(|block| block.len()).max().unwrap_or(0)
    }
}
