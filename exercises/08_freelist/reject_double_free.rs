//! Must not compile: freeing the same block twice.
//!
//! The first `free` consumes the handle, so the second is a use of a moved
//! value (E0382). If it compiled, the free list would hold the block twice,
//! and two later requests would get the same bytes.

use crate::freelist::FreeList;

fn main() {
    let mut list = FreeList::new(64, 16).unwrap();
    let a = list.alloc(16).unwrap();
    list.free(a);
    list.free(a);
}
