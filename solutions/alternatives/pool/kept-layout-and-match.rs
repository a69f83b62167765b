//! Alternative: the pool keeps its `Layout` (so `Drop` frees with exactly the
//! layout it allocated with), `match` instead of `?`, the padding from a
//! remainder, `NonNull`'s own `write` and `drop_in_place` methods, and
//! zero-sized values kept out of the pool at a dangling address, as `Box`
//! does.

use std::alloc::{self, Layout};
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
    /// Start of the block; valid for `layout.size()` bytes until `drop`.
    base: NonNull<u8>,
    /// The layout the block was allocated with, kept for `dealloc`.
    layout: Layout,
    /// Bytes in use. A `Cell` lets `allocate` take `&self`, so several
    /// `PoolBox`es can borrow the pool at the same time.
    offset: Cell<usize>,
}

impl MemoryPool {
    /// Allocates a pool of `capacity` bytes, aligned to [`POOL_ALIGN`].
    pub fn new(capacity: usize) -> Result<MemoryPool, PoolError> {
        // Allocating zero bytes is undefined behaviour, and a capacity too
        // large for a `Layout` cannot be allocated at all.
        let layout = match Layout::from_size_align(capacity, POOL_ALIGN) {
            Ok(layout) if capacity > 0 => layout,
            _ => return Err(PoolError::InvalidCapacity(capacity)),
        };
        // SAFETY: `layout` has a non-zero size.
        let raw = unsafe { alloc::alloc(layout) };
        match NonNull::new(raw) {
            Some(base) => Ok(MemoryPool {
                base,
                layout,
                offset: Cell::new(0),
            }),
            None => Err(PoolError::AllocationFailed(capacity)),
        }
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
        // How far the real address is past the previous multiple of
        // `align`; the padding takes it to the next one.
        let remainder = (self.base.as_ptr().addr() + offset) % align;
        let padding = if remainder == 0 { 0 } else { align - remainder };
        // `padding < align`, but `offset + padding + size` can still
        // overflow: every step is checked.
        let end = match offset
            .checked_add(padding)
            .and_then(|start| start.checked_add(size))
        {
            Some(end) if end <= self.capacity() => end,
            _ => {
                return Err(PoolError::OutOfMemory {
                    requested: size,
                    available: self.available(),
                });
            }
        };
        let start = offset + padding; // cannot overflow: `end` did not
        self.offset.set(end);
        // SAFETY: `start <= end <= capacity`, so the result lies within (or
        // one past the end of, for `size == 0`) the pool's block.
        Ok(unsafe { self.base.add(start) })
    }

    /// Offset of `ptr` from the start of the pool, if it points into it.
    pub fn offset_of<T>(&self, ptr: *const T) -> Option<usize> {
        let offset = ptr.addr().checked_sub(self.base.as_ptr().addr())?;
        (offset <= self.capacity()).then_some(offset)
    }

    /// Total size of the pool in bytes.
    pub fn capacity(&self) -> usize {
        self.layout.size()
    }

    /// Bytes handed out so far, including alignment padding.
    pub fn used(&self) -> usize {
        self.offset.get()
    }

    /// Bytes still free at the end of the pool.
    pub fn available(&self) -> usize {
        self.capacity() - self.offset.get()
    }

    /// `used` as a percentage of `capacity`.
    pub fn usage_percent(&self) -> f64 {
        // `new` guarantees `capacity > 0`.
        100.0 * self.used() as f64 / self.capacity() as f64
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
        // SAFETY: `base` came from `alloc::alloc` with `self.layout` and is
        // freed only here, once.
        unsafe { alloc::dealloc(self.base.as_ptr(), self.layout) };
        println!("released pool of {} bytes", self.capacity());
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
        // A zero-sized value needs no memory: like `Box`, point at a
        // dangling but well-aligned address and leave the pool alone.
        let ptr = match layout.size() {
            0 => NonNull::dangling(),
            size => match pool.allocate(size, layout.align()) {
                Ok(ptr) => ptr.cast::<T>(),
                // Returning drops `value`, as documented.
                Err(e) => return Err(e),
            },
        };
        // SAFETY: `ptr` is aligned for `T` and valid for writes of
        // `size_of::<T>()` bytes (what `allocate` guarantees; for a
        // zero-sized `T` any aligned non-null pointer is), and nothing else
        // uses that memory. `write` does not drop the old (uninitialised)
        // contents, which is exactly what we need.
        unsafe { ptr.write(value) };
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
        unsafe { self.ptr.drop_in_place() };
    }
}
