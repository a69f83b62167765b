//! Must not compile: `push` while a view returned by `get` is alive.
//!
//! `get` returns slices that borrow the cache, and `push` needs `&mut self`,
//! so the compiler refuses the push (E0502). If it compiled, the push would
//! overwrite the slot that `key` is still reading: position 0 is the oldest
//! token of a full one-token cache, so its slot is the next one written.

use crate::kvcache::KvCache;

fn main() {
    let mut cache = KvCache::new(1, 2).unwrap();
    cache.push(&[1.0, 2.0], &[3.0, 4.0]).unwrap();
    let (key, _) = cache.get(0).unwrap();
    cache.push(&[5.0, 6.0], &[7.0, 8.0]).unwrap();
    println!("{key:?}");
}
