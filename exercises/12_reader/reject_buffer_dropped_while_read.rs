//! Must not compile: dropping the input while a value read from it lives.
//!
//! The `Value` holds a `&str` into `buffer`, so moving `buffer` into `drop`
//! is refused (E0505) until the value is no longer used.

use crate::reader::Reader;

fn main() {
    let mut buffer = 8u32.to_le_bytes().to_vec(); // TYPE_STRING
    buffer.extend_from_slice(&5u64.to_le_bytes());
    buffer.extend_from_slice(b"llama");
    let value = Reader::new(&buffer).value().expect("a string value");
    drop(buffer);
    println!("{value:?}");
}
