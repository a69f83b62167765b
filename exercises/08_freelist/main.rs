//! Driver for the `freelist` exercise. Do not edit: complete `freelist.rs`.
//!
//! It plays the part of ggml-alloc planning a graph: tensors are allocated
//! and freed in an order that fragments the arena, and the printed free
//! lists show which block each request got and how freed blocks merge.

use std::error::Error;

use crate::freelist::{Allocation, FreeList};

/// The arena: 256 bytes, every block aligned to 16.
const CAPACITY: usize = 256;
const ALIGN: usize = 16;

fn show(list: &FreeList, what: &str) {
    print!("{what}: free blocks [");
    for (i, block) in list.free_blocks().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        print!("{sep}{block:?}");
    }
    println!(
        "], {} bytes free, largest {}",
        list.free_bytes(),
        list.largest_free()
    );
}

/// Allocates `size` bytes, fills them with `tag`, and prints where they went.
/// A refused request prints its error, and the driver carries on without it.
fn take(list: &mut FreeList, name: &str, size: usize, tag: u8) -> Option<Allocation> {
    match list.alloc(size) {
        Ok(a) => {
            let fresh = list.bytes(&a).iter().all(|&b| b == 0);
            list.bytes_mut(&a).fill(tag);
            println!(
                "{name} = alloc({size}): offset {}, {} bytes, zeroed {fresh}",
                a.offset(),
                a.size()
            );
            Some(a)
        }
        Err(e) => {
            println!("{name} = alloc({size}): unexpected error: {e}");
            None
        }
    }
}

/// Frees a block that was allocated (and skips one that was refused).
fn give_back(list: &mut FreeList, a: Option<Allocation>) {
    if let Some(a) = a {
        list.free(a);
    }
}

fn try_alloc(list: &mut FreeList, size: usize) {
    match list.alloc(size) {
        Ok(a) => {
            println!("alloc({size}): unexpected success at {:?}", a.range());
            list.free(a);
        }
        Err(e) => println!("alloc({size}): {e}"),
    }
}

/// The block still holds its own tag in every byte: no other block overlaps.
fn check(list: &FreeList, name: &str, a: &Option<Allocation>, tag: u8) {
    let Some(a) = a else {
        println!("{name}: was never allocated");
        return;
    };
    let bytes = list.bytes(a);
    println!(
        "{name} {:?} intact: {}",
        a.range(),
        bytes.iter().all(|&b| b == tag)
    );
}

fn main() -> Result<(), Box<dyn Error>> {
    // Arenas that cannot be laid out, and an empty one.
    for (capacity, align) in [(CAPACITY, 0), (192, 24), (250, ALIGN), (CAPACITY, 512)] {
        match FreeList::new(capacity, align) {
            Ok(_) => println!("new({capacity}, {align}): unexpected success"),
            Err(e) => println!("new({capacity}, {align}): {e}"),
        }
    }
    let mut empty = FreeList::new(0, ALIGN)?;
    show(&empty, "new(0, 16)");
    try_alloc(&mut empty, 1);

    let mut list = FreeList::new(CAPACITY, 8)?;
    let first = take(&mut list, "x", 1, 0xEE);
    show(&list, "align 8, after alloc(1)");
    give_back(&mut list, first);
    drop(list);

    let mut list = FreeList::new(CAPACITY, ALIGN)?;
    println!("new({CAPACITY}, {ALIGN}): capacity {}", list.capacity());
    show(&list, "start");

    // Requests that can never succeed, up to `usize::MAX`.
    for size in [0, CAPACITY + 1, usize::MAX - 15, usize::MAX] {
        try_alloc(&mut list, size);
    }

    // The whole arena, to the last byte, and back.
    let whole = take(&mut list, "whole", CAPACITY, 0x11);
    show(&list, "after alloc(256)");
    try_alloc(&mut list, 1);
    give_back(&mut list, whole);
    show(&list, "after free(whole)");

    // Five tensors fill the arena. Sizes round up to multiples of 16.
    let a = take(&mut list, "a", 1, 0xA1);
    let b = take(&mut list, "b", 64, 0xB2);
    let c = take(&mut list, "c", 9, 0xC3);
    let d = take(&mut list, "d", 48, 0xD4);
    let e = take(&mut list, "e", 112, 0xE5);
    show(&list, "full");
    try_alloc(&mut list, 1);

    // Two holes, 112 bytes free, but no 112-byte block: fragmentation.
    give_back(&mut list, b);
    show(&list, "after free(b)");
    give_back(&mut list, d);
    show(&list, "after free(d)");
    try_alloc(&mut list, 100);

    // Best fit: 33 bytes (48 rounded) take the 48-byte hole at 96, not the
    // first hole that is large enough (64 bytes at 16).
    let g = take(&mut list, "g", 33, 0x97);
    show(&list, "after alloc(33)");
    give_back(&mut list, g);
    show(&list, "after free(g)");

    // `c` sits between the two holes: freeing it merges all three.
    give_back(&mut list, c);
    show(&list, "after free(c)");
    let h = take(&mut list, "h", 100, 0x88);
    show(&list, "after alloc(100)");

    // Freeing the last block of the arena merges it with the hole before it.
    check(&list, "a", &a, 0xA1);
    check(&list, "e", &e, 0xE5);
    check(&list, "h", &h, 0x88);
    give_back(&mut list, e);
    show(&list, "after free(e)");
    // The first block: there is no free block before it to merge with.
    give_back(&mut list, a);
    show(&list, "after free(a)");
    // The middle one joins everything back into the whole arena.
    give_back(&mut list, h);
    show(&list, "after free(h)");
    let whole = take(&mut list, "whole", CAPACITY, 0x22);
    give_back(&mut list, whole);
    show(&list, "end");
    Ok(())
}
