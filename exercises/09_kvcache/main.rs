//! Driver for the `kvcache` exercise. Do not edit: complete `kvcache.rs`.
//!
//! Apart from the cache itself, nothing here allocates: vectors are stack
//! arrays and `println!` formats straight into stdout. So the check's heap
//! figures count the cache's allocations (and stdout's buffer), nothing else.

use std::error::Error;

use crate::kvcache::{KvCache, KvError};

/// Tokens the cache holds before it starts evicting.
const CAPACITY: usize = 3;
/// Floats per key and per value. With 4, the scale `1 / sqrt(4)` is exactly
/// 0.5, so every score below is exact, however the sum is written.
const DIM: usize = 4;
/// What the driver puts in a score buffer before each call. No score here is
/// negative, so an entry that still holds it was not written.
const UNTOUCHED: f32 = -9.0;

/// Key and value of token `t`. The key's first float is `t`, so it shows
/// which token a slot holds.
fn token(t: usize) -> ([f32; DIM], [f32; DIM]) {
    let t = t as f32;
    let key = [t, 1.0, 0.0, -1.0];
    let value = [10.0 * t, 10.0 * t + 1.0, 10.0 * t + 2.0, 10.0 * t + 3.0];
    (key, value)
}

fn push_token(cache: &mut KvCache, t: usize) -> Result<(), KvError> {
    let (key, value) = token(t);
    let pos = cache.push(&key, &value)?;
    println!(
        "pushed token {t} at position {pos}: holding positions {:?}, len {}",
        cache.positions(),
        cache.len()
    );
    Ok(())
}

fn show(cache: &KvCache, pos: usize) {
    match cache.get(pos) {
        Some((key, value)) => println!("get({pos}): key {key:?}, value {value:?}"),
        None => println!("get({pos}): None"),
    }
}

/// The first float of each key, oldest first: which tokens `iter` yields.
fn show_iter(cache: &KvCache) {
    let iter = cache.iter();
    print!("iter() yields {} tokens, first floats:", iter.len());
    for (key, _) in iter {
        print!(" {}", key[0]);
    }
    println!();
}

