//! Alternative: explicit checks with `is_aligned` and `from_raw_parts`
//! instead of `align_to`, a generic view over an `unsafe` marker trait,
//! subnormal halves normalised by shifting, and a `Cow` copy pushed into a
//! `Vec::with_capacity`.

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

/// Types for which any bytes of the right size and alignment are a valid
/// value (no padding, no invalid bit patterns).
///
/// # Safety
/// Only implement it for such types.
unsafe trait Plain: Sized {}

// SAFETY: every bit pattern is a valid f32.
unsafe impl Plain for f32 {}
// SAFETY: repr(C), 2 + 32 bytes with no padding, all fields plain integers.
unsafe impl Plain for BlockQ8_0 {}

/// The one place that reinterprets bytes.
fn view<T: Plain>(bytes: &[u8]) -> Result<&[T], ViewError> {
    if bytes.is_empty() {
        return Ok(&[]);
    }
    let ptr = bytes.as_ptr();
    if !ptr.cast::<T>().is_aligned() {
        return Err(ViewError::Misaligned {
            align: align_of::<T>(),
            offset: ptr.addr() % align_of::<T>(),
        });
    }
    if !bytes.len().is_multiple_of(size_of::<T>()) {
        return Err(ViewError::Ragged {
            len: bytes.len(),
            size: size_of::<T>(),
        });
    }
    // SAFETY: the pointer is aligned for `T` and non-null, the slice covers
    // exactly `bytes` (whole `T`s), `T: Plain` makes every bit pattern
    // valid, and the result borrows `bytes` for the same lifetime.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<T>(), bytes.len() / size_of::<T>()) })
}

/// IEEE-754 half precision to single precision, exactly.
pub fn f16_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits & 0x8000) << 16;
    let exponent = u32::from((bits >> 10) & 0x1f);
    let mut mantissa = u32::from(bits & 0x03ff);
    let magnitude = if exponent == 0x1f {
        0x7f80_0000 | (mantissa << 13)
    } else if exponent != 0 {
        ((exponent + 112) << 23) | (mantissa << 13)
    } else if mantissa == 0 {
        0
    } else {
        // A subnormal: shift the mantissa up until its leading 1 reaches
        // the implicit-bit position, lowering the exponent on each step.
        let mut e = 113u32; // the exponent of 2^-14, the subnormals' scale
        while mantissa & 0x0400 == 0 {
            mantissa <<= 1;
            e -= 1;
        }
        (e << 23) | ((mantissa & 0x03ff) << 13)
    };
    f32::from_bits(sign | magnitude)
}

/// Views `bytes` as native `f32`s, without copying.
pub fn f32_view(bytes: &[u8]) -> Result<&[f32], ViewError> {
    view(bytes)
}

/// Views `bytes` as Q8_0 blocks, without copying.
pub fn blocks_view(bytes: &[u8]) -> Result<&[BlockQ8_0], ViewError> {
    view(bytes)
}

/// Writes the blocks' values into the first floats of `out`.
pub fn dequantize_into(blocks: &[BlockQ8_0], out: &mut [f32]) -> Result<usize, ViewError> {
    let needed = blocks.len() * QK8_0;
    if out.len() < needed {
        return Err(ViewError::OutputTooSmall {
            needed,
            got: out.len(),
        });
    }
    for (b, block) in blocks.iter().enumerate() {
        let d = f16_to_f32(block.d);
        for i in 0..QK8_0 {
            out[b * QK8_0 + i] = d * f32::from(block.qs[i]);
        }
    }
    Ok(needed)
}

/// Borrowed when aligned, decoded into a copy when misaligned.
pub fn f32s_cow(bytes: &[u8]) -> Result<Cow<'_, [f32]>, ViewError> {
    match f32_view(bytes) {
        Ok(floats) => Ok(Cow::Borrowed(floats)),
        Err(ViewError::Misaligned { .. }) if bytes.len().is_multiple_of(4) => {
            let mut copy = Vec::with_capacity(bytes.len() / 4);
            for chunk in bytes.chunks_exact(4) {
                copy.push(f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
            }
            Ok(Cow::Owned(copy))
        }
        Err(ViewError::Misaligned { .. }) => Err(ViewError::Ragged {
            len: bytes.len(),
            size: 4,
        }),
        Err(e) => Err(e),
    }
}
