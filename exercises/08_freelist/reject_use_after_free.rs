//! Must not compile: reading a block through its handle after `free`.
//!
//! `free` takes the `Allocation` by value, so `a` has moved and the compiler
//! refuses the later use (E0382). If it compiled, `bytes(&a)` would read
//! bytes that now belong to `b`, the block that reused them.

use crate::freelist::FreeList;

fn main() {
    let mut list = FreeList::new(64, 16).unwrap();
    let a = list.alloc(16).unwrap();
    list.free(a);
    let b = list.alloc(16).unwrap();
    list.bytes_mut(&b).fill(7);
    println!("{:?}", list.bytes(&a));
}
