//! Must not compile: a scratch buffer borrows its pool, so it cannot outlive
//! the arena it points into.

use crate::loader::ScratchPool;

fn main() {
    let buffer = {
        let pool = ScratchPool::new(64);
        pool.alloc_f32(4).expect("room for 4 floats")
        // error[E0597]: `pool` does not live long enough
    };
    buffer[0] = 1.0;
}
