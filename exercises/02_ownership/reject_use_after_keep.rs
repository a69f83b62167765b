//! Must not compile: using a lease after `keep`.
//!
//! `keep` takes the lease by value, so the lease is moved into the call and
//! the compiler rejects any later use of it (E0382). If `keep` took
//! `&mut self`, the emptied lease would still be around, and reaching the
//! buffer through it would panic at run time instead.

use crate::ownership::Pool;

fn main() {
    let pool = Pool::new(4);
    let lease = pool.lease();
    let kept = lease.keep();
    println!("{} {}", kept.id(), lease.id());
}
