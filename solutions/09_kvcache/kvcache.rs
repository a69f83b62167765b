//! KV-cache ring buffer that never allocates after construction (reference
//! solution).
//!
//! A transformer keeps, for every token it has seen, one key and one value
//! vector per layer. llama.cpp allocates that cache once for the whole
//! context and writes it in place, token by token; when a sliding window is
//! full, the oldest slots are reused. `KvCache` does the same for one layer:
//! two `Box<[f32]>` of `capacity * dim` floats, made in `new` and only ever
//! written through `copy_from_slice` afterwards.

use std::fmt;
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
///
/// Token positions are absolute: the first token pushed after `new` or
/// `clear` is position 0, the next 1, and so on. Position `p` lives in slot
/// `p % capacity`, so once the cache is full each push overwrites the
/// oldest token.
pub struct KvCache {
    /// `capacity * dim` floats; slot `s` is `keys[s * dim..(s + 1) * dim]`.
    keys: Box<[f32]>,
    /// Same layout as `keys`.
    values: Box<[f32]>,
    capacity: usize,
    dim: usize,
    /// Position the next push will get: the number of tokens pushed since
    /// `new` or `clear`.
    next_pos: usize,
}

impl KvCache {
    /// Allocates room for `capacity` tokens of `dim` floats. This is the
    /// only place the cache allocates.
    pub fn new(capacity: usize, dim: usize) -> Result<KvCache, KvError> {
        if capacity == 0 || dim == 0 {
            return Err(KvError::Empty { capacity, dim });
        }
        // Check the element count *and* the byte size: `vec!` would panic on
        // a byte size above `isize::MAX`, and we promise an error instead.
        let floats = capacity
            .checked_mul(dim)
            .filter(|n| {
                n.checked_mul(size_of::<f32>())
                    .is_some_and(|bytes| bytes <= isize::MAX as usize)
            })
            .ok_or(KvError::TooLarge { capacity, dim })?;
        // `vec![0.0; n]` makes exactly one (zeroed) allocation of exactly `n`
        // floats, so `into_boxed_slice` has nothing to shrink. A boxed slice
        // has no spare capacity and no `push`: its length is fixed for good.
        Ok(KvCache {
            keys: vec![0.0; floats].into_boxed_slice(),
            values: vec![0.0; floats].into_boxed_slice(),
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
        self.next_pos.saturating_sub(self.capacity)..self.next_pos
    }

    /// Number of tokens held (at most `capacity`).
    pub fn len(&self) -> usize {
        self.positions().len()
    }

    /// Whether no token is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The floats of position `pos`'s slot, within `keys` or `values`.
    ///
    /// This is the index arithmetic a C++ ring does on a raw `float*`; here
    /// a mistake would be caught by the slice's bounds check instead of
    /// reading a neighbour's memory.
    fn slot(&self, pos: usize) -> Range<usize> {
        // Cannot overflow: the slot index is below `capacity`, and
        // `capacity * dim` was checked in `new`.
        let start = (pos % self.capacity) * self.dim;
        start..start + self.dim
    }

    /// Writes one token's key and value into the next slot and returns its
    /// position. When the cache is full, the oldest token is overwritten.
    pub fn push(&mut self, k: &[f32], v: &[f32]) -> Result<usize, KvError> {
        // Check both vectors before writing either, so that a rejected call
        // leaves the cache untouched. (`copy_from_slice` would panic on a
        // length mismatch; C++'s `memcpy` would silently read or write past
        // a buffer.)
        for got in [k.len(), v.len()] {
            if got != self.dim {
                return Err(KvError::WrongDim {
                    expected: self.dim,
                    got,
                });
            }
        }
        let pos = self.next_pos;
        let slot = self.slot(pos);
        self.keys[slot.clone()].copy_from_slice(k);
        self.values[slot].copy_from_slice(v);
        self.next_pos += 1;
        Ok(pos)
    }

    /// The key and value of position `pos`, borrowed from the cache, or
    /// `None` if that token was evicted or has not been pushed yet.
    pub fn get(&self, pos: usize) -> Option<(&[f32], &[f32])> {
        // Without this check a stale position would silently alias the newer
        // token that now occupies its slot.
        if !self.positions().contains(&pos) {
            return None;
        }
        let slot = self.slot(pos);
        Some((&self.keys[slot.clone()], &self.values[slot]))
    }

    /// The tokens held, oldest first, as slices borrowed from the cache.
    ///
    /// Nothing is copied. The iterator (and every slice it yields) borrows
    /// the cache, so `push` and `clear`, which need `&mut self`, are
    /// rejected by the compiler until the last of them is gone: a view can
    /// never see its slot overwritten under it.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            cache: self,
            positions: self.positions(),
        }
    }

    /// Writes `q · k / sqrt(dim)` for every cached key, oldest first, into
    /// `out` and returns how many scores it wrote (`len()`).
    ///
    /// The caller owns the buffer, so computing scores never allocates. It
    /// may be longer than `len()`: only its first `len()` entries are
    /// written, and the rest are left exactly as they were.
    pub fn attention_scores(&self, q: &[f32], out: &mut [f32]) -> Result<usize, KvError> {
        if q.len() != self.dim {
            return Err(KvError::WrongDim {
                expected: self.dim,
                got: q.len(),
            });
        }
        // The tokens held, not `capacity`: a cache that is not full yet
        // needs (and writes) fewer scores. Slicing `out` down to `needed`
        // leaves any entries past it untouched.
        let needed = self.len();
        let got = out.len();
        let out = out
            .get_mut(..needed)
            .ok_or(KvError::BufferTooSmall { needed, got })?;
        let scale = 1.0 / (self.dim as f32).sqrt();
        for (score, (k, _)) in out.iter_mut().zip(self.iter()) {
            let dot: f32 = q.iter().zip(k).map(|(a, b)| a * b).sum();
            *score = dot * scale;
        }
        Ok(needed)
    }

    /// Forgets every token, keeping the memory for the next sequence.
    ///
    /// The slots are not zeroed: `get` and `iter` only ever show positions
    /// that were pushed after this call, and each push overwrites its slot
    /// completely.
    pub fn clear(&mut self) {
        self.next_pos = 0;
    }
}

impl Drop for KvCache {
    fn drop(&mut self) {
        // The boxes free themselves after this returns; this only reports.
        println!(
            "freed KV cache: {} tokens x {} floats",
            self.capacity, self.dim
        );
    }
}

/// Iterator over a cache's tokens, oldest first; see [`KvCache::iter`].
///
/// It holds `&'a KvCache`, and the slices it yields live for `'a` too, so
/// they stay valid (and the cache stays read-only) after the iterator itself
/// is gone.
pub struct Iter<'a> {
    cache: &'a KvCache,
    /// Positions still to yield.
    positions: Range<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [f32], &'a [f32]);

    fn next(&mut self) -> Option<Self::Item> {
        let pos = self.positions.next()?;
        self.cache.get(pos)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.positions.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}
