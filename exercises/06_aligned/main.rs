//! Driver for the `aligned` exercise. Do not edit: complete `aligned.rs`.
//!
//! Apart from the buffers themselves, nothing here allocates (stdout's
//! buffer aside): the check counts every allocation, and the bytes still
//! allocated at exit must be zero.

use std::error::Error;

use crate::aligned::{ALIGN, AlignError, AlignedBuf, layout_for};

/// The most floats one buffer can hold: `len * 4` bytes, rounded up to a
/// multiple of 64, must not exceed `isize::MAX - 63` (2^63 - 64 bytes).
const LARGEST: usize = (isize::MAX as usize - (ALIGN - 1)) / size_of::<f32>();
/// A valid layout (4 TiB) that no allocator here can satisfy: the check runs
/// the program with a memory limit well below it.
const TOO_MUCH: usize = 1 << 40;

fn show_layout(len: usize) {
    match layout_for(len) {
        Ok(layout) => println!(
            "layout_for({len}): {} bytes, align {}",
            layout.size(),
            layout.align()
        ),
        Err(e) => println!("layout_for({len}): {e}"),
    }
}

fn describe(name: &str, buf: &AlignedBuf) {
    println!(
        "{name}: {} floats, empty {}, {} bytes reserved, address multiple of {ALIGN}: {}, sum {}",
        buf.len(),
        buf.is_empty(),
        buf.capacity_bytes(),
        buf.as_ptr().addr().is_multiple_of(ALIGN),
        buf.iter().fold(0.0, |sum, x| sum + x)
    );
}

fn show_error(what: &str, result: Result<AlignedBuf, AlignError>) {
    match result {
        Ok(buf) => println!("{what}: unexpected success, {} floats", buf.len()),
        Err(e) => println!("{what}: {e}"),
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    // The layout: size in bytes padded to a multiple of 64, alignment 64.
    // Every step is checked: the multiplication by 4, the rounding up, and
    // the `isize::MAX` limit that every allocation in Rust obeys.
    for len in [
        0,
        1,
        16,
        17,
        100,
        LARGEST,
        LARGEST + 1,
        isize::MAX as usize / 4 + 1,
        usize::MAX / 4,
        usize::MAX / 4 + 1,
        usize::MAX,
    ] {
        show_layout(len);
    }

    // Zero floats: no allocation at all, yet an aligned, non-null pointer,
    // so the empty slice is valid and dropping it frees nothing.
    let empty = AlignedBuf::zeroed(0)?;
    describe("zeroed(0)", &empty);
    let empty_copy = AlignedBuf::from_slice(&[])?;
    describe("from_slice(&[])", &empty_copy);

    // Memory the allocator hands out again after a free still holds the old
    // values: `zeroed` must really zero it.
    let junk = AlignedBuf::from_slice(&[7.0; 4096])?;
    describe("from_slice(&[7.0; 4096])", &junk);
    drop(junk);
    let mut a = AlignedBuf::zeroed(17)?;
    describe("zeroed(17)", &a);

    // Written through `DerefMut`, read through `Deref`, up to the last float.
    for (i, x) in a.iter_mut().enumerate() {
        *x = i as f32;
    }
    a[16] = 100.0;
    describe("after writing 0..16 and a[16] = 100", &a);
    // A SIMD loop reads 16 floats (64 bytes) at a time from aligned chunks.
    print!("chunks of 16 floats:");
    for chunk in a.chunks(16) {
        print!(
            " {} floats, sum {};",
            chunk.len(),
            chunk.iter().fold(0.0, |sum, x| sum + x)
        );
    }
    println!();

    let b = AlignedBuf::from_slice(&[1.5, 2.5, 3.0])?;
    describe("from_slice(&[1.5, 2.5, 3.0])", &b);
    println!("contents: {:?}", &b[..]);

    // Moving the buffer moves the pointer, not the floats.
    let address = a.as_ptr();
    let moved = a;
    println!(
        "moved: same address {}, last float {}",
        moved.as_ptr() == address,
        moved[moved.len() - 1]
    );

    // Sizes that cannot be laid out, and one the allocator refuses (null).
    show_error("zeroed(usize::MAX)", AlignedBuf::zeroed(usize::MAX));
    show_error("zeroed(LARGEST + 1)", AlignedBuf::zeroed(LARGEST + 1));
    show_error("zeroed(2^40)", AlignedBuf::zeroed(TOO_MUCH));

    // Two buffers or none. When the second fails, the first must already be
    // gone: the check's heap figures see a leak.
    match AlignedBuf::pair(3, 0) {
        Ok((x, y)) => {
            describe("pair(3, 0).0", &x);
            describe("pair(3, 0).1", &y);
        }
        Err(e) => println!("pair(3, 0): unexpected error: {e}"),
    }
    for (first, second) in [
        (8, TOO_MUCH),
        (TOO_MUCH, 8),
        (8, usize::MAX),
        (0, usize::MAX),
    ] {
        match AlignedBuf::pair(first, second) {
            Ok(_) => println!("pair({first}, {second}): unexpected success"),
            Err(e) => println!("pair({first}, {second}): {e}"),
        }
    }

    drop((empty, empty_copy, b, moved));
    println!("all buffers dropped");
    Ok(())
}
