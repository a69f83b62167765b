//! Exercise: a KV cache that allocates once and then only overwrites.
//!
//! A transformer keeps, for every token it has seen, one key and one value
//! vector per layer. llama.cpp allocates that cache once for the whole
//! context (`n_ctx` tokens of `n_embd` floats) and writes it in place, token
//! by token; with a sliding window, the oldest slots are reused. The C++
//! version is a raw `float*` ring with hand-written index arithmetic, and
//! the promise that nothing reallocates rests on `std::vector::reserve`
//! discipline.
//!
//! In Rust, a `Box<[f32]>` has a length fixed at creation (it has no `push`,
//! so it cannot grow by accident), every slice is bounds-checked, and a
//! view borrowed from the cache keeps the cache read-only while it lives:
//! see the note on `KvCache::iter`. No `unsafe` is needed anywhere.

use std::fmt;
use std::ops::Range;

/// Why a cache could not be created or a call was rejected.
// Silences "variant never constructed" until your code returns them;
// remove it once the cache is done.
#[allow(dead_code)]
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
        // TODO:
        // 1. A cache of zero tokens, or of zero-float vectors, is an error.
        // 2. Compute the number of floats per buffer without overflowing:
        //    `capacity * dim` would panic in a debug build. The size in
        //    bytes must fit too: Rust refuses allocations larger than
        //    `isize::MAX` bytes, and we promise an error, not a panic.
        // 3. Allocate each buffer once, at its final size (`capacity * dim`
        //    floats, not bytes), filled with zeros. Which `Vec` becomes a
        //    `Box<[f32]>` without a second allocation? Zeros, not
        //    uninitialised memory: `Vec::with_capacity(n)` plus
        //    `unsafe { set_len(n) }` makes floats nobody wrote, which is
        //    undefined behaviour even if they are never read (clippy's
        //    `uninit_vec` lint, which the check runs, flags it).
        // The check counts heap allocations, reallocations and the peak of
        // heap bytes: after `new`, the cache must never allocate again.
        let _ = (capacity, dim); // (delete this line: it only silences a warning)
        todo!()
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
        // TODO: the last (at most) `capacity` positions before `next_pos`.
        // Before the cache is full, `next_pos - capacity` would underflow:
        // which subtraction stops at zero instead?
        let _ = self.next_pos; // (delete this line: it only silences a warning)
        todo!()
    }

    /// Number of tokens held (at most `capacity`).
    pub fn len(&self) -> usize {
        // TODO: one line, with `positions`.
        todo!()
    }

    /// Whether no token is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes one token's key and value into the next slot and returns its
    /// position. When the cache is full, the oldest token is overwritten.
    pub fn push(&mut self, k: &[f32], v: &[f32]) -> Result<usize, KvError> {
        // TODO:
        // 1. Check the lengths of *both* vectors before writing either: a
        //    rejected call must leave the cache as it was. (What would
        //    `copy_from_slice` do with a wrong length? And C++'s `memcpy`?)
        // 2. Find the slot of position `next_pos` and the range of floats it
        //    covers in `keys` and `values`. `get` needs the same arithmetic,
        //    so a small private helper pays off.
        // 3. Copy `k` and `v` into that range in place. A `Box<[f32]>` has
        //    no `push` or `extend`: overwriting is all it can do, and that
        //    is the point.
        // 4. Advance `next_pos` and return the position just written.
        let _ = (k, v, &mut self.keys, &mut self.values); // (delete this line: it only silences a warning)
        todo!()
    }

    /// The key and value of position `pos`, borrowed from the cache, or
    /// `None` if that token was evicted or has not been pushed yet.
    pub fn get(&self, pos: usize) -> Option<(&[f32], &[f32])> {
        // TODO: return `None` unless `pos` is one of `positions()`. Without
        // that check an evicted position would still find its old slot and
        // silently return the newer token that overwrote it. Any `pos` may
        // be asked, up to `usize::MAX`: the answer is `None`, never an
        // overflow panic (careful with `pos + ...`). Otherwise return the two
        // slices of its slot: borrowed, never copied.
        let _ = pos; // (delete this line: it only silences a warning)
        todo!()
    }

    /// The tokens held, oldest first, as slices borrowed from the cache.
    pub fn iter(&self) -> Iter<'_> {
        // TODO: an `Iter` over `positions()`. The interesting part is the
        // signature. `Iter<'_>` holds `&self`, and every slice it yields
        // lives as long as that borrow, so while the iterator or any of its
        // slices is alive the cache is borrowed shared. `push` and `clear`
        // take `&mut self`, which cannot coexist with a shared borrow, so
        // the compiler rejects them. Without that rule a push could
        // overwrite the oldest slot while a view of it is still being read:
        // the same use-after-overwrite that `reset` under a live `PoolBox`
        // would be in the pool exercise, and that C++ prevents only by
        // discipline.
        todo!()
    }

    /// Writes `q · k / sqrt(dim)` for every cached key, oldest first, into
    /// `out` and returns how many scores it wrote (`len()`).
    ///
    /// The caller owns the buffer, so computing scores never allocates. It
    /// may be longer than `len()`: only its first `len()` entries are
    /// written, and the rest are left exactly as they were.
    pub fn attention_scores(&self, q: &[f32], out: &mut [f32]) -> Result<usize, KvError> {
        // TODO: a query of the wrong length (shorter or longer) is
        // `WrongDim`, even on an empty cache; a buffer shorter than `len()`
        // (the tokens held, not `capacity`) is `BufferTooSmall` (`get_mut(..n)`
        // avoids a panicking `[..n]`). A buffer of exactly `len()` floats is
        // fine, and an empty cache writes nothing and returns 0. Then walk
        // `out` and `self.iter()` together (`zip`): each score is the dot
        // product of `q` and the key, times `1.0 / (dim as f32).sqrt()`.
        let _ = (q, out); // (delete this line: it only silences a warning)
        todo!()
    }

    /// Forgets every token, keeping the memory for the next sequence.
    pub fn clear(&mut self) {
        // TODO: one line. Free nothing and allocate nothing. Is there any
        // need to zero the buffers? Think about what `get` and `iter` can
        // show after a clear.
        todo!()
    }
}

impl Drop for KvCache {
    fn drop(&mut self) {
        // TODO: print `freed KV cache: <capacity> tokens x <dim> floats`.
        // Nothing to free by hand: the boxes free themselves after this.
        // `println!` formats straight into stdout; building a `String` with
        // `format!` first would be one more allocation, and the check counts
        // every one.
        todo!()
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
        // TODO: take the next position, and let the cache look it up.
        let _ = self.cache; // (delete this line: it only silences a warning)
        todo!()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.positions.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}
