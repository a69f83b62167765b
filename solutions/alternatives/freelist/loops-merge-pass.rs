//! Alternative: plain loops and `(offset, size)` pairs; `free` inserts the
//! block in order and then merges every pair of touching blocks in one pass,
//! the way ggml-alloc's `ggml_dyn_tallocr_free_tensor` scans its list.

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
    /// Free blocks as `(offset, size)`, sorted by offset.
    free: Vec<(usize, usize)>,
}

impl FreeList {
    /// An arena of `capacity` zeroed bytes, all free.
    pub fn new(capacity: usize, align: usize) -> Result<FreeList, AllocError> {
        if align == 0 || align & (align - 1) != 0 || !capacity.is_multiple_of(align) {
            return Err(AllocError::BadArena { capacity, align });
        }
        let mut free = Vec::new();
        if capacity != 0 {
            free.push((0, capacity));
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
        // `size <= capacity` first: then `size + align - 1` cannot overflow,
        // because the capacity is a multiple of `align` far below `usize::MAX`.
        if size > capacity {
            return Err(AllocError::TooLarge { size, capacity });
        }
        let rounded = (size + self.align - 1) & !(self.align - 1);
        let mut best: Option<usize> = None;
        for i in 0..self.free.len() {
            let (_, len) = self.free[i];
            if len < rounded {
                continue;
            }
            match best {
                Some(b) if self.free[b].1 <= len => {}
                _ => best = Some(i),
            }
        }
        let Some(i) = best else {
            return Err(AllocError::OutOfMemory {
                size: rounded,
                largest_free: self.largest_free(),
            });
        };
        let (offset, len) = self.free[i];
        if len == rounded {
            self.free.remove(i);
        } else {
            self.free[i] = (offset + rounded, len - rounded);
        }
        for byte in &mut self.arena[offset..offset + rounded] {
            *byte = 0;
        }
        Ok(Allocation {
            offset,
            size: rounded,
        })
    }

    /// Gives the block back; touching free blocks are merged.
    pub fn free(&mut self, allocation: Allocation) {
        let mut i = 0;
        while i < self.free.len() && self.free[i].0 < allocation.offset {
            i += 1;
        }
        self.free.insert(i, (allocation.offset, allocation.size));
        // One pass: fold each block into the previous one when they touch.
        let mut merged: usize = 0;
        for j in 1..self.free.len() {
            let (offset, size) = self.free[j];
            let (last_offset, last_size) = self.free[merged];
            if last_offset + last_size == offset {
                self.free[merged].1 += size;
            } else {
                merged += 1;
                self.free[merged] = (offset, size);
            }
        }
        self.free.truncate(merged + 1);
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
        self.free
            .iter()
            .map(|&(offset, size)| offset..offset + size)
    }

    /// Free bytes in all.
    pub fn free_bytes(&self) -> usize {
        let mut total = 0;
        for &(_, size) in &self.free {
            total += size;
        }
        total
    }

    /// Size of the largest free block.
    pub fn largest_free(&self) -> usize {
        let mut largest = 0;
        for &(_, size) in &self.free {
            largest = largest.max(size);
        }
        largest
    }
}
