//! Must not compile: the slice returned by `as_slice` borrows the mapper, so
//! it cannot outlive it. Once the mapper is dropped the pages are unmapped,
//! and reading them would be a use after unmap.
//! Expected error: E0597 (`mapper` does not live long enough).

use crate::mapper::MemoryMapper;

fn main() {
    let bytes: &[u8];
    {
        let mapper = MemoryMapper::create("model.bin", 4096).expect("mapped");
        bytes = mapper.as_slice();
    } // `mapper` is dropped here: the mapping is gone.
    println!("first byte: {}", bytes[0]);
}
