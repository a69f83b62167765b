//! Must not compile: cloning an `AlignedBuf`.
//!
//! The buffer owns its allocation alone. A `Clone` that copied the pointer
//! would give two buffers the same memory, and both `Drop`s would free it:
//! a double free. `AlignedBuf` has no `clone` method, so this is E0599.

use crate::aligned::AlignedBuf;

fn main() {
    let buf = AlignedBuf::zeroed(4).unwrap();
    let copy = buf.clone();
    println!("{} {}", buf.len(), copy.len());
}
