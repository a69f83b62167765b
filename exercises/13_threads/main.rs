//! Driver for the `threads` exercise. Do not edit: complete `threads.rs`.
//!
//! It writes a model file of 250 003 floats (about 1 MB), maps it, and reads
//! it from many threads at once. Each worker reports where its chunk lies
//! in the mapping, so a copy cannot pass for a view, and the workers of
//! each run finish in reverse order (the first chunk sleeps longest), so
//! results collected as threads finish come out in the wrong order.

use std::error::Error;
use std::fs::{self, File};
use std::io::Write;
use std::ops::Range;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::threads::{Model, chunk_ranges, par_chunks, spawn_sum};

const MODEL: &str = "model.bin";
/// Floats in the model: not a multiple of 2, 3, 4 or 7.
const N: usize = 250_003;

/// Float `i` of the model. Small integers, so every sum below is exact.
fn value(i: usize) -> f32 {
    (i % 7) as f32
}

/// FNV-1a over the floats' bits: any change of order or content shows.
fn checksum(data: &[f32]) -> u32 {
    data.iter().fold(0x811c_9dc5, |h: u32, x| {
        (h ^ x.to_bits()).wrapping_mul(0x0100_0193)
    })
}

/// Writes the model through a small stack buffer: the heap never holds it.
fn write_model(path: &str, n: usize) -> std::io::Result<()> {
    let mut file = File::create(path)?;
    let mut buf = [0u8; 4096];
    let mut i = 0;
    while i < n {
        let count = (n - i).min(buf.len() / 4);
        for (k, chunk) in buf.chunks_exact_mut(4).take(count).enumerate() {
            chunk.copy_from_slice(&value(i + k).to_le_bytes());
        }
        file.write_all(&buf[..4 * count])?;
        i += count;
    }
    Ok(())
}

/// Whether the kernel still maps a file named `name` into this process.
fn is_mapped(name: &str) -> bool {
    let maps = fs::read_to_string("/proc/self/maps").unwrap_or_default();
    maps.lines().any(|line| line.ends_with(&format!("/{name}")))
}

fn show_ranges(len: usize, threads: usize) {
    match chunk_ranges(len, threads) {
        Ok(ranges) => println!("chunk_ranges({len}, {threads}): {ranges:?}"),
        Err(e) => println!("chunk_ranges({len}, {threads}): {e}"),
    }
}

/// What one worker saw: where its chunk starts in `floats` (if it is a
/// view into them), how long it is, its sum and checksum.
struct Seen {
    index: usize,
    start: Option<usize>,
    len: usize,
    sum: f32,
    checksum: u32,
}

