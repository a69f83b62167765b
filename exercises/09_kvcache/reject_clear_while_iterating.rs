//! Must not compile: `clear` while an iterator from `iter` is alive.
//!
//! `Iter<'_>` borrows the cache for as long as it lives, and `clear` needs
//! `&mut self`, so the compiler refuses the call inside the loop (E0502).

use crate::kvcache::KvCache;

fn main() {
    let mut cache = KvCache::new(2, 1).unwrap();
    cache.push(&[1.0], &[2.0]).unwrap();
    cache.push(&[3.0], &[4.0]).unwrap();
    for (key, _) in cache.iter() {
        cache.clear();
        println!("{key:?}");
    }
}
