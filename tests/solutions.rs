//! The reference solutions, compiled into this test crate so that clippy
//! (`--all-targets -D warnings`) checks them, and exercised through their
//! APIs beyond what the drivers print. (The loader's are in gguf_interop.)

#[allow(dead_code)]
#[path = "../solutions/09_kvcache/kvcache.rs"]
mod kvcache;
#[allow(dead_code)]
#[path = "../solutions/03_mapper/mapper.rs"]
mod mapper;
#[allow(dead_code)]
#[path = "../solutions/07_pool/pool.rs"]
mod pool;
#[allow(dead_code)]
#[path = "../solutions/05_tensor/tensor.rs"]
mod tensor;

use std::io::ErrorKind;
use std::sync::Arc;

#[test]
fn mapper_writes_through_to_the_file_and_rejects_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.bin");
    let mut map = mapper::MemoryMapper::create(&path, 4096).unwrap();
    map.as_mut_slice()[4095] = 0xAB;
    let moved = map;
    assert_eq!(moved.size(), 4096);
    drop(moved);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!((bytes.len(), bytes[4095]), (4096, 0xAB));

    let zero = mapper::MemoryMapper::create(dir.path().join("z.bin"), 0);
    assert_eq!(zero.err().map(|e| e.kind()), Some(ErrorKind::InvalidInput));
    let missing = mapper::MemoryMapper::create(dir.path().join("no/such.bin"), 8);
    assert_eq!(missing.err().map(|e| e.kind()), Some(ErrorKind::NotFound));
}

#[test]
fn tensors_are_shared_without_copying() {
    let t = tensor::Tensor::create(&[2, 3]).unwrap();
    assert_eq!(t.sum(), 21.0);
    let data = t.as_ptr();
    let mut manager = tensor::TensorManager::new();
    let index = manager.add(t);
    let shared = manager.get(index).unwrap();
    assert_eq!(shared.as_ptr(), data);
    assert_eq!(Arc::strong_count(&shared), 2);
    assert_eq!(manager.total_memory(), 24);
    assert!(manager.get(5).is_err());
    assert!(tensor::Tensor::create(&[usize::MAX, 2]).is_err());
}

#[test]
fn pool_aligns_real_addresses_and_reports_exhaustion() {
    let mut pool = pool::MemoryPool::new(256).unwrap();
    pool.allocate(3, 1).unwrap();
    for align in [2, 8, 16, 64] {
        let p = pool.allocate(1, align).unwrap();
        assert_eq!(p.as_ptr().addr() % align, 0, "align {align}");
    }
    assert!(pool.allocate(1, 3).is_err(), "not a power of two");
    assert!(
        pool.allocate(usize::MAX, 1).is_err(),
        "overflow is an error"
    );
    assert!(pool.allocate(pool.available() + 1, 1).is_err(), "exhausted");
    {
        let mut boxed = pool::PoolBox::new_in(String::from("pooled"), &pool).unwrap();
        boxed.push('!');
        assert_eq!(&*boxed, "pooled!");
    }
    pool.reset();
    assert_eq!(pool.used(), 0);
}

#[test]
fn kv_cache_is_a_ring_over_fixed_storage() {
    let mut cache = kvcache::KvCache::new(2, 3).unwrap();
    for t in 0..5u8 {
        let k = [f32::from(t); 3];
        assert_eq!(cache.push(&k, &k).unwrap(), usize::from(t));
    }
    assert_eq!(cache.positions(), 3..5);
    assert!(cache.get(2).is_none(), "evicted");
    assert_eq!(cache.get(4).unwrap().0, &[4.0; 3]);
    let firsts: Vec<f32> = cache.iter().map(|(k, _)| k[0]).collect();
    assert_eq!(firsts, [3.0, 4.0]);
    assert!(cache.push(&[1.0; 2], &[1.0; 3]).is_err(), "wrong dim");
    assert!(kvcache::KvCache::new(usize::MAX, 2).is_err(), "overflow");
    cache.clear();
    assert!(cache.is_empty());
}
