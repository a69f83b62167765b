//! Exercise: a bump allocator and values that live in it.
//!
//! The C++ version allocates one block, hands out aligned pieces of it,
//! constructs objects in them with placement new (`new (p) T()`), and calls
//! their destructors explicitly (`p->~T()`) without freeing the memory.
//!
//! The Rust counterparts are `std::alloc::alloc`/`dealloc` with a `Layout`,
//! `ptr::write` (placement new) and `ptr::drop_in_place` (explicit
//! destructor call). Each needs `unsafe` and a `// SAFETY:` comment saying
//! why it is sound here. What C++ leaves to discipline, `PoolBox` enforces
//! with a lifetime: see the note on `MemoryPool::reset`.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// Alignment of the pool's own allocation. Because the base address is a
/// multiple of 64, offsets of values aligned to 64 or less are the same on
/// every run.
pub const POOL_ALIGN: usize = 64;

/// Why the pool could not be created or could not satisfy a request.
// Silences "variant never constructed" until your code returns them;
// remove it once the pool is done.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolError {
    /// The capacity is zero or too large for one allocation.
    InvalidCapacity(usize),
    /// The system allocator returned no memory.
    AllocationFailed(usize),
    /// Alignments must be powers of two.
    InvalidAlignment(usize),
    /// Not enough room left (also reported when the arithmetic would overflow).
    OutOfMemory { requested: usize, available: usize },
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::InvalidCapacity(c) => write!(f, "invalid pool capacity {c}"),
            PoolError::AllocationFailed(c) => write!(f, "could not allocate a pool of {c} bytes"),
            PoolError::InvalidAlignment(a) => write!(f, "alignment {a} is not a power of two"),
            PoolError::OutOfMemory {
                requested,
                available,
            } => write!(
                f,
                "out of memory: requested {requested} bytes, {available} available"
            ),
        }
    }
}

impl std::error::Error for PoolError {}

/// A bump allocator over one fixed-size block of memory.
pub struct MemoryPool {
    /// Start of the block; valid for `capacity` bytes until `drop`.
    base: NonNull<u8>,
    capacity: usize,
    /// Bytes in use. A `Cell` lets `allocate` take `&self`, so several
    /// `PoolBox`es can borrow the pool at the same time.
    offset: Cell<usize>,
}

impl MemoryPool {
    /// Allocates a pool of `capacity` bytes, aligned to [`POOL_ALIGN`].
    pub fn new(capacity: usize) -> Result<MemoryPool, PoolError> {
        // TODO: build a `std::alloc::Layout` of `capacity` bytes aligned to
        // `POOL_ALIGN` and allocate it with `std::alloc::alloc`. Read that
        // function's safety section: which capacity must you reject first?
        // A capacity too large for a `Layout` (`usize::MAX`, say) is
        // `InvalidCapacity` too: never `unwrap` the layout. A null result
        // means the allocator failed (the driver asks for `1 << 62` bytes):
        // return `AllocationFailed`.
        let _ = (capacity, POOL_ALIGN); // (delete this line: it only silences a warning)
        todo!()
    }

    /// Reserves `size` bytes whose *address* is a multiple of `align`.
    ///
    /// The returned memory is uninitialised and stays reserved until
    /// [`reset`](Self::reset) or until the pool is dropped; using the raw
    /// pointer after that is the caller's responsibility (unlike `PoolBox`,
    /// which the borrow checker protects).
    pub fn allocate(&self, size: usize, align: usize) -> Result<NonNull<u8>, PoolError> {
        // TODO:
        // 1. Reject an `align` that is not a power of two (0 is not one).
        // 2. Round the real address (base address + offset) up to a multiple
        //    of `align`; for a power of two, `(x + align - 1) & !(align - 1)`.
        //    (`ptr.addr()` gives a pointer's address as a `usize`.) Rounding
        //    the offset is not enough: `align` may be larger than
        //    `POOL_ALIGN`, even larger than the whole pool.
        // 3. Check that the aligned start plus `size` still fits in the
        //    capacity. Use `checked_add`: a huge `size` (or a huge padding)
        //    at any offset must give `PoolError::OutOfMemory` (with
        //    `available: self.available()`), not an overflow panic. A block that ends exactly at the capacity fits,
        //    and so does `size == 0` in a full pool.
        // 4. Only then bump the offset (a failed request leaves it alone) and
        //    return base + start (`NonNull::add`, which is `unsafe`: why is
        //    it sound here?).
        let _ = (size, align, &self.offset); // (delete this line: it only silences a warning)
        todo!()
    }

