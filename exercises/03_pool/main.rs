//! Driver for the `pool` exercise. Do not edit: complete `pool.rs`.

use std::error::Error;

use crate::pool::{MemoryPool, PoolBox};

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

/// Four floats that SIMD code wants on a 16-byte boundary.
#[repr(align(16))]
struct Vec4([f32; 4]);

/// A whole cache line.
#[repr(align(64))]
struct CacheLine([u8; 64]);

/// Offset of `ptr` inside `pool`; every pointer printed here points into it.
fn offset<T>(pool: &MemoryPool, ptr: *const T) -> usize {
    pool.offset_of(ptr).expect("pointer into the pool")
}

fn report(label: &str, pool: &MemoryPool) {
    println!(
        "{label}: used {} / available {} / {:.2}%",
        pool.used(),
        pool.available(),
        pool.usage_percent()
    );
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut pool = MemoryPool::new(1024)?;
    println!("created pool of {} bytes", pool.capacity());
    report("empty", &pool);

    // Raw allocations: the second one is padded up to an 8-byte boundary.
    let a = pool.allocate(3, 1)?;
    let b = pool.allocate(8, 8)?;
    println!("3 bytes at offset {}", offset(&pool, a.as_ptr()));
    println!("8 bytes (align 8) at offset {}", offset(&pool, b.as_ptr()));
    if let Err(e) = pool.allocate(8, 3) {
        println!("allocate(8, 3): {e}");
    }
    report("after raw allocations", &pool);

    {
        let first = PoolBox::new_in(Sample::new(100), &pool)?;
        let mut second = PoolBox::new_in(Sample::new(200), &pool)?;
        second.value = 250; // through DerefMut
        println!("first = {}, second = {}", first.value, second.value);

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
    } // dropped in reverse order: moved, line, v, second (first was moved out)

    report("after the boxes are gone", &pool);

    // Fill the pool to the brim, then ask for more.
    let rest = pool.allocate(pool.available(), 1)?;
    println!(
        "filled the rest from offset {}",
        offset(&pool, rest.as_ptr())
    );
    report("full", &pool);
    // On failure `new_in` drops the value it was given, so its destructor
    // runs before we see the error: nothing leaks.
    match PoolBox::new_in(Sample::new(300), &pool) {
        Ok(_) => println!("unexpected: the full pool accepted a Sample"),
        Err(e) => println!("new_in failed: {e}"),
    }

    // No PoolBox borrows the pool any more, so `&mut` is allowed again.
    pool.reset();
    report("after reset", &pool);
    // A request so large that `offset + size` overflows is an error too.
    if let Err(e) = pool.allocate(usize::MAX, 1) {
        println!("allocate(usize::MAX, 1): {e}");
    }
    let again = PoolBox::new_in(Sample::new(400), &pool)?;
    println!(
        "new Sample at offset {}",
        offset(&pool, PoolBox::as_ptr(&again))
    );
    println!("end of main");
    Ok(())
} // `again` is dropped before `pool`: it was declared later
