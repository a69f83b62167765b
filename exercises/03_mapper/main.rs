//! Driver for the `mapper` exercise. Do not edit: complete `mapper.rs`.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use crate::mapper::MemoryMapper;

const SIZE: usize = 1024 * 1024;

/// Size of a "small" mapping of a larger file: less than one page, and not
/// a multiple of anything in particular.
const SMALL: usize = 1000;

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// 64-bit FNV-1a: a simple, deterministic checksum, fed byte by byte.
fn fnv(hash: u64, bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(hash, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn checksum(bytes: &[u8]) -> u64 {
    fnv(FNV_START, bytes.iter().copied())
}

/// The byte the driver writes at offset `i` of model.bin.
fn pattern(i: usize) -> u8 {
    (i % 251) as u8
}

/// Checksum of `len` bytes of the file at `path` from `offset`, read through
/// a small stack buffer: the driver itself never copies the file to the heap.
fn file_checksum(path: &str, offset: u64, len: u64) -> io::Result<u64> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut part = file.take(len);
    let mut buf = [0u8; 4096];
    let mut hash = FNV_START;
    loop {
        let n = part.read(&mut buf)?;
        if n == 0 {
            return Ok(hash);
        }
        hash = fnv(hash, buf[..n].iter().copied());
    }
}

fn file_len(path: &str) -> io::Result<u64> {
    Ok(fs::metadata(path)?.len())
}

/// Writes `value` at `offset` through the mapping. A mapping too short for
/// that shows up in the lines printed next, rather than as a panic here.
fn poke(mapper: &mut MemoryMapper, offset: usize, value: u8) {
    if let Some(byte) = mapper.as_mut_slice().get_mut(offset) {
        *byte = value;
    }
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
    println!("-- a new file");
    let mut mapper = MemoryMapper::create("model.bin", SIZE)?;
    println!("mapped {} bytes of model.bin", mapper.size());
    println!("model.bin created with {} bytes", file_len("model.bin")?);
    println!(
        "the new bytes read as zeros: {}",
        mapper.as_slice().iter().all(|&b| b == 0)
    );

    // Write a recognisable pattern through the mapping.
    for (i, byte) in mapper.as_mut_slice().iter_mut().enumerate() {
        *byte = pattern(i);
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
    let on_disk = file_checksum("model.bin", 0, u64::MAX)?;
    println!("file length: {} bytes", file_len("model.bin")?);
    println!("checksum on disk:   {on_disk:016x}");
    println!("bytes reached the file: {}", on_disk == in_memory);

    println!("-- a larger size grows the file and keeps its data");
    {
        let mut bigger = MemoryMapper::create("model.bin", 2 * SIZE)?;
        println!("remapped with {} bytes", bigger.size());
        println!(
            "first half unchanged: {}",
            bigger.as_slice().get(..SIZE).map(checksum) == Some(in_memory)
        );
        println!(
            "second half is new zeros: {}",
            bigger.as_slice().iter().skip(SIZE).all(|&b| b == 0)
        );
        // Mark the second half, so that we can tell later that it survived.
        if let Some(second_half) = bigger.as_mut_slice().get_mut(SIZE..) {
            second_half.fill(0xa5);
        }
    }
    println!("file length now: {} bytes", file_len("model.bin")?);

    println!("-- a smaller size maps only the first bytes and keeps the rest of the file");
    let tail = fnv(FNV_START, std::iter::repeat_n(0xa5, SIZE));
    {
        let mut small = MemoryMapper::create("model.bin", SMALL)?;
        println!(
            "remapped with {SMALL} bytes: size() {}, as_slice().len() {}, as_mut_slice().len() {}",
            small.size(),
            small.as_slice().len(),
            small.as_mut_slice().len()
        );
        println!(
            "they hold the file's first {SMALL} bytes: {}",
            small.as_slice().iter().copied().eq((0..SMALL).map(pattern))
        );
        small.as_mut_slice().fill(b'#');
    }
    println!("file length now: {} bytes", file_len("model.bin")?);
    println!(
        "first {SMALL} bytes now hold the '#'s written through the small mapping: {}",
        file_checksum("model.bin", 0, SMALL as u64)? == fnv(FNV_START, [b'#'; SMALL])
    );
    println!(
        "the rest of the first half is unchanged: {}",
        file_checksum("model.bin", SMALL as u64, (SIZE - SMALL) as u64)?
            == fnv(FNV_START, (SMALL..SIZE).map(pattern))
    );
    println!(
        "the second half is unchanged: {}",
        file_checksum("model.bin", SIZE as u64, u64::MAX)? == tail
    );
    let model = file_checksum("model.bin", 0, u64::MAX)?;

    println!("-- two mappings of one file share its pages");
    {
        let mut writer = MemoryMapper::create("shared.bin", 8192)?;
        // Mapping fewer bytes of a file that is already mapped must not
        // shrink it under the first mapping.
        let reader = MemoryMapper::create("shared.bin", 4096)?;
        poke(&mut writer, 100, 42);
        println!(
            "a byte written through one mapping is seen through the other: {}",
            reader.as_slice().get(100) == Some(&42)
        );
        poke(&mut writer, 8191, 7);
        println!("end of scope: locals are dropped in reverse order, the reader first");
    }
    println!("shared.bin length: {} bytes", file_len("shared.bin")?);

    println!("-- sizes that are not whole pages");
    let tiny = MemoryMapper::create("tiny.bin", 1)?;
    let odd = MemoryMapper::create("odd.bin", 4097)?;
    println!(
        "tiny.bin maps {} byte, odd.bin maps {} bytes",
        tiny.size(),
        odd.size()
    );
    // Moving the mappers into a Vec moves them again; a Vec drops its
    // elements in index order.
    let mut both = vec![tiny, odd];
    poke(&mut both[0], 0, b'!');
    poke(&mut both[1], 4096, b'?');
    println!("dropping the Vec drops tiny.bin, then odd.bin");
    drop(both);
    println!(
        "tiny.bin: {} byte, the byte written: {}",
        file_len("tiny.bin")?,
        file_checksum("tiny.bin", 0, 1)? == fnv(FNV_START, [b'!'])
    );
    println!(
        "odd.bin: {} bytes, last byte written: {}",
        file_len("odd.bin")?,
        file_checksum("odd.bin", 4096, 1)? == fnv(FNV_START, [b'?'])
    );

    // Moving out of a Box frees the box, not the mapping inside it.
    let boxed = Box::new(MemoryMapper::create("boxed.bin", 4096)?);
    let unboxed = *boxed;
    println!(
        "moved out of a Box: {} still mapped ({} bytes)",
        unboxed.path().display(),
        unboxed.size()
    );
    drop(unboxed);

    println!("-- failures are io::Error values, not panics");
    match MemoryMapper::create("no_such_dir/model.bin", SIZE) {
        Ok(_) => println!("unexpected: mapped a file in a missing directory"),
        Err(e) => println!("no_such_dir/model.bin: error kind {:?}", e.kind()),
    }
    match MemoryMapper::create("empty.bin", 0) {
        Ok(_) => println!("unexpected: mapped 0 bytes"),
        Err(e) => println!("empty.bin: error kind {:?}: {e}", e.kind()),
    }
    println!(
        "empty.bin was left on disk: {}",
        Path::new("empty.bin").exists()
    );
    match MemoryMapper::create("model.bin", 0) {
        Ok(_) => println!("unexpected: mapped 0 bytes of model.bin"),
        Err(e) => println!("model.bin with 0 bytes: error kind {:?}", e.kind()),
    }
    match MemoryMapper::create("model.bin", usize::MAX) {
        Ok(m) => println!("unexpected: mapped {} bytes of model.bin", m.size()),
        Err(_) => println!("model.bin with usize::MAX bytes: an error, not a panic"),
    }
    println!(
        "model.bin survived both failed calls: {}",
        file_len("model.bin")? == 2 * SIZE as u64
            && file_checksum("model.bin", 0, u64::MAX)? == model
    );
    Ok(())
}
