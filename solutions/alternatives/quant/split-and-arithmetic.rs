//! Alternative: `align_offset` and `split_at` to find the aligned, whole
//! part; half floats decoded with arithmetic (exact powers of two) instead
//! of bit assembly; iterator chains for dequantising and copying.

use std::borrow::Cow;
use std::fmt;

// Views reinterpret the bytes as native numbers, which is only right when
// the host is little-endian, like GGUF files (llama.cpp assumes the same).
const _: () = assert!(
    cfg!(target_endian = "little"),
    "zero-copy views need a little-endian host"
);

/// Values per Q8_0 block (ggml's `QK8_0`).
pub const QK8_0: usize = 32;

/// One Q8_0 block, laid out exactly like ggml's `block_q8_0`: a half-float
/// scale `d`, then 32 signed bytes. Value `i` of the block is `d * qs[i]`.
///
/// `#[repr(C)]` fixes the field order and padding the way C does: 2 + 32 =
/// 34 bytes, aligned to 2 (the `u16`), with no padding. Every bit pattern is
/// a valid `u16` and a valid `i8`, so any 34 bytes at an even address are a
/// valid block: that is what makes reinterpreting file bytes sound.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockQ8_0 {
    /// The scale, as the bits of an IEEE-754 half float (Rust has no stable
    /// `f16` type yet; see [`f16_to_f32`]).
    pub d: u16,
    /// The quantised values.
    pub qs: [i8; QK8_0],
}

/// Why bytes could not be viewed, or a block could not be dequantised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewError {
    /// The bytes start at an address that is not a multiple of `align`;
    /// `offset` is the address modulo `align` (never 0).
    Misaligned { align: usize, offset: usize },
    /// `len` bytes are not a whole number of `size`-byte elements.
    Ragged { len: usize, size: usize },
    /// The output buffer holds `got` floats, `needed` are needed.
    OutputTooSmall { needed: usize, got: usize },
}

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViewError::Misaligned { align, offset } => write!(
                f,
                "misaligned: the address is {offset} past a multiple of {align}"
            ),
            ViewError::Ragged { len, size } => {
                write!(f, "ragged: {len} bytes are not a multiple of {size}")
            }
            ViewError::OutputTooSmall { needed, got } => {
                write!(f, "output buffer holds {got} floats, {needed} needed")
            }
        }
    }
}

impl std::error::Error for ViewError {}

/// `2^k` for the exponents a half float can have, built exactly.
fn pow2(k: i32) -> f32 {
    // Normal f32 exponents are -126..=127; halves need only -24..=15.
    f32::from_bits(((k + 127) as u32) << 23)
}

/// IEEE-754 half precision to single precision, exactly.
pub fn f16_to_f32(bits: u16) -> f32 {
    let fraction = bits & 0x03ff;
    let magnitude = match (bits >> 10) & 0x1f {
        0 => f32::from(fraction) * pow2(-24),
        0x1f if fraction == 0 => f32::INFINITY,
        0x1f => f32::from_bits(0x7f80_0000 | (u32::from(fraction) << 13)),
        e => (1.0 + f32::from(fraction) / 1024.0) * pow2(i32::from(e) - 15),
    };
    // `copysign` only sets the sign bit, so it is right for zeros and NaNs.
    magnitude.copysign(if bits & 0x8000 == 0 { 1.0 } else { -1.0 })
}

/// Checks that `bytes` are a whole, aligned run of `T`s; returns how many.
fn whole_aligned<T>(bytes: &[u8]) -> Result<usize, ViewError> {
    let (align, size) = (align_of::<T>(), size_of::<T>());
    // Bytes to skip to reach an aligned address: 0 when already aligned.
    let skip = bytes.as_ptr().align_offset(align);
    if skip != 0 && !bytes.is_empty() {
        return Err(ViewError::Misaligned {
            align,
            offset: align - skip,
        });
    }
    let (whole, rest) = bytes.split_at(bytes.len() - bytes.len() % size);
    if !rest.is_empty() {
        return Err(ViewError::Ragged {
            len: bytes.len(),
            size,
        });
    }
    Ok(whole.len() / size)
}

/// Views `bytes` as native `f32`s, without copying.
pub fn f32_view(bytes: &[u8]) -> Result<&[f32], ViewError> {
    let n = whole_aligned::<f32>(bytes)?;
    if n == 0 {
        return Ok(&[]);
    }
    // SAFETY: `whole_aligned` checked that the address is aligned for f32
    // and that `bytes` holds exactly `n` floats; any bits are a valid f32;
    // the view borrows `bytes`.
    Ok(unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast(), n) })
}

/// Views `bytes` as Q8_0 blocks, without copying.
pub fn blocks_view(bytes: &[u8]) -> Result<&[BlockQ8_0], ViewError> {
    let n = whole_aligned::<BlockQ8_0>(bytes)?;
    if n == 0 {
        return Ok(&[]);
    }
    // SAFETY: aligned and exactly `n` blocks (checked above); a repr(C)
    // block has no padding and integer fields, so any bytes are valid.
    Ok(unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast(), n) })
}

/// Writes the blocks' values into the first floats of `out`.
pub fn dequantize_into(blocks: &[BlockQ8_0], out: &mut [f32]) -> Result<usize, ViewError> {
    let needed = blocks.len() * QK8_0;
    let got = out.len();
    let values = blocks.iter().flat_map(|block| {
        let d = f16_to_f32(block.d);
        block.qs.iter().map(move |&q| d * f32::from(q))
    });
    out.get_mut(..needed)
        .ok_or(ViewError::OutputTooSmall { needed, got })?
        .iter_mut()
        .zip(values)
        .for_each(|(slot, value)| *slot = value);
    Ok(needed)
}

/// Borrowed when aligned, decoded into a copy when misaligned.
pub fn f32s_cow(bytes: &[u8]) -> Result<Cow<'_, [f32]>, ViewError> {
    match f32_view(bytes) {
        Err(ViewError::Misaligned { .. }) if bytes.len().is_multiple_of(4) => Ok(Cow::Owned(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )),
        Err(ViewError::Misaligned { .. }) => Err(ViewError::Ragged {
            len: bytes.len(),
            size: 4,
        }),
        other => other.map(Cow::Borrowed),
    }
}
