//! Must not compile: `MemoryMapper` is not `Clone`. A clone would be a
//! second owner of the same mapping, and both would unmap it when dropped.
//! Expected error: E0599 (no method named `clone` found).

use crate::mapper::MemoryMapper;

fn main() {
    let original = MemoryMapper::create("model.bin", 4096).expect("mapped");
    let copy = original.clone();
    println!("{} and {}", original.size(), copy.size());
}
