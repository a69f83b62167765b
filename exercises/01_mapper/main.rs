//! Driver for the `mapper` exercise. Do not edit: complete `mapper.rs`.

use std::fs;
use std::io;

use crate::mapper::MemoryMapper;

const SIZE: usize = 1024 * 1024;

/// 64-bit FNV-1a: a simple, deterministic checksum.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Takes the mapper by value: it is dropped (and unmapped) when this
/// function returns.
fn consume(mapper: MemoryMapper) {
    println!(
        "consume() now owns {} ({} bytes)",
        mapper.path().display(),
        mapper.size()
    );
}

fn main() -> io::Result<()> {
    let mut mapper = MemoryMapper::create("model.bin", SIZE)?;
    println!("mapped {} bytes of model.bin", mapper.size());

    // Write a recognisable pattern through the mapping.
    for (i, byte) in mapper.as_mut_slice().iter_mut().enumerate() {
        *byte = (i % 251) as u8;
    }
    let in_memory = checksum(mapper.as_slice());
    println!("checksum in memory: {in_memory:016x}");

    // A move transfers ownership; nothing is unmapped here.
    let moved = mapper;
    println!("moved to a new binding: {} bytes", moved.size());
    // A second move, into a function; the mapper is dropped inside it.
    consume(moved);
    println!("back in main");

    // The mapping is gone; read the file back the ordinary way.
    let on_disk = fs::read("model.bin")?;
    println!("file length: {} bytes", on_disk.len());
    println!("checksum on disk:   {:016x}", checksum(&on_disk));
    println!(
        "bytes reached the file: {}",
        checksum(&on_disk) == in_memory
    );

    // Mapping an existing file with a larger size extends it, keeping its data.
    {
        let bigger = MemoryMapper::create("model.bin", 2 * SIZE)?;
        println!("remapped with {} bytes", bigger.size());
        println!(
            "first half unchanged: {}",
            checksum(&bigger.as_slice()[..SIZE]) == in_memory
        );
    }
    println!(
        "file length now: {} bytes",
        fs::metadata("model.bin")?.len()
    );

    // Failures are ordinary `io::Error` values, not panics.
    match MemoryMapper::create("no_such_dir/model.bin", SIZE) {
        Ok(_) => println!("unexpected: mapped a file in a missing directory"),
        Err(e) => println!("no_such_dir/model.bin: error kind {:?}", e.kind()),
    }
    match MemoryMapper::create("empty.bin", 0) {
        Ok(_) => println!("unexpected: mapped 0 bytes"),
        Err(e) => println!("empty.bin: error kind {:?}: {e}", e.kind()),
    }
    Ok(())
}