/// Runs `par_chunks` over `floats` with `threads` threads and shows what
/// each worker saw, in the order the results come back.
fn show_par(name: &str, floats: &[f32], threads: usize) {
    // Addresses as numbers: raw pointers are neither `Send` nor `Sync`.
    let base = floats.as_ptr().addr();
    let end = base + size_of_val(floats);
    let result = par_chunks(floats, threads, |index, chunk: &[f32]| {
        // Later chunks finish first: chunk 0 sleeps the longest.
        thread::sleep(Duration::from_millis(15 * (threads - index) as u64));
        let at = chunk.as_ptr().addr();
        let start = (base..end)
            .contains(&at)
            .then(|| (at - base) / size_of::<f32>());
        Seen {
            index,
            start,
            len: chunk.len(),
            sum: chunk.iter().sum(),
            checksum: checksum(chunk),
        }
    });
    match result {
        Ok(seen) => {
            println!("par_chunks({name}, {threads}): {} results", seen.len());
            let mut covered = 0;
            for s in &seen {
                match s.start {
                    Some(start) => print!("  chunk {}: floats {start}..{}", s.index, start + s.len),
                    None => print!(
                        "  chunk {}: {} floats NOT in the mapping (a copy)",
                        s.index, s.len
                    ),
                }
                println!(", sum {}, checksum {:#010x}", s.sum, s.checksum);
                covered += s.len;
            }
            let sum: f32 = seen.iter().map(|s| s.sum).sum();
            println!(
                "  covered {covered} of {} floats, total sum {sum}",
                floats.len()
            );
        }
        Err(e) => println!("par_chunks({name}, {threads}): {e}"),
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    write_model(MODEL, N)?;
    write_model("ragged.bin", 2)?;
    fs::OpenOptions::new()
        .append(true)
        .open("ragged.bin")?
        .write_all(&[1, 2])?;
    File::create("empty.bin")?;

    // --- splitting the work -------------------------------------------------
    for (len, threads) in [
        (10, 1),
        (10, 2),
        (10, 3),
        (10, 4),
        (10, 6),
        (10, 10),
        (7, 7),
        (1, 1),
        (10, 0),
        (10, 11),
        (0, 1),
        (0, 0),
        (usize::MAX, 2),
        (usize::MAX, 3),
        (usize::MAX, 5),
    ] {
        show_ranges(len, threads);
    }

    // --- mapping ------------------------------------------------------------
    match Model::open("missing.bin") {
        Ok(_) => println!("unexpected: missing.bin opened"),
        Err(e) => println!("open missing.bin: {e}"),
    }
    for name in ["ragged.bin", "empty.bin"] {
        let model = Model::open(name)?;
        match model.floats() {
            Ok(floats) => println!(
                "{name}: {} bytes, {} floats",
                model.as_bytes().len(),
                floats.len()
            ),
            Err(e) => println!("{name}: {} bytes, {e}", model.as_bytes().len()),
        }
        if name == "empty.bin" {
            show_par(name, model.floats()?, 1);
        }
    }
    let model = Model::open(MODEL)?;
    let floats = model.floats()?;
    println!(
        "{MODEL}: {} bytes, {} floats, in place {}, mapped {}, handles {}",
        model.as_bytes().len(),
        floats.len(),
        floats.as_ptr().cast::<u8>() == model.as_bytes().as_ptr(),
        is_mapped(MODEL),
        Arc::strong_count(&model)
    );
    let whole: f32 = floats.iter().sum();
    println!(
        "whole model: sum {whole}, checksum {:#010x}",
        checksum(floats)
    );

    // --- scoped threads borrowing the mapping ---------------------------------
    for threads in [1, 2, 3, 4, 7] {
        show_par(MODEL, floats, threads);
    }
    show_par("5 floats", &floats[..5], 5);
    show_par("3 floats", &floats[..3], 4);
    show_par(MODEL, floats, 0);
    show_par("no floats", &[], 1);
    println!("after the scopes: handles {}", Arc::strong_count(&model));

    // --- a thread that outlives main's handle --------------------------------
    let backwards = Range { start: 5, end: 3 };
    for range in [N - 3..N + 1, backwards, usize::MAX - 1..usize::MAX] {
        match spawn_sum(&model, range.clone()).join() {
            Ok(Ok(sum)) => println!("spawn_sum({range:?}): unexpected sum {sum}"),
            Ok(Err(e)) => println!("spawn_sum({range:?}): {e}"),
            Err(_) => println!("spawn_sum({range:?}): the worker panicked"),
        }
    }
    let tail = N - 3..N;
    let worker = spawn_sum(&model, tail.clone());
    let weak = Arc::downgrade(&model);
    drop(model); // main's handle is gone; the worker's clone keeps the mapping
    println!("main dropped its handle");
    match worker.join() {
        Ok(Ok(sum)) => println!("spawn_sum({tail:?}): sum {sum}"),
        Ok(Err(e)) => println!("spawn_sum({tail:?}): {e}"),
        Err(_) => println!("spawn_sum({tail:?}): the worker panicked"),
    }
    println!(
        "after join: model alive {}, {MODEL} mapped {}",
        weak.upgrade().is_some(),
        is_mapped(MODEL)
    );
    println!("end of main");
    Ok(())
}
