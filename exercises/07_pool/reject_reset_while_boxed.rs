//! Must not compile: `reset` needs `&mut self`, and a live `PoolBox` holds a
//! shared borrow of its pool, so the pool cannot be reset under it (the next
//! allocation would overwrite the boxed value).

use crate::pool::{MemoryPool, PoolBox};

fn main() {
    let mut pool = MemoryPool::new(64).expect("a pool");
    let boxed = PoolBox::new_in(1_u32, &pool).expect("room for a u32");
    pool.reset(); // error[E0502]: `pool` is also borrowed as immutable
    let other = PoolBox::new_in(2_u32, &pool).expect("room for a u32");
    println!("{} {}", *boxed, *other);
}
