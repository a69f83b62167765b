//! Alternative: the free blocks live in a `BTreeMap` from start to end, so
//! the neighbours of a freed block are found with `range` queries instead of
//! a binary search in a `Vec`.

use std::collections::BTreeMap;
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
    /// Free blocks: start -> end, never empty, never touching.
    free: BTreeMap<usize, usize>,
}

impl FreeList {
    /// An arena of `capacity` zeroed bytes, all free.
    pub fn new(capacity: usize, align: usize) -> Result<FreeList, AllocError> {
        if !align.is_power_of_two() || !capacity.is_multiple_of(align) {
            return Err(AllocError::BadArena { capacity, align });
        }
        let mut free = BTreeMap::new();
        if capacity > 0 {
            free.insert(0, capacity);
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

    /// A zeroed block from the best-fitting free block.
    pub fn alloc(&mut self, size: usize) -> Result<Allocation, AllocError> {
        if size == 0 {
            return Err(AllocError::ZeroSize);
        }
        let capacity = self.capacity();
        let rounded = match size.checked_next_multiple_of(self.align) {
            Some(rounded) if rounded <= capacity => rounded,
            _ => return Err(AllocError::TooLarge { size, capacity }),
        };
        // Iteration is by start, so the first of equal lengths wins.
        let mut best: Option<(usize, usize)> = None;
        for (&start, &end) in &self.free {
            let len = end - start;
            if len >= rounded && best.is_none_or(|(s, e)| len < e - s) {
                best = Some((start, end));
            }
        }
        let Some((start, end)) = best else {
            return Err(AllocError::OutOfMemory {
                size: rounded,
                largest_free: self.largest_free(),
            });
        };
        self.free.remove(&start);
        if end - start > rounded {
            self.free.insert(start + rounded, end);
        }
        self.arena[start..start + rounded].fill(0);
        Ok(Allocation {
            offset: start,
            size: rounded,
        })
    }

    /// Gives the block back, merged with free neighbours on both sides.
    pub fn free(&mut self, allocation: Allocation) {
        let mut start = allocation.offset;
        let mut end = allocation.offset + allocation.size;
        // A free block starting where this one ends.
        if let Some(next_end) = self.free.remove(&end) {
            end = next_end;
        }
        // The last free block before this one, if it ends where it starts.
        if let Some((&prev_start, &prev_end)) = self.free.range(..start).next_back()
            && prev_end == start
        {
            start = prev_start;
        }
        self.free.insert(start, end);
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
        self.free.iter().map(|(&start, &end)| start..end)
    }

    /// Free bytes in all.
    pub fn free_bytes(&self) -> usize {
        self.free.iter().map(|(start, end)| end - start).sum()
    }

    /// Size of the largest free block.
    pub fn largest_free(&self) -> usize {
        self.free
            .iter()
            .map(|(start, end)| end - start)
            .max()
            .unwrap_or(0)
    }
}
