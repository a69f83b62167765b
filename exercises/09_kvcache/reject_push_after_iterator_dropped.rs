//! Must not compile: `push` while a slice yielded by `iter` is alive, even
//! though the iterator itself is gone.
//!
//! The slices an `Iter<'a>` yields live for `'a`, the borrow of the cache,
//! not for the iterator's own borrow: so the cache stays borrowed as long as
//! `oldest` is used, and the compiler refuses the push (E0502). If it
//! compiled, the push would overwrite `oldest`'s slot of this full cache.

use crate::kvcache::KvCache;

fn main() {
    let mut cache = KvCache::new(1, 1).unwrap();
    cache.push(&[1.0], &[2.0]).unwrap();
    let (oldest, _) = cache.iter().next().unwrap();
    cache.push(&[3.0], &[4.0]).unwrap();
    println!("{oldest:?}");
}