/// Fills `out` with `UNTOUCHED`, asks for the scores, and shows the whole
/// buffer: entries past the returned count must still be `UNTOUCHED`.
fn show_scores(cache: &KvCache, query: &[f32], out: &mut [f32]) {
    out.fill(UNTOUCHED);
    let (q, n) = (query.len(), out.len());
    match cache.attention_scores(query, out) {
        Ok(wrote) => {
            println!("scores ({q}-float query, {n}-float buffer): wrote {wrote}, buffer {out:?}")
        }
        Err(e) => println!("scores ({q}-float query, {n}-float buffer): {e}"),
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    // Bad sizes are errors, not panics (and allocate nothing).
    // - `usize::MAX / 2` tokens of 4 floats: the float count overflows.
    // - one token of `usize::MAX` floats: the float count fits, its size in
    //   bytes (4 per float) overflows `usize`.
    // - `too_many_bytes` floats: the byte size fits in `usize` but is over
    //   `isize::MAX`, the most any allocation may hold (also when neither
    //   factor alone is that large).
    let too_many_bytes = isize::MAX as usize / size_of::<f32>() + 1;
    for (capacity, dim) in [
        (0, DIM),
        (CAPACITY, 0),
        (0, 0),
        (usize::MAX / 2, DIM),
        (1, usize::MAX),
        (too_many_bytes, 1),
        (2, too_many_bytes / 2),
    ] {
        match KvCache::new(capacity, dim) {
            Ok(_) => println!("unexpected: KvCache::new({capacity}, {dim}) succeeded"),
            Err(e) => println!("KvCache::new({capacity}, {dim}): {e}"),
        }
    }

    // The cache's storage is allocated here, once, for good.
    let mut cache = KvCache::new(CAPACITY, DIM)?;
    println!(
        "created KV cache: {} tokens x {} floats, len {}, empty {}, positions {:?}",
        cache.capacity(),
        cache.dim(),
        cache.len(),
        cache.is_empty(),
        cache.positions()
    );

    // Scores go into a buffer the caller owns, so computing them allocates
    // nothing. It may be longer than needed: only the first `len()` entries
    // are written.
    let query = [1.0, 2.0, 0.0, 0.0];
    let mut buffer = [UNTOUCHED; CAPACITY + 2];

    // An empty cache holds nothing, whatever is asked.
    show(&cache, 0);
    show(&cache, usize::MAX);
    show_iter(&cache);
    show_scores(&cache, &query, &mut buffer);
    show_scores(&cache, &query, &mut []);
    show_scores(&cache, &query[..2], &mut buffer);

    // Below capacity, each token takes the next free slot, and the cache
    // holds (and scores) only the tokens pushed so far.
    for t in 0..2 {
        push_token(&mut cache, t)?;
    }
    show(&cache, 1); // just pushed
    show(&cache, 2); // not pushed yet: the next push gets it
    show_iter(&cache);
    show_scores(&cache, &query, &mut buffer[..2]); // exactly len() floats
    show_scores(&cache, &query, &mut buffer); // longer than needed
    show_scores(&cache, &query, &mut buffer[..1]); // too short
    show_scores(&cache, &query, &mut []);

    // Fill the cache, then wrap around: each further push evicts the oldest.
    for t in 2..5 {
        push_token(&mut cache, t)?;
    }
    show(&cache, 0); // evicted: its slot now holds token 3
    show(&cache, 1); // just evicted: its slot now holds token 4
    show(&cache, 2); // the oldest still held
    show(&cache, 4); // just pushed
    show(&cache, 5); // not pushed yet: its slot holds token 2
    show(&cache, usize::MAX);

    // Wrong lengths are rejected before anything is written: the next slot
    // (position 5's, holding position 2) is left as it was.
    let (key, value) = token(5);
    if let Err(e) = cache.push(&key[..3], &value) {
        println!("push with a 3-float key: {e}");
    }
    if let Err(e) = cache.push(&key, &[0.0; DIM + 1]) {
        println!("push with a 5-float value: {e}");
    }
    if let Err(e) = cache.push(&[], &[]) {
        println!("push with empty vectors: {e}");
    }
    println!("still holding positions {:?}", cache.positions());
    show(&cache, 2);

    // Oldest to newest, as slices borrowed from the cache: nothing is copied.
    print!("first float of each key, oldest first:");
    for (key, _) in cache.iter() {
        // cache.clear(); // does not compile: the iterator borrows `cache`
        print!(" {}", key[0]);
    }
    println!();
    println!("iter() yields {} tokens", cache.iter().len());
    if let Some((newest, _)) = cache.get(4) {
        // cache.push(&key, &value)?; // does not compile: `newest` borrows `cache`
        println!("newest key, borrowed from the cache: {newest:?}");
    }

    show_scores(&cache, &query, &mut buffer[..CAPACITY]);
    show_scores(&cache, &query, &mut buffer);
    show_scores(&cache, &query, &mut buffer[..CAPACITY - 1]);
    show_scores(&cache, &query[..2], &mut buffer);
    show_scores(&cache, &[1.0; DIM + 1], &mut buffer);

    // Clearing keeps the memory; positions start again from 0, and the old
    // tokens still in the slots are never shown again.
    cache.clear();
    println!(
        "cleared: len {}, empty {}, positions {:?}, capacity {}",
        cache.len(),
        cache.is_empty(),
        cache.positions(),
        cache.capacity()
    );
    show(&cache, 0); // its slot still holds token 3
    show(&cache, 4);
    show_iter(&cache);
    for t in [100, 101] {
        push_token(&mut cache, t)?;
    }
    show(&cache, 0);
    show(&cache, 2); // its slot still holds token 2
    show_iter(&cache);
    show_scores(&cache, &query, &mut buffer);
    println!("end of main");
    Ok(())
} // `cache` is dropped here, after the last line above
