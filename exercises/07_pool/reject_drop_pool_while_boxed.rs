//! Must not compile: the pool cannot be moved away (here: dropped, which
//! frees its memory) while a `PoolBox` still borrows it.

use crate::pool::{MemoryPool, PoolBox};

fn main() {
    let pool = MemoryPool::new(64).expect("a pool");
    let boxed = PoolBox::new_in(1_u32, &pool).expect("room for a u32");
    drop(pool); // error[E0505]: cannot move out of `pool` because it is borrowed
    println!("{}", *boxed);
}
