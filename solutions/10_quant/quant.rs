//! Zero-copy views and Q8_0 blocks (reference solution).
//!
//! A model file is a long run of bytes. llama.cpp reads its weights without
//! copying them: it casts a `const uint8_t *` into the mapping to a
//! `const float *`, or to a `const block_q8_0 *` for quantised tensors, and
//! trusts that the address is aligned and the length a whole number of
//! elements. In Rust the same cast is `unsafe`, and this module wraps it in
//! safe functions that check both, so a caller can never build a misaligned
//! or ragged slice (undefined behaviour, even if nobody reads it).

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

/// IEEE-754 half precision (1 sign bit, 5 exponent bits with bias 15, 10
/// mantissa bits) to single precision. Exact: every f16 is an f32.
pub fn f16_to_f32(bits: u16) -> f32 {
    let negative = bits & 0x8000 != 0;
    let exponent = u32::from((bits >> 10) & 0x1f);
    let mantissa = u32::from(bits & 0x03ff);
    let magnitude = match exponent {
        // Zero and subnormals: no implicit leading 1, mantissa * 2^-24.
        // Both factors are exact f32s and so is their product.
        0 => mantissa as f32 * f32::from_bits(0x3380_0000),
        // Infinity (mantissa 0) and NaN: all-ones exponent, payload kept.
        0x1f => f32::from_bits(0x7f80_0000 | (mantissa << 13)),
        // Normal numbers: re-bias the exponent (15 -> 127), widen the
        // mantissa from 10 to 23 bits.
        _ => f32::from_bits(((exponent + 127 - 15) << 23) | (mantissa << 13)),
    };
    // Negation flips only the sign bit, so -0.0 and negative NaNs come out
    // right too.
    if negative { -magnitude } else { magnitude }
}

/// The error for bytes that are not a whole, aligned run of `T`s.
///
/// `align_to` split the input into `head` (bytes before the first aligned
/// address), the aligned middle and `tail` (bytes after the last whole `T`).
fn view_error<T>(bytes: &[u8], head: &[u8]) -> ViewError {
    if head.is_empty() {
        ViewError::Ragged {
            len: bytes.len(),
            size: size_of::<T>(),
        }
    } else {
        ViewError::Misaligned {
            align: align_of::<T>(),
            offset: bytes.as_ptr().addr() % align_of::<T>(),
        }
    }
}

/// Views `bytes` as native `f32`s, without copying.
///
/// Zero bytes are an empty view, wherever they point. Otherwise the bytes
/// must start at a multiple of 4 ([`ViewError::Misaligned`], checked first)
/// and hold a multiple of 4 bytes ([`ViewError::Ragged`]).
pub fn f32_view(bytes: &[u8]) -> Result<&[f32], ViewError> {
    // SAFETY: every 4-byte pattern is a valid `f32` (NaNs included), and
    // `align_to` only puts bytes in the middle slice at an address aligned
    // for `f32`, in whole `f32`s. The view borrows `bytes`, so it cannot
    // outlive them.
    //
    // A fine point: `align_to` only promises a correct split, not the
    // largest middle (it may leave everything in `head`). The standard
    // library's run-time implementation does split maximally, which is what
    // this relies on; checking the address with `is_aligned` and building
    // the slice with `slice::from_raw_parts` avoids the question.
    let (head, floats, tail) = unsafe { bytes.align_to::<f32>() };
    if head.is_empty() && tail.is_empty() {
        Ok(floats)
    } else {
        Err(view_error::<f32>(bytes, head))
    }
}

/// Views `bytes` as Q8_0 blocks, without copying: the same rules as
/// [`f32_view`], with an alignment of 2 and a size of 34 bytes.
pub fn blocks_view(bytes: &[u8]) -> Result<&[BlockQ8_0], ViewError> {
    // SAFETY: `BlockQ8_0` is `repr(C)` with no padding, and every bit
    // pattern is valid for its `u16` and `i8` fields, so any 34 aligned
    // bytes are a block. `align_to` handles the alignment and the length.
    let (head, blocks, tail) = unsafe { bytes.align_to::<BlockQ8_0>() };
    if head.is_empty() && tail.is_empty() {
        Ok(blocks)
    } else {
        Err(view_error::<BlockQ8_0>(bytes, head))
    }
}

/// Writes the `blocks.len() * 32` values of `blocks` into the first floats
/// of `out` and returns how many it wrote. Allocates nothing; floats of
/// `out` past that count are left as they were.
pub fn dequantize_into(blocks: &[BlockQ8_0], out: &mut [f32]) -> Result<usize, ViewError> {
    // Cannot overflow: a slice of 34-byte blocks has fewer than
    // `isize::MAX / 34` of them.
    let needed = blocks.len() * QK8_0;
    let got = out.len();
    let out = out
        .get_mut(..needed)
        .ok_or(ViewError::OutputTooSmall { needed, got })?;
    for (values, block) in out.chunks_exact_mut(QK8_0).zip(blocks) {
        let d = f16_to_f32(block.d);
        for (value, &q) in values.iter_mut().zip(&block.qs) {
            *value = d * f32::from(q);
        }
    }
    Ok(needed)
}

/// The floats in `bytes`: borrowed when they can be viewed in place, copied
/// (decoded) only when the bytes are misaligned. Ragged bytes are an error
/// either way.
pub fn f32s_cow(bytes: &[u8]) -> Result<Cow<'_, [f32]>, ViewError> {
    match f32_view(bytes) {
        Ok(floats) => Ok(Cow::Borrowed(floats)),
        Err(ViewError::Misaligned { .. }) => {
            // Whole 4-byte chunks, and nothing left over.
            let (chunks, rest) = bytes.as_chunks::<4>();
            if !rest.is_empty() {
                return Err(ViewError::Ragged {
                    len: bytes.len(),
                    size: size_of::<f32>(),
                });
            }
            // Decoding from bytes needs no alignment. The iterator knows its
            // length, so `collect` allocates once, at the final size.
            Ok(Cow::Owned(
                chunks.iter().map(|&c| f32::from_le_bytes(c)).collect(),
            ))
        }
        Err(e) => Err(e),
    }
}
