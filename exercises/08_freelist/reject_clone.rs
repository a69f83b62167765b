//! Must not compile: cloning a handle.
//!
//! A clone would outlive the `free` of the original, and could be freed or
//! read again later: the double free and use after free that moving the
//! handle prevents. `Allocation` has no `clone` method (E0599).

use crate::freelist::FreeList;

fn main() {
    let mut list = FreeList::new(64, 16).unwrap();
    let a = list.alloc(16).unwrap();
    let copy = a.clone();
    list.free(a);
    list.free(copy);
}
