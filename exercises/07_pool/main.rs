//! Driver for the `pool` exercise. Do not edit: complete `pool.rs`.

use std::error::Error;
use std::fmt;
use std::ptr::NonNull;

use crate::pool::{MemoryPool, POOL_ALIGN, PoolBox, PoolError};

/// A value that announces its construction and destruction.
struct Sample {
    value: i32,
}

impl Sample {
    fn new(value: i32) -> Sample {
        println!("Sample({value}) constructed");
        Sample { value }
    }
}

impl Drop for Sample {
    fn drop(&mut self) {
        println!("Sample({}) destroyed", self.value);
    }
}

/// A value that owns heap memory (its `String`): if the pool never drops
/// it, that memory leaks; if it drops it twice, it is freed twice. (Only
/// the length is printed, which lives in the pool, so that a mistake shows
/// up as that double free rather than as random text.)
struct Label(String);

impl Drop for Label {
    fn drop(&mut self) {
        println!("Label of {} bytes dropped", self.0.len());
    }
}

/// A value of size zero: it needs no room, not even in a full pool.
struct Marker;

impl Drop for Marker {
    fn drop(&mut self) {
        println!("Marker dropped");
    }
}

/// Four floats that SIMD code wants on a 16-byte boundary.
#[repr(align(16))]
struct Vec4([f32; 4]);

/// A whole cache line.
#[repr(align(64))]
struct CacheLine([u8; 64]);

/// A whole page: aligned to more than the pool's own `POOL_ALIGN`.
#[repr(align(4096))]
struct Page([u8; 4096]);

/// Offset of `ptr` inside `pool`; every pointer printed here points into it.
fn offset<T>(pool: &MemoryPool, ptr: *const T) -> usize {
    pool.offset_of(ptr).expect("pointer into the pool")
}

/// The result of `allocate`, shown as the offset it returned or its error.
struct Placed<'a>(&'a MemoryPool, Result<NonNull<u8>, PoolError>);

impl fmt::Display for Placed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.1 {
            Ok(ptr) => write!(f, "offset {}", offset(self.0, ptr.as_ptr())),
            Err(e) => write!(f, "{e}"),
        }
    }
}

/// The result of `allocate(size, align)` for an `align` above `POOL_ALIGN`.
/// Its offset depends on where the system put the pool, so only what must
/// hold on every run is shown: the *address* is aligned, and the block lies
/// inside the pool.
struct Aligned<'a> {
    pool: &'a MemoryPool,
    size: usize,
    align: usize,
    result: Result<NonNull<u8>, PoolError>,
}

impl fmt::Display for Aligned<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.result {
            Ok(ptr) => {
                let inside = self
                    .pool
                    .offset_of(ptr.as_ptr())
                    .is_some_and(|start| start + self.size <= self.pool.capacity());
                write!(
                    f,
                    "address aligned to {}: {}, inside the pool: {inside}",
                    self.align,
                    ptr.as_ptr().addr().is_multiple_of(self.align)
                )
            }
            Err(e) => write!(f, "{e}"),
        }
    }
}

fn report(label: &str, pool: &MemoryPool) {
    println!(
        "{label}: used {} / available {} / {:.2}%",
        pool.used(),
        pool.available(),
        pool.usage_percent()
    );
}

/// Capacities that cannot work are errors, never a panic.
fn impossible_pools() {
    println!("== pools that cannot be made");
    // Zero bytes cannot be allocated; `usize::MAX` is too large for a
    // `Layout`; `1 << 62` is a valid layout that no system can provide.
    for (shown, capacity) in [("0", 0), ("usize::MAX", usize::MAX), ("1 << 62", 1 << 62)] {
        match MemoryPool::new(capacity) {
            Ok(pool) => println!("unexpected: made a pool of {} bytes", pool.capacity()),
            Err(e) => println!("MemoryPool::new({shown}): {e}"),
        }
    }
}

