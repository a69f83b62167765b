//! Alternative: combinators and iterator chains; `Layout::array` checks the
//! byte size, and each zeroed buffer is collected straight into a
//! `Box<[f32]>` from `iter::repeat_n`.

use std::alloc::Layout;
use std::fmt;
use std::iter;
use std::ops::Range;

/// Why a cache could not be created or a call was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvError {
    /// The capacity or the vector length is zero.
    Empty { capacity: usize, dim: usize },
    /// `capacity * dim` floats do not fit in memory (the size overflows).
    TooLarge { capacity: usize, dim: usize },
    /// A key, value or query vector does not hold `dim` floats.
    WrongDim { expected: usize, got: usize },
    /// The caller's output buffer is shorter than the number of tokens.
    BufferTooSmall { needed: usize, got: usize },
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvError::Empty { capacity, dim } => write!(
                f,
                "a KV cache needs at least one token and one float, got {capacity} x {dim}"
            ),
            KvError::TooLarge { capacity, dim } => write!(
                f,
                "a KV cache of {capacity} tokens x {dim} floats does not fit in memory"
            ),
            KvError::WrongDim { expected, got } => write!(
                f,
                "wrong vector length: expected {expected} floats, got {got}"
            ),
            KvError::BufferTooSmall { needed, got } => {
                write!(f, "output buffer holds {got} scores, {needed} needed")
            }
        }
    }
}

impl std::error::Error for KvError {}

/// Keys and values for the last `capacity` tokens, `dim` floats each.
/// Position `p` lives in slot `p % capacity`.
pub struct KvCache {
    /// `capacity * dim` floats; slot `s` is `keys[s * dim..(s + 1) * dim]`.
    keys: Box<[f32]>,
    /// Same layout as `keys`.
    values: Box<[f32]>,
    capacity: usize,
    dim: usize,
    /// Position the next push will get.
    next_pos: usize,
}

impl KvCache {
    /// Allocates room for `capacity` tokens of `dim` floats, once.
    pub fn new(capacity: usize, dim: usize) -> Result<KvCache, KvError> {
        if capacity == 0 || dim == 0 {
            return Err(KvError::Empty { capacity, dim });
        }
        // `Layout::array` fails exactly when `n` floats take more than
        // `isize::MAX` bytes, the most one allocation may hold.
        let floats = capacity
            .checked_mul(dim)
            .filter(|&n| Layout::array::<f32>(n).is_ok())
            .ok_or(KvError::TooLarge { capacity, dim })?;
        // `repeat_n` knows its exact length, so collecting it allocates once,
        // at the final size, and the `Vec` inside `collect` has no spare
        // capacity to shrink away.
        let zeroed = || iter::repeat_n(0.0, floats).collect::<Box<[f32]>>();
        Ok(KvCache {
            keys: zeroed(),
            values: zeroed(),
            capacity,
            dim,
            next_pos: 0,
        })
    }

    /// Maximum number of tokens held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Floats per key (and per value).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Absolute positions of the tokens held, oldest first.
    pub fn positions(&self) -> Range<usize> {
        // `len()` is at most `next_pos`, so this cannot underflow.
        self.next_pos - self.len()..self.next_pos
    }

    /// Number of tokens held (at most `capacity`).
    pub fn len(&self) -> usize {
        self.next_pos.min(self.capacity)
    }

    /// Whether no token is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The floats of position `pos`'s slot, within `keys` or `values`.
    fn slot(&self, pos: usize) -> Range<usize> {
        let start = pos % self.capacity * self.dim;
        start..start + self.dim
    }

    /// Writes one token's key and value into the next slot and returns its
    /// position, overwriting the oldest token once the cache is full.
    pub fn push(&mut self, k: &[f32], v: &[f32]) -> Result<usize, KvError> {
        let expected = self.dim;
        if let Some(got) = [k.len(), v.len()].into_iter().find(|&n| n != expected) {
            return Err(KvError::WrongDim { expected, got });
        }
        let pos = self.next_pos;
        let slot = self.slot(pos);
        self.keys[slot.clone()].copy_from_slice(k);
        self.values[slot].copy_from_slice(v);
        self.next_pos += 1;
        Ok(pos)
    }

    /// The key and value of position `pos`, borrowed from the cache, or
    /// `None` if it was evicted or has not been pushed yet.
    pub fn get(&self, pos: usize) -> Option<(&[f32], &[f32])> {
        self.positions().contains(&pos).then(|| {
            let slot = self.slot(pos);
            (&self.keys[slot.clone()], &self.values[slot])
        })
    }

    /// The tokens held, oldest first, borrowed from the cache.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            cache: self,
            positions: self.positions(),
        }
    }

    /// Writes `q · k / sqrt(dim)` for every cached key, oldest first, into
    /// the first `len()` entries of `out` and returns `len()`.
    pub fn attention_scores(&self, q: &[f32], out: &mut [f32]) -> Result<usize, KvError> {
        if q.len() != self.dim {
            return Err(KvError::WrongDim {
                expected: self.dim,
                got: q.len(),
            });
        }
        let (needed, got) = (self.len(), out.len());
        let scale = (self.dim as f32).sqrt().recip();
        out.get_mut(..needed)
            .ok_or(KvError::BufferTooSmall { needed, got })?
            .iter_mut()
            .zip(self.iter())
            .for_each(|(score, (k, _))| {
                *score = q.iter().zip(k).map(|(a, b)| a * b).sum::<f32>() * scale;
            });
        Ok(needed)
    }

    /// Forgets every token, keeping the memory.
    pub fn clear(&mut self) {
        self.next_pos = 0;
    }
}

impl Drop for KvCache {
    fn drop(&mut self) {
        println!(
            "freed KV cache: {} tokens x {} floats",
            self.capacity, self.dim
        );
    }
}

/// Iterator over a cache's tokens, oldest first.
pub struct Iter<'a> {
    cache: &'a KvCache,
    /// Positions still to yield.
    positions: Range<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [f32], &'a [f32]);

    fn next(&mut self) -> Option<Self::Item> {
        self.positions.next().and_then(|pos| self.cache.get(pos))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.positions.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}
