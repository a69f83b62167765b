//! Exercise: ownership transfer with `mem::take`, `mem::replace`,
//! `mem::swap` and `Option::take`.
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
//!
//! The check counts heap allocations and requires that nothing leaks: a
//! `clone()` or `to_vec()` where a move would do costs an allocation, and
//! fails the check even when the printed floats are right.

use std::cell::{Cell, RefCell};
use std::ops::{Deref, DerefMut};

/// A scratch buffer of `f32`s with an id, made only by a [`Pool`].
///
/// Deliberately neither `Clone` nor `Default`: a buffer is in exactly one
/// place at a time (free in its pool, leased, or kept by the caller), and
/// the check makes sure no `Clone` sneaks in.
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
        // TODO:
        // 1. Reuse a free buffer if there is one (`pop_free` is written for
        //    you: it borrows the free list only for that one call).
        // 2. Otherwise make a new `Buffer`: its id is the number of buffers
        //    made so far (`self.created`, a `Cell`: `get` and `set`), and its
        //    `Vec` has room for `buffer_capacity` floats from the start.
        // 3. Wrap it in a `Lease` that remembers this pool.
        let _ = (self.buffer_capacity, Self::pop_free, Self::push_free); // (delete this line: it only silences warnings)
        todo!()
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
    /// It takes the lease by value, so a kept buffer cannot be reached
    /// through its old lease: the check makes sure of that.
    pub fn keep(mut self) -> Buffer {
        // TODO: move the buffer out of the lease and return it. You cannot
        // move a field out of a type that implements `Drop` (E0509), but
        // `self.buffer` is an `Option`. Remember that `self` is dropped
        // right after this returns, and its `Drop` runs: what must it find,
        // so that the pool does not get this buffer back too?
        let _ = (self.pool, &mut self.buffer); // (delete this line: it only silences warnings)
        todo!()
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
        // TODO: give the buffer back to the pool with `push_free`, empty
        // (the next borrower must not see this one's floats) but with its
        // memory (so that the next lease allocates nothing). `drop` only
        // gets `&mut self`, and `push_free` wants the buffer by value: which
        // `Option` method moves it out? After `keep`, there is nothing to
        // give back.
        //
        // (This body is left empty instead of holding a `todo!()`: a panic
        // inside `drop` while another panic unwinds aborts the program.)
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
        // TODO: two lines. Exchange the two `Vec`s without copying their
        // floats (what is C++'s `std::swap` called here?), then make sure
        // the producer starts from an empty back buffer, keeping its memory.
        todo!()
    }

    /// Hands the published floats to the caller, leaving the front empty
    /// (an empty `Vec` that owns no memory, like a moved-from
    /// `std::vector`). Copies and allocates nothing.
    pub fn take_front(&mut self) -> Vec<f32> {
        // TODO: one line. `self.front` cannot simply be moved out of a
        // `&mut self` (E0507): something valid must stay in its place. A
        // `clone()` would copy every float and leave them behind, to be
        // handed out a second time.
        todo!()
    }

    /// Hands the published floats to the caller and puts `spare` in their
    /// place, emptied (its memory is kept for the next publish): the
    /// `std::exchange` of C++. Copies and allocates nothing.
    pub fn replace_front(&mut self, spare: Vec<f32>) -> Vec<f32> {
        // TODO: the front only ever shows published floats, never what the
        // spare held. Then put the spare in the front's place and return
        // what was there, in one call.
        let _ = spare; // (delete this line: it only silences a warning)
        todo!()
    }
}
