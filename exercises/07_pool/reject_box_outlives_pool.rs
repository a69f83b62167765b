//! Must not compile: a `PoolBox` borrows its pool for `'pool`, so it cannot
//! outlive the pool whose memory it lives in.

use crate::pool::{MemoryPool, PoolBox};

fn main() {
    let boxed;
    {
        let pool = MemoryPool::new(64).expect("a pool");
        boxed = PoolBox::new_in(1_u32, &pool).expect("room for a u32");
    } // error[E0597]: `pool` does not live long enough
    println!("{}", *boxed);
}
