//! Must not compile: cloning a pooled `Buffer`.
//!
//! A buffer is in exactly one place at a time: free in its pool, leased, or
//! kept. `Buffer` does not implement `Clone`, so the compiler rejects the
//! copy (E0599: no method named `clone`). With a `Clone`, the same id could
//! be leased and kept at once.

use crate::ownership::Pool;

fn main() {
    let pool = Pool::new(4);
    let kept = pool.lease().keep();
    let copy = kept.clone();
    println!("{} {}", kept.id(), copy.id());
}
