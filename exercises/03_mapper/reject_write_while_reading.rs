//! Must not compile: `as_mut_slice` needs `&mut self`, so no writable slice
//! can exist while a read-only slice of the same mapping is alive (and no
//! two writable ones either).
//! Expected error: E0502 (cannot borrow `mapper` as mutable because it is
//! also borrowed as immutable).

use crate::mapper::MemoryMapper;

fn main() {
    let mut mapper = MemoryMapper::create("model.bin", 4096).expect("mapped");
    let before = mapper.as_slice();
    mapper.as_mut_slice()[0] = 1;
    println!("first byte: {}", before[0]);
}
