//! Driver for the `quant` exercise. Do not edit: complete `quant.rs`.
//!
//! Every byte buffer here lives on the stack, in a wrapper aligned to 64, so
//! the driver knows exactly how each sub-slice is aligned, and nothing but
//! the module (and stdout's buffer) touches the heap.

use std::borrow::Cow;

use crate::quant::{
    BlockQ8_0, QK8_0, blocks_view, dequantize_into, f16_to_f32, f32_view, f32s_cow,
};

/// Bytes at an address that is a multiple of 64 (a cache line, and more
/// than any alignment asked for below), so `bytes[k..]` is aligned exactly
/// as well as `k` is.
#[repr(C, align(64))]
struct Aligned<const N: usize>([u8; N]);

/// Fills `bytes` with the little-endian bytes of `values`, from `at` on.
fn put_f32s(bytes: &mut [u8], at: usize, values: &[f32]) {
    for (i, v) in values.iter().enumerate() {
        let start = at + 4 * i;
        bytes[start..start + 4].copy_from_slice(&v.to_le_bytes());
    }
}

/// Writes one Q8_0 block (scale bits, then the 32 values) from `at` on.
fn put_block(bytes: &mut [u8], at: usize, d: u16, qs: impl Fn(usize) -> i8) {
    bytes[at..at + 2].copy_from_slice(&d.to_le_bytes());
    for i in 0..QK8_0 {
        bytes[at + 2 + i] = qs(i) as u8;
    }
}

fn show_f32_view(buf: &[u8], start: usize, len: usize) {
    let bytes = &buf[start..start + len];
    match f32_view(bytes) {
        Ok(floats) => println!(
            "f32_view(bytes {start}..{}): {} floats {floats:?}, in place {}",
            start + len,
            floats.len(),
            floats.is_empty() || floats.as_ptr().cast::<u8>() == bytes.as_ptr()
        ),
        Err(e) => println!("f32_view(bytes {start}..{}): {e}", start + len),
    }
}

fn show_blocks_view(buf: &[u8], start: usize, len: usize) {
    let bytes = &buf[start..start + len];
    match blocks_view(bytes) {
        Ok(blocks) => {
            print!(
                "blocks_view(bytes {start}..{}): {} blocks, in place {}",
                start + len,
                blocks.len(),
                blocks.is_empty() || blocks.as_ptr().cast::<u8>() == bytes.as_ptr()
            );
            for b in blocks {
                print!("; d {:#06x} qs[0] {} qs[31] {}", b.d, b.qs[0], b.qs[31]);
            }
            println!();
        }
        Err(e) => println!("blocks_view(bytes {start}..{}): {e}", start + len),
    }
}

fn show_cow(buf: &[u8], start: usize, len: usize) {
    let bytes = &buf[start..start + len];
    print!("f32s_cow(bytes {start}..{}): ", start + len);
    match f32s_cow(bytes) {
        Ok(Cow::Borrowed(floats)) => println!(
            "Borrowed, {} floats, sum {}, in place {}",
            floats.len(),
            sum(floats),
            floats.is_empty() || floats.as_ptr().cast::<u8>() == bytes.as_ptr()
        ),
        Ok(Cow::Owned(floats)) => println!(
            "Owned, {} floats {floats:?}, exact capacity {}",
            floats.len(),
            floats.capacity() == floats.len()
        ),
        Err(e) => println!("{e}"),
    }
}

/// What the driver puts in an output buffer before each call: no value
/// below is this, so an entry still holding it was not written.
const UNTOUCHED: f32 = -999.0;

/// The sum of `values`, starting from +0.0 (an empty sum prints as 0).
fn sum(values: &[f32]) -> f32 {
    values.iter().fold(0.0, |acc, v| acc + v)
}

fn show_dequantize(blocks: &[BlockQ8_0], out: &mut [f32]) {
    out.fill(UNTOUCHED);
    let (n, got) = (blocks.len(), out.len());
    match dequantize_into(blocks, out) {
        Ok(wrote) => {
            print!("dequantize_into({n} blocks, {got} floats): wrote {wrote}");
            for (i, values) in out[..wrote.min(got)].chunks(QK8_0).enumerate() {
                print!(
                    "; block {i}: {:?} .. {:?}, sum {}",
                    &values[..values.len().min(3)],
                    &values[values.len().saturating_sub(1)..],
                    sum(values)
                );
            }
            let rest = &out[wrote.min(got)..];
            println!("; rest untouched {}", rest.iter().all(|&v| v == UNTOUCHED));
        }
        Err(e) => println!("dequantize_into({n} blocks, {got} floats): {e}"),
    }
}

