//! Alternative: `Option` combinators, the padding computed from the address
//! with `wrapping_neg`, and `PoolBox::drop` reading the value out to drop it.

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
        // SAFETY: `layout` has a non-zero size (`layout` filters out zero).
        NonNull::new(unsafe { alloc::alloc(layout) })
            .map(|base| MemoryPool {
                base,
                capacity,
                offset: Cell::new(0),
            })
            .ok_or(PoolError::AllocationFailed(capacity))
    }

    /// The layout of the pool's block; `None` for a zero capacity
    /// (allocating zero bytes is undefined behaviour) or one too large for
    /// a `Layout`.
    fn layout(capacity: usize) -> Option<Layout> {
        Layout::from_size_align(capacity, POOL_ALIGN)
            .ok()
            .filter(|layout| layout.size() != 0)
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
        let offset = self.offset.get();
        // The padding that brings the *address* up to a multiple of `align`:
        // `-addr mod align`, which for a power of two is a mask of the
        // negated address. It is below `align`, but may still be far more
        // than the pool holds.
        let address = self.base.as_ptr().addr() + offset;
        let padding = address.wrapping_neg() & (align - 1);
        let (start, end) = offset
            .checked_add(padding)
            .and_then(|start| Some((start, start.checked_add(size)?)))
            .filter(|&(_, end)| end <= self.capacity)
            .ok_or(PoolError::OutOfMemory {
                requested: size,
                available: self.available(),
            })?;
        self.offset.set(end);
        // SAFETY: `start <= end <= capacity`: the result lies within (or one
        // past the end of, for `size == 0`) the pool's block.
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
        // SAFETY: the value is initialised and this is the only place that
        // moves it out, once; afterwards nothing reads the slot. Dropping
        // the value read out runs its destructor; the slot's memory belongs
        // to the pool and is deliberately not freed.
        drop(unsafe { ptr::read(self.ptr.as_ptr()) });
    }
}
