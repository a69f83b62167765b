//! Driver for the `kvcache` exercise. Do not edit: complete `kvcache.rs`.
//!
//! Apart from the cache itself, nothing here allocates: vectors are stack
//! arrays and `println!` formats straight into stdout. So the check's heap
//! figures count the cache's allocations (and stdout's buffer), nothing else.

use std::error::Error;

use crate::kvcache::{KvCache, KvError};

/// Tokens the cache holds before it starts evicting.
const CAPACITY: usize = 3;
/// Floats per key and per value.
const DIM: usize = 4;

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

fn main() -> Result<(), Box<dyn Error>> {
    // Bad sizes are errors, not panics (and allocate nothing). The last one
    // fits as a count of floats but not as a count of bytes.
    let too_many_bytes = isize::MAX as usize / size_of::<f32>() + 1;
    for (capacity, dim) in [
        (0, DIM),
        (CAPACITY, 0),
        (usize::MAX / 2, DIM),
        (too_many_bytes, 1),
    ] {
        match KvCache::new(capacity, dim) {
            Ok(_) => println!("unexpected: KvCache::new({capacity}, {dim}) succeeded"),
            Err(e) => println!("KvCache::new({capacity}, {dim}): {e}"),
        }
    }

    // The cache's storage is allocated here, once, for good.
    let mut cache = KvCache::new(CAPACITY, DIM)?;
    println!(
        "created KV cache: {} tokens x {} floats, len {}, empty {}",
        cache.capacity(),
        cache.dim(),
        cache.len(),
        cache.is_empty()
    );

    // Below capacity, each token takes the next free slot.
    for t in 0..2 {
        push_token(&mut cache, t)?;
    }
    show(&cache, 1);
    show(&cache, 2); // not pushed yet

    // Fill the cache, then wrap around: each further push evicts the oldest.
    for t in 2..5 {
        push_token(&mut cache, t)?;
    }
    show(&cache, 0); // evicted: its slot now holds token 3
    show(&cache, 1); // evicted: its slot now holds token 4
    show(&cache, 4);

    // Wrong lengths are rejected before anything is written.
    let (key, value) = token(5);
    if let Err(e) = cache.push(&key[..3], &value) {
        println!("push with a 3-float key: {e}");
    }
    if let Err(e) = cache.push(&key, &[0.0; DIM + 1]) {
        println!("push with a 5-float value: {e}");
    }
    println!("still holding positions {:?}", cache.positions());

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

    // Scores go into a buffer the caller owns, so computing them allocates
    // nothing.
    let query = [1.0, 2.0, 0.0, 0.0];
    let mut scores = [0.0; CAPACITY];
    let n = cache.attention_scores(&query, &mut scores)?;
    println!("attention scores, oldest first: {:?}", &scores[..n]);
    let mut too_small = [0.0; CAPACITY - 1];
    if let Err(e) = cache.attention_scores(&query, &mut too_small) {
        println!("attention scores into {} floats: {e}", too_small.len());
    }
    if let Err(e) = cache.attention_scores(&query[..2], &mut scores) {
        println!("attention scores for a 2-float query: {e}");
    }

    // Clearing keeps the memory; positions start again from 0.
    cache.clear();
    println!(
        "cleared: len {}, empty {}, positions {:?}, capacity {}",
        cache.len(),
        cache.is_empty(),
        cache.positions(),
        cache.capacity()
    );
    show(&cache, 4);
    push_token(&mut cache, 100)?;
    show(&cache, 0);
    println!("end of main");
    Ok(())
} // `cache` is dropped here, after the last line above