/// Raw allocations, values in the pool, filling it to the byte, and reset.
fn one_pool() -> Result<(), PoolError> {
    println!("== a pool of 1024 bytes");
    let mut pool = MemoryPool::new(1024)?;
    println!("created pool of {} bytes", pool.capacity());
    report("empty", &pool);
    // The pool's address is a multiple of 64, never of 1 << 62: even at
    // offset 0 this alignment cannot be met inside the pool.
    println!(
        "allocate(1, 1 << 62) on the empty pool: {}",
        Placed(&pool, pool.allocate(1, 1 << 62))
    );

    // Raw allocations: the second one is padded up to an 8-byte boundary.
    println!("allocate(3, 1): {}", Placed(&pool, pool.allocate(3, 1)));
    println!("allocate(8, 8): {}", Placed(&pool, pool.allocate(8, 8)));
    for align in [0, 3, 48] {
        println!(
            "allocate(8, {align}): {}",
            Placed(&pool, pool.allocate(8, align))
        );
    }
    report("after raw allocations", &pool);

    // Requests that cannot fit at offset 16. `start + size` would overflow
    // for most of them: each must be an error, and none may move the offset.
    println!(
        "allocate(1009, 1): {}",
        Placed(&pool, pool.allocate(1009, 1))
    );
    println!(
        "allocate(usize::MAX, 1): {}",
        Placed(&pool, pool.allocate(usize::MAX, 1))
    );
    println!(
        "allocate(usize::MAX - 8, 8): {}",
        Placed(&pool, pool.allocate(usize::MAX - 8, 8))
    );
    println!(
        "allocate(1, 1 << 63): {}",
        Placed(&pool, pool.allocate(1, 1 << 63))
    );
    println!(
        "allocate(usize::MAX - 8, 1 << 63): {}",
        Placed(&pool, pool.allocate(usize::MAX - 8, 1 << 63))
    );
    report("after the failed requests", &pool);

    {
        let first = PoolBox::new_in(Sample::new(100), &pool)?;
        let mut second = PoolBox::new_in(Sample::new(200), &pool)?;
        second.value = 250; // through DerefMut
        println!("first = {}, second = {}", first.value, second.value);

        let label = PoolBox::new_in(Label(String::from("owns heap memory")), &pool)?;
        println!(
            "Label of {} bytes at offset {}",
            label.0.len(),
            offset(&pool, PoolBox::as_ptr(&label))
        );

        let v = PoolBox::new_in(Vec4([1.0, 2.0, 3.0, 4.0]), &pool)?;
        let line = PoolBox::new_in(CacheLine([7; 64]), &pool)?;
        let v_addr = PoolBox::as_ptr(&v).addr();
        let line_addr = PoolBox::as_ptr(&line).addr();
        println!(
            "Vec4 {:?} at offset {}, aligned to 16: {}",
            v.0,
            offset(&pool, PoolBox::as_ptr(&v)),
            v_addr.is_multiple_of(16)
        );
        println!(
            "CacheLine of {} at offset {}, aligned to 64: {}",
            line.0[0],
            offset(&pool, PoolBox::as_ptr(&line)),
            line_addr.is_multiple_of(64)
        );

        // Moving a PoolBox moves only the handle; nothing is destroyed.
        let moved = first;
        println!("moved first, value still {}", moved.value);
        report("with live boxes", &pool);

        // pool.reset(); // does not compile: `pool` is still borrowed by the boxes
        println!("leaving scope");
    } // dropped in reverse order: moved, line, v, label, second (first was moved out)

    report("after the boxes are gone", &pool);

    // Fill the pool to the very last byte, then ask for more.
    println!(
        "allocate(available, 1): {}",
        Placed(&pool, pool.allocate(pool.available(), 1))
    );
    report("full", &pool);
    println!(
        "allocate(0, 1) on the full pool: {}",
        Placed(&pool, pool.allocate(0, 1))
    );
    println!(
        "allocate(1, 1) on the full pool: {}",
        Placed(&pool, pool.allocate(1, 1))
    );
    // On failure `new_in` drops the value it was given, so its destructor
    // runs before we see the error: nothing leaks.
    match PoolBox::new_in(Sample::new(300), &pool) {
        Ok(_) => println!("unexpected: the full pool accepted a Sample"),
        Err(e) => println!("new_in failed: {e}"),
    }
    // (Where a zero-sized value lives is not shown: a dangling, well-aligned
    // pointer, as `Box` uses, would be as good as one into the pool.)
    match PoolBox::new_in(Marker, &pool) {
        Ok(_marker) => println!("a zero-sized Marker fits in the full pool"),
        Err(e) => println!("Marker: {e}"),
    } // the Marker is dropped here, once

    // No PoolBox borrows the pool any more, so `&mut` is allowed again, and
    // the memory is reused from offset 0.
    pool.reset();
    report("after reset", &pool);
    let again = PoolBox::new_in(Sample::new(400), &pool)?;
    println!(
        "new Sample at offset {}",
        offset(&pool, PoolBox::as_ptr(&again))
    );
    println!(
        "allocate(1020, 4): {}",
        Placed(&pool, pool.allocate(1020, 4))
    );
    report("full again", &pool);
    println!("end of one_pool");
    Ok(())
} // `again` is dropped before `pool`: it was declared later

/// A pool exactly as large as what it holds.
fn exact_fit() -> Result<(), PoolError> {
    println!("== a pool of 64 bytes, filled to the byte");
    let mut pool = MemoryPool::new(64)?;
    println!("allocate(65, 1): {}", Placed(&pool, pool.allocate(65, 1)));
    match PoolBox::new_in(CacheLine([9; 64]), &pool) {
        Ok(line) => println!(
            "CacheLine of {} at offset {}",
            line.0[63],
            offset(&pool, PoolBox::as_ptr(&line))
        ),
        Err(e) => println!("CacheLine: {e}"),
    }
    report("one CacheLine", &pool);
    pool.reset();
    println!("allocate(61, 1): {}", Placed(&pool, pool.allocate(61, 1)));
    // 3 bytes are left, but the padding up to a multiple of 4 takes them all.
    println!("allocate(2, 4): {}", Placed(&pool, pool.allocate(2, 4)));
    println!("allocate(3, 1): {}", Placed(&pool, pool.allocate(3, 1)));
    report("full", &pool);
    Ok(())
}

/// Alignments above the pool's own: only the real address can be aligned.
fn large_alignments() -> Result<(), PoolError> {
    println!("== alignments above the pool's own {POOL_ALIGN}");
    let pool = MemoryPool::new(16384)?;
    println!("allocate(1, 1): {}", Placed(&pool, pool.allocate(1, 1)));
    // Each request starts at an odd offset.
    for (size, align) in [(9, 128), (64, 4096)] {
        let result = pool.allocate(size, align);
        let shown = Aligned {
            pool: &pool,
            size,
            align,
            result,
        };
        println!("allocate({size}, {align}): {shown}");
    }
    let page = PoolBox::new_in(Page([5; 4096]), &pool)?;
    let page_start = offset(&pool, PoolBox::as_ptr(&page));
    println!(
        "Page of {}: address aligned to 4096: {}, inside the pool: {}",
        page.0[4095],
        PoolBox::as_ptr(&page).addr().is_multiple_of(4096),
        page_start + 4096 <= pool.capacity()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    impossible_pools();
    one_pool()?;
    exact_fit()?;
    large_alignments()?;
    println!("end of main");
    Ok(())
}