fn main() {
    println!(
        "BlockQ8_0: {} bytes, alignment {}, {QK8_0} values per block",
        size_of::<BlockQ8_0>(),
        align_of::<BlockQ8_0>()
    );

    // Half floats by hand: zeros, normals, the extremes, subnormals (no
    // implicit leading 1), infinities and NaNs (payload kept), and signs.
    for bits in [
        0x0000u16, 0x8000, 0x3c00, 0xbc00, 0x3800, 0x4000, 0x3555, 0x7bff, 0xfbff, 0x0400, 0x03ff,
        0x0200, 0x0001, 0x8001, 0x7c00, 0xfc00, 0x7e00, 0x7c01, 0xfe00,
    ] {
        let f = f16_to_f32(bits);
        println!("f16 {bits:#06x} -> {f:?} (f32 bits {:#010x})", f.to_bits());
    }
    // All 65536 of them at once: a checksum of the f32 bits (FNV-1a), and
    // how many are NaN, infinite, subnormal halves and zeros.
    let (mut hash, mut nans, mut infs, mut zeros) = (0x811c_9dc5u32, 0, 0, 0);
    for bits in 0..=u16::MAX {
        let f = f16_to_f32(bits);
        hash = (hash ^ f.to_bits()).wrapping_mul(0x0100_0193);
        nans += usize::from(f.is_nan());
        infs += usize::from(f.is_infinite());
        zeros += usize::from(f == 0.0);
    }
    println!("all 65536 halves: checksum {hash:#010x}, {nans} NaN, {infs} infinite, {zeros} zero");

    // f32 views: floats 0.0, 1.0, ..., 15.0 at offset 0 of an aligned buffer.
    let mut floats = Aligned([0u8; 64]);
    let mut seq = [0.0f32; 16];
    for (i, v) in seq.iter_mut().enumerate() {
        *v = i as f32;
    }
    put_f32s(&mut floats.0, 0, &seq);
    let buf = &floats.0;
    show_f32_view(buf, 0, 16); // aligned, whole
    show_f32_view(buf, 4, 8); // aligned at 4: a view may start mid-buffer
    show_f32_view(buf, 60, 4); // the last float
    show_f32_view(buf, 0, 64); // everything
    show_f32_view(buf, 0, 0); // empty
    show_f32_view(buf, 1, 0); // empty, at an odd address: still empty
    show_f32_view(buf, 3, 0);
    show_f32_view(buf, 1, 16); // misaligned by 1
    show_f32_view(buf, 2, 4); // misaligned by 2 (fine for a u16, not an f32)
    show_f32_view(buf, 3, 1); // shorter than the gap to the next aligned address
    show_f32_view(buf, 0, 15); // ragged
    show_f32_view(buf, 0, 3); // less than one float
    show_f32_view(buf, 1, 15); // misaligned and ragged: misaligned is reported

    // Q8_0 blocks at offset 2: aligned for a block (2), not for an f32 (4).
    let mut raw = Aligned([0u8; 256]);
    let at = 2;
    let size = size_of::<BlockQ8_0>();
    // Block 0: scale 0.5, values -16..15 -> -8.0 .. 7.5.
    put_block(&mut raw.0, at, 0x3800, |i| i as i8 - 16);
    // Block 1: a subnormal scale 2^-15, values at both ends of i8.
    put_block(&mut raw.0, at + 34, 0x0200, |i| match i {
        0 => 127,
        1 => -128,
        _ => (i % 3) as i8 - 1,
    });
    // Block 2: scale -1.0, values -64, -60, ..., 60.
    put_block(&mut raw.0, at + 68, 0xbc00, |i| (4 * i) as i8 - 64);
    // Block 3: an infinite scale: inf * 1, inf * -1, inf * 0 (NaN).
    put_block(&mut raw.0, at + 102, 0x7c00, |i| match i {
        0 => 1,
        1 => -1,
        _ => 0,
    });
    let buf = &raw.0;
    show_blocks_view(buf, at, 4 * size); // four whole blocks at an even address
    show_blocks_view(buf, at + size, 2 * size); // blocks 1 and 2 (at 36)
    show_blocks_view(buf, at, 0); // empty
    show_blocks_view(buf, 1, 0); // empty, at an odd address
    show_blocks_view(buf, at + 1, size); // odd address
    show_blocks_view(buf, 1, 4 * size + 1);
    show_blocks_view(buf, at, size - 1); // ragged: 33 bytes
    show_blocks_view(buf, at, size + 1); // ragged: 35 bytes
    show_blocks_view(buf, at, 4 * size - 1);
    show_blocks_view(buf, at, QK8_0); // 32 bytes: values without their scale
    show_blocks_view(buf, at + 1, size - 1); // misaligned and ragged

    // Dequantise into buffers the caller owns: nothing is allocated.
    let blocks = match blocks_view(&buf[at..at + 4 * size]) {
        Ok(blocks) => blocks,
        Err(e) => {
            println!("cannot view the four blocks to dequantise them: {e}");
            return;
        }
    };
    let mut out = [0.0f32; 4 * QK8_0 + 4];
    show_dequantize(blocks, &mut out[..4 * QK8_0]); // exactly enough
    show_dequantize(&blocks[..3], &mut out); // longer: the rest is left alone
    show_dequantize(&blocks[1..2], &mut out[..QK8_0]);
    show_dequantize(blocks, &mut out[..4 * QK8_0 - 1]); // one float short
    show_dequantize(&blocks[..1], &mut out[..QK8_0 - 1]);
    show_dequantize(blocks, &mut out[..QK8_0]); // room for one block of four
    show_dequantize(blocks, &mut []);
    show_dequantize(&[], &mut out); // no blocks: nothing written
    show_dequantize(&[], &mut []);

    // Cow: borrowed in place when aligned, decoded into a copy only when
    // the bytes are misaligned. 64 KiB aligned: a copy would show on the heap.
    let mut big = Aligned([0u8; 65536]);
    for (i, chunk) in big.0.chunks_exact_mut(4).enumerate() {
        chunk.copy_from_slice(&((i % 4) as f32).to_le_bytes());
    }
    show_cow(&big.0, 0, 65536);
    show_cow(&big.0, 64, 64);
    let mut odd = Aligned([0u8; 64]);
    put_f32s(&mut odd.0, 1, &[1.5, -2.0, 3.25, 1e10]);
    show_cow(&odd.0, 1, 16); // misaligned: Owned
    show_cow(&odd.0, 1, 4);
    show_cow(&odd.0, 1, 15); // misaligned and ragged
    show_cow(&odd.0, 1, 3); // shorter than one float
    show_cow(&odd.0, 0, 15); // aligned and ragged
    show_cow(&odd.0, 1, 0); // empty: nothing to copy
    show_cow(&odd.0, 0, 0);
    println!("end of main");
}
