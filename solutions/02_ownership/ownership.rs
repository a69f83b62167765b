//! Ownership transfer with `mem::take`, `mem::replace`, `mem::swap` and
//! `Option::take` (reference solution).
//!
//! C++ moves leave a "moved-from" object behind: valid but unspecified, and
//! its destructor still runs. `std::exchange(x, new)` puts a new value in
//! and returns the old one; `std::swap` exchanges two. Rust moves leave
//! nothing behind, so moving a value *out of a place you only borrow* (a
//! `&mut` field) needs one of these, which always leave a valid value in
//! the place:
//!
//! - `mem::take(&mut x)`: returns `x`, leaves `Default::default()` (an
//!   empty `Vec`, which owns no memory);
//! - `mem::replace(&mut x, new)`: returns `x`, leaves `new` (`std::exchange`);
//! - `mem::swap(&mut a, &mut b)`: exchanges them (`std::swap`);
//! - `Option::take(&mut opt)`: returns the content, leaves `None`.
//!
//! None of them copies the elements of a `Vec`: only the three words of
//! the `Vec` itself (pointer, capacity, length) move. No `unsafe` here.

use std::cell::{Cell, RefCell};
use std::ops::{Deref, DerefMut};

/// A scratch buffer of `f32`s with an id, made only by a [`Pool`].
///
/// Deliberately neither `Clone` nor `Default`: a buffer is in exactly one
/// place at a time (free in its pool, leased, or kept by the caller).
pub struct Buffer {
    id: usize,
    data: Vec<f32>,
}

impl Buffer {
    /// The buffer's id: the number of buffers its pool had made before it.
    pub fn id(&self) -> usize {
        self.id
    }

    /// The floats written so far.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The floats, to write.
    pub fn data_mut(&mut self) -> &mut Vec<f32> {
        &mut self.data
    }

    /// How many floats fit without allocating again.
    pub fn capacity(&self) -> usize {
        self.data.capacity()
    }
}

/// A pool of reusable buffers, in the spirit of the scratch buffers
/// llama.cpp reuses between evaluations instead of allocating them anew.
pub struct Pool {
    /// Returned buffers, most recently returned last.
    free: RefCell<Vec<Buffer>>,
    /// Buffers made so far: the id of the next new one.
    created: Cell<usize>,
    /// Floats each new buffer has room for.
    buffer_capacity: usize,
}

impl Pool {
    /// A pool whose buffers hold `buffer_capacity` floats each. Makes no
    /// buffer yet.
    pub fn new(buffer_capacity: usize) -> Pool {
        Pool {
            free: RefCell::new(Vec::new()),
            created: Cell::new(0),
            buffer_capacity,
        }
    }

    /// Number of buffers this pool has made.
    pub fn created(&self) -> usize {
        self.created.get()
    }

    /// The ids of the free buffers, most recently returned last.
    pub fn free_ids(&self) -> Vec<usize> {
        self.free.borrow().iter().map(Buffer::id).collect()
    }

    /// Removes and returns the most recently returned buffer, if any.
    fn pop_free(&self) -> Option<Buffer> {
        self.free.borrow_mut().pop()
    }

    /// Puts a buffer back on the free list.
    fn push_free(&self, buffer: Buffer) {
        self.free.borrow_mut().push(buffer);
    }

    /// Lends a buffer: the most recently returned one (its memory is the
    /// most likely to still be in the cache), or a new one if none is free.
    /// The buffer is empty, with room for at least `buffer_capacity` floats.
    pub fn lease(&self) -> Lease<'_> {
        let buffer = self.pop_free().unwrap_or_else(|| {
            let id = self.created.get();
            self.created.set(id + 1);
            Buffer {
                id,
                data: Vec::with_capacity(self.buffer_capacity),
            }
        });
        Lease {
            pool: self,
            buffer: Some(buffer),
        }
    }
}

/// A buffer on loan from a pool. Dropping the lease returns the buffer,
/// emptied but with its memory, to the pool (also when a panic unwinds
/// through the code that holds it); `keep` takes it for good.
pub struct Lease<'pool> {
    pool: &'pool Pool,
    /// `Some` for the whole life of the lease; `None` only once `keep` or
    /// `drop` has moved the buffer out. (A field of a type that implements
    /// `Drop` cannot be moved out directly: `Option::take` can.)
    buffer: Option<Buffer>,
}

impl Lease<'_> {
    /// Takes the buffer out of the pool for good: it will not be returned,
    /// and its memory is freed when the caller drops it.
    pub fn keep(mut self) -> Buffer {
        // `take` leaves `None`, so the `Drop` below (which still runs, right
        // after this returns) finds nothing to give back.
        self.buffer
            .take()
            .expect("a lease holds its buffer until dropped")
    }
}

impl Deref for Lease<'_> {
    type Target = Buffer;

    fn deref(&self) -> &Buffer {
        self.buffer
            .as_ref()
            .expect("a lease holds its buffer until dropped")
    }
}

impl DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut Buffer {
        self.buffer
            .as_mut()
            .expect("a lease holds its buffer until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        // `drop` only gets `&mut self`, but the pool needs the buffer by
        // value: `Option::take` moves it out and leaves `None`.
        if let Some(mut buffer) = self.buffer.take() {
            // `clear` drops the floats but keeps the allocation, so the
            // next lease of this buffer allocates nothing.
            buffer.data.clear();
            self.pool.push_free(buffer);
        }
    }
}

/// Double buffering: a producer fills `back` while readers see `front`;
/// `publish` exchanges them, as llama.cpp's pipelines do with a pair of
/// buffers instead of copying one into the other.
pub struct DoubleBuffer {
    front: Vec<f32>,
    back: Vec<f32>,
}

impl DoubleBuffer {
    /// Two empty buffers with room for `capacity` floats each.
    pub fn new(capacity: usize) -> DoubleBuffer {
        DoubleBuffer {
            front: Vec::with_capacity(capacity),
            back: Vec::with_capacity(capacity),
        }
    }

    /// The last published floats.
    pub fn front(&self) -> &[f32] {
        &self.front
    }

    /// The floats being prepared.
    pub fn back(&self) -> &[f32] {
        &self.back
    }

    /// The floats being prepared, to write.
    pub fn back_mut(&mut self) -> &mut Vec<f32> {
        &mut self.back
    }

    /// Publishes the back buffer: it becomes the front, and the old front,
    /// emptied, becomes the new back. Copies and allocates nothing.
    pub fn publish(&mut self) {
        // Exchanges the two `Vec`s (pointer, capacity and length each),
        // never their elements.
        std::mem::swap(&mut self.front, &mut self.back);
        // The old front is stale: the producer starts from empty, with the
        // old front's memory.
        self.back.clear();
    }

    /// Hands the published floats to the caller, leaving the front empty
    /// (an empty `Vec` that owns no memory, like a moved-from
    /// `std::vector`). Copies and allocates nothing.
    pub fn take_front(&mut self) -> Vec<f32> {
        std::mem::take(&mut self.front)
    }

    /// Hands the published floats to the caller and puts `spare` in their
    /// place, emptied (its memory is kept for the next publish): the
    /// `std::exchange` of C++. Copies and allocates nothing.
    pub fn replace_front(&mut self, mut spare: Vec<f32>) -> Vec<f32> {
        // The front only ever shows published floats, never the spare's.
        spare.clear();
        std::mem::replace(&mut self.front, spare)
    }
}
