//! Must not compile: a result that cannot move between threads.
//!
//! Each worker's result is moved back to the calling thread, so it must be
//! `Send`. An `Rc` is not: its reference count is not atomic, and clones
//! of it in two threads could corrupt it (E0277).

use std::rc::Rc;

use crate::threads::par_chunks;

fn main() {
    let data = [1.0f32; 8];
    let lens = par_chunks(&data, 2, |_, chunk| Rc::new(chunk.len()));
    println!("{}", lens.map(|v| v.len()).unwrap_or(0));
}
