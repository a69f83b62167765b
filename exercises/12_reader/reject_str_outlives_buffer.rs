//! Must not compile: a string read from a buffer, used after the buffer is
//! freed.
//!
//! `Reader<'a>` borrows the input and `string` returns `&'a str` into it, so
//! the compiler rejects this (E0597). A C reader handing out `const char *`
//! into its buffer has no such check: the pointer dangles after `free`.

use crate::reader::Reader;

fn main() {
    let name;
    {
        let mut buffer = 5u64.to_le_bytes().to_vec();
        buffer.extend_from_slice(b"llama");
        let mut reader = Reader::new(&buffer);
        name = reader.string().expect("a 5-byte string");
    } // `buffer` is freed here
    println!("{name}");
}
