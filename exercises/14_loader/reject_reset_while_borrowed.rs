//! Must not compile: `reset` takes `&mut self`, so the pool cannot be reset
//! (and the same bytes handed out again) while a scratch buffer lives.

use crate::loader::ScratchPool;

fn main() {
    let mut pool = ScratchPool::new(64);
    let buffer = pool.alloc_f32(4).expect("room for 4 floats");
    pool.reset(); // error[E0502]: cannot borrow `pool` as mutable because it is also borrowed as immutable
    buffer[0] = 1.0;
}
