//! Must not compile: a worker closure that is not `Sync`.
//!
//! Every worker calls the same closure through a shared reference, and `&F`
//! can cross threads only if `F: Sync`. This one counts calls in a `Cell`,
//! which is not `Sync`: two threads doing `set(get() + 1)` at once would
//! race (E0277). C++ would compile the same code with a plain `int` counter
//! and race silently.

use std::cell::Cell;

use crate::threads::par_chunks;

fn main() {
    let data = [1.0f32; 8];
    let calls = Cell::new(0);
    let sums = par_chunks(&data, 2, |_, chunk| {
        calls.set(calls.get() + 1);
        chunk.iter().sum::<f32>()
    });
    println!("{:?} after {} calls", sums.is_ok(), calls.get());
}
