//! Alternative: explicit loops, `if`/`match` instead of combinators, and
//! `Vec::with_capacity` + `resize` before `into_boxed_slice`.

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
        let floats = match capacity.checked_mul(dim) {
            Some(n) => n,
            None => return Err(KvError::TooLarge { capacity, dim }),
        };
        match floats.checked_mul(size_of::<f32>()) {
            Some(bytes) if bytes <= isize::MAX as usize => {}
            _ => return Err(KvError::TooLarge { capacity, dim }),
        }
        // `with_capacity` allocates exactly `floats` floats and `resize`
        // fills them in place, so `into_boxed_slice` has nothing to shrink.
        let mut keys = Vec::with_capacity(floats);
        keys.resize(floats, 0.0);
        let mut values = Vec::with_capacity(floats);
        values.resize(floats, 0.0);
        Ok(KvCache {
            keys: keys.into_boxed_slice(),
            values: values.into_boxed_slice(),
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
        match self.next_pos.checked_sub(self.capacity) {
            Some(oldest) => oldest..self.next_pos,
            None => 0..self.next_pos, // not full yet
        }
    }

    /// Number of tokens held (at most `capacity`).
    pub fn len(&self) -> usize {
        if self.next_pos < self.capacity {
            self.next_pos
        } else {
            self.capacity
        }
    }

    /// Whether no token is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Index of the first float of position `pos`'s slot.
    fn start_of(&self, pos: usize) -> usize {
        (pos % self.capacity) * self.dim
    }

    /// Writes one token's key and value into the next slot and returns its
    /// position, overwriting the oldest token once the cache is full.
    pub fn push(&mut self, k: &[f32], v: &[f32]) -> Result<usize, KvError> {
        if k.len() != self.dim {
            return Err(KvError::WrongDim {
                expected: self.dim,
                got: k.len(),
            });
        }
        if v.len() != self.dim {
            return Err(KvError::WrongDim {
                expected: self.dim,
                got: v.len(),
            });
        }
        let start = self.start_of(self.next_pos);
        let end = start + self.dim;
        for (slot, &x) in self.keys[start..end].iter_mut().zip(k) {
            *slot = x;
        }
        for (slot, &x) in self.values[start..end].iter_mut().zip(v) {
            *slot = x;
        }
        let pos = self.next_pos;
        self.next_pos += 1;
        Ok(pos)
    }

    /// The key and value of position `pos`, borrowed from the cache, or
    /// `None` if it was evicted or has not been pushed yet.
    pub fn get(&self, pos: usize) -> Option<(&[f32], &[f32])> {
        let held = self.positions();
        if pos < held.start || pos >= held.end {
            return None;
        }
        let start = self.start_of(pos);
        let end = start + self.dim;
        Some((&self.keys[start..end], &self.values[start..end]))
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
        let needed = self.len();
        if out.len() < needed {
            return Err(KvError::BufferTooSmall {
                needed,
                got: out.len(),
            });
        }
        let scale = 1.0 / (self.dim as f32).sqrt();
        let mut written = 0;
        for (key, _) in self.iter() {
            let mut dot = 0.0;
            for (a, b) in q.iter().zip(key) {
                dot += a * b;
            }
            out[written] = dot * scale;
            written += 1;
        }
        Ok(written)
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
        match self.positions.next() {
            Some(pos) => self.cache.get(pos),
            None => None,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.positions.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}
