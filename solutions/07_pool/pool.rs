//! Bump allocator and pool-owned values (reference solution).
//!
//! `MemoryPool` makes one allocation up front and hands out aligned pieces
//! of it by bumping an offset. `PoolBox<T>` places a value in the pool (C++:
//! placement new, here `ptr::write`) and runs its destructor when dropped
//! (C++: an explicit `p->~T()`, here `ptr::drop_in_place`) without freeing
//! anything: the pool frees all of its memory at once.

use std::alloc::{self, Layout};
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};

/// Alignment of the pool's own allocation. Because the base address is a
/// multiple of 64, offsets of values aligned to 64 or less are the same on
/// every run.
pub const POOL_ALIGN: usize = 64;

/// Why the pool could not be created or could not satisfy a request.
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
        let layout = Self::layout(capacity).ok_or(PoolError::InvalidCapacity(capacity))?;
        // SAFETY: `layout` has a non-zero size (checked in `layout`).
        let raw = unsafe { alloc::alloc(layout) };
        let base = NonNull::new(raw).ok_or(PoolError::AllocationFailed(capacity))?;
        Ok(MemoryPool {
            base,
            capacity,
            offset: Cell::new(0),
        })
    }

    /// The layout of the pool's block; `None` for a zero or oversized
    /// capacity (allocating zero bytes is undefined behaviour).
    fn layout(capacity: usize) -> Option<Layout> {
        if capacity == 0 {
            return None;
        }
        Layout::from_size_align(capacity, POOL_ALIGN).ok()
    }

    /// Reserves `size` bytes whose *address* is a multiple of `align`.
    ///
    /// The returned memory is uninitialised and stays reserved until
    /// [`reset`](Self::reset) or until the pool is dropped; using the raw
    /// pointer after that is the caller's responsibility (unlike `PoolBox`,
    /// which the borrow checker protects).
    pub fn allocate(&self, size: usize, align: usize) -> Result<NonNull<u8>, PoolError> {
        if !align.is_power_of_two() {
            return Err(PoolError::InvalidAlignment(align));
        }
        let out_of_memory = PoolError::OutOfMemory {
            requested: size,
            available: self.available(),
        };
        // Align the real address, not just the offset: this stays correct
        // even for an `align` larger than the pool's own alignment.
        let base = self.base.as_ptr().addr();
        let current = base + self.offset.get(); // in bounds, cannot overflow
        let aligned = current.checked_add(align - 1).ok_or(out_of_memory)? & !(align - 1);
        let start = aligned - base;
        let end = start.checked_add(size).ok_or(out_of_memory)?;
        if end > self.capacity {
            return Err(out_of_memory);
        }
        self.offset.set(end);
        // SAFETY: `start <= end <= capacity`, so the result lies within (or
        // one past the end of, for `size == 0`) the pool's block.
        Ok(unsafe { self.base.add(start) })
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
        self.offset.get()
    }

    /// Bytes still free at the end of the pool.
    pub fn available(&self) -> usize {
        self.capacity - self.offset.get()
    }

    /// `used` as a percentage of `capacity`.
    pub fn usage_percent(&self) -> f64 {
        // `new` guarantees `capacity > 0`.
        self.used() as f64 / self.capacity as f64 * 100.0
    }

    /// Makes the whole pool available again.
    ///
    /// Taking `&mut self` is what makes this safe: while any `PoolBox`
    /// borrows the pool (`&'pool MemoryPool`), no `&mut` borrow can exist, so
    /// the compiler rejects a reset that would let new allocations overwrite
    /// live values.
    pub fn reset(&mut self) {
        self.offset.set(0);
    }
}

impl Drop for MemoryPool {
    fn drop(&mut self) {
        let layout = Self::layout(self.capacity).expect("layout was valid in `new`");
        // SAFETY: `base` came from `alloc::alloc` with this same layout and
        // is freed only here, once.
        unsafe { alloc::dealloc(self.base.as_ptr(), layout) };
        println!("released pool of {} bytes", self.capacity);
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
        let layout = Layout::new::<T>();
        let ptr = pool.allocate(layout.size(), layout.align())?.cast::<T>();
        // SAFETY: `ptr` is valid for writes of `size_of::<T>()` bytes and
        // aligned for `T` (that is what `allocate` guarantees), and nothing
        // else uses that memory. `write` does not drop the old (uninitialised)
        // contents, which is exactly what we need.
        unsafe { ptr.as_ptr().write(value) };
        Ok(PoolBox {
            ptr,
            _marker: PhantomData,
        })
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
        // SAFETY: `ptr` points to an initialised `T` that we own until drop;
        // the returned borrow is tied to `&self`.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> DerefMut for PoolBox<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` guarantees exclusive access.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T> Drop for PoolBox<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the value is initialised and is dropped only here, once;
        // afterwards nothing reads it. The memory itself belongs to the pool
        // and is deliberately not freed.
        unsafe { ptr::drop_in_place(self.ptr.as_ptr()) };
    }
}