    /// Offset of `ptr` from the start of the pool, if it points into it.
    pub fn offset_of<T>(&self, ptr: *const T) -> Option<usize> {
        let offset = ptr.addr().checked_sub(self.base.as_ptr().addr())?;
        (offset <= self.capacity).then_some(offset)
    }

    /// Total size of the pool in bytes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes handed out so far, including alignment padding.
    pub fn used(&self) -> usize {
        todo!()
    }

    /// Bytes still free at the end of the pool.
    pub fn available(&self) -> usize {
        todo!()
    }

    /// `used` as a percentage of `capacity`.
    pub fn usage_percent(&self) -> f64 {
        todo!()
    }

    /// Makes the whole pool available again.
    pub fn reset(&mut self) {
        // TODO: this one is a single line. The interesting part is the
        // signature. `reset` takes `&mut self`, and every `PoolBox<'pool, T>`
        // holds a shared borrow of the pool for its whole life. A `&mut`
        // borrow cannot coexist with a shared one, so the compiler rejects
        // any `reset` while a `PoolBox` is alive. Without that rule, the
        // next allocation after a reset would hand out memory that a live
        // value still occupies, and writing to it would overwrite that value:
        // a use-after-free, which in C++ only discipline prevents.
        todo!()
    }
}

impl Drop for MemoryPool {
    fn drop(&mut self) {
        // TODO: give the block back with `std::alloc::dealloc`, using the
        // same layout as in `new` (same size *and* alignment: anything else
        // is undefined behaviour, and the checker compares them), then print
        // `released pool of <capacity> bytes`.
        todo!()
    }
}

/// A `T` living inside a `MemoryPool`, like `Box<T>` but pool-backed.
///
/// Dropping it runs `T`'s destructor but frees no memory: the space is
/// reclaimed by `MemoryPool::reset` or when the pool is dropped.
pub struct PoolBox<'pool, T> {
    /// Points to an initialised `T` inside the pool.
    ptr: NonNull<T>,
    /// We behave as if we held `&'pool MemoryPool` (so the pool can be
    /// neither reset nor dropped while we live) and owned a `T` (so drop
    /// checking and auto traits treat us like `Box<T>`).
    _marker: PhantomData<(&'pool MemoryPool, T)>,
}

impl<'pool, T> PoolBox<'pool, T> {
    /// Moves `value` into `pool`.
    ///
    /// On failure `value` is dropped (its destructor runs) and the error is
    /// returned.
    pub fn new_in(value: T, pool: &'pool MemoryPool) -> Result<PoolBox<'pool, T>, PoolError> {
        // TODO: ask the pool for room for one `T` (`Layout::new::<T>()`
        // knows its size and alignment), then move `value` into it. Plain
        // assignment (`*p = value`) would first drop the "old" value, which
        // is uninitialised memory: what writes without dropping? Afterwards
        // the pool owns the value: it must be dropped exactly once, by the
        // `PoolBox`. Keep the `'pool` lifetime on `pool`: it is what stops a
        // box from outliving its pool or living through a `reset`.
        let _ = (value, pool); // (delete this line: it only silences a warning)
        todo!()
    }

    /// Address of the value (an associated function, like `Box::as_ptr`,
    /// so it cannot shadow a method of `T`).
    pub fn as_ptr(this: &Self) -> *const T {
        this.ptr.as_ptr()
    }
}

impl<T> Deref for PoolBox<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // TODO: turn the pointer into a reference (`unsafe`: why is it valid?)
        todo!()
    }
}

impl<T> DerefMut for PoolBox<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // TODO
        todo!()
    }
}

impl<T> Drop for PoolBox<'_, T> {
    fn drop(&mut self) {
        // TODO: run the value's destructor in place, exactly once (a value
        // that owns heap memory, like a `String`, frees it then), and free
        // nothing: the memory belongs to the pool.
        todo!()
    }
}
