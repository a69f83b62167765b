//! Alternative: `free` finds its place with `binary_search_by_key` and
//! handles the four neighbour cases in one `match`; best fit with `fold`.

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
        let best =
            self.free
                .iter()
                .enumerate()
                .fold(None, |best: Option<(usize, usize)>, (i, block)| {
                    let fits = block.len() >= size;
                    match best {
                        Some((_, len)) if !fits || block.len() >= len => best,
                        _ if fits => Some((i, block.len())),
                        _ => best,
                    }
                });
        let Some((index, _)) = best else {
            return Err(AllocError::OutOfMemory {
                size,
                largest_free: self.largest_free(),
            });
        };
        let block = self.free[index].clone();
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
        let Range { start, end } = allocation.range();
        // No free block starts where a live one does, so the search fails
        // with the insertion index.
        let index = match self.free.binary_search_by_key(&start, |block| block.start) {
            Ok(index) | Err(index) => index,
        };
        let prev_touches = index > 0 && self.free[index - 1].end == start;
        let next_touches = self.free.get(index).is_some_and(|next| next.start == end);
        match (prev_touches, next_touches) {
            (true, true) => {
                // prev + this + next become prev.
                let next = self.free.remove(index);
                self.free[index - 1].end = next.end;
            }
            (true, false) => self.free[index - 1].end = end,
            (false, true) => self.free[index].start = start,
            (false, false) => self.free.insert(index, start..end),
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
