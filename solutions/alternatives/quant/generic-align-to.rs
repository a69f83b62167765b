//! Alternative: `align_to` behind one generic `unsafe fn`, explicit
//! `match`es on what it returns, index loops, and the half float assembled
//! field by field with `if`s.

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

/// IEEE-754 half precision to single precision, exactly.
pub fn f16_to_f32(bits: u16) -> f32 {
    let sign: u32 = if bits & 0x8000 != 0 { 1 << 31 } else { 0 };
    let exponent = (bits >> 10) & 0x1f;
    let mantissa = u32::from(bits & 0x03ff);
    if exponent == 0 {
        // Zero or subnormal: mantissa * 2^-24, then the sign bit.
        let value = mantissa as f32 / 16_777_216.0;
        return f32::from_bits(value.to_bits() | sign);
    }
    let f32_exponent: u32 = if exponent == 0x1f {
        0xff
    } else {
        u32::from(exponent) + 127 - 15
    };
    f32::from_bits(sign | (f32_exponent << 23) | (mantissa << 13))
}

/// Reinterprets `bytes` as `T`s if they are aligned and whole.
///
/// # Safety
/// Every bit pattern of `size_of::<T>()` bytes must be a valid `T`.
unsafe fn cast_slice<T>(bytes: &[u8]) -> Result<&[T], ViewError> {
    // SAFETY: the caller promises any bits are a valid `T`; `align_to` only
    // yields aligned, whole `T`s in the middle.
    let (head, middle, tail) = unsafe { bytes.align_to::<T>() };
    match (head.len(), tail.len()) {
        (0, 0) => Ok(middle),
        (0, _) => Err(ViewError::Ragged {
            len: bytes.len(),
            size: size_of::<T>(),
        }),
        _ => Err(ViewError::Misaligned {
            align: align_of::<T>(),
            offset: bytes.as_ptr() as usize % align_of::<T>(),
        }),
    }
}

/// Views `bytes` as native `f32`s, without copying.
pub fn f32_view(bytes: &[u8]) -> Result<&[f32], ViewError> {
    // SAFETY: every 4-byte pattern is a valid f32.
    unsafe { cast_slice(bytes) }
}

/// Views `bytes` as Q8_0 blocks, without copying.
pub fn blocks_view(bytes: &[u8]) -> Result<&[BlockQ8_0], ViewError> {
    // SAFETY: a repr(C) block of a u16 and 32 i8s has no padding and no
    // invalid bit patterns.
    unsafe { cast_slice(bytes) }
}

/// Writes the blocks' values into the first floats of `out`.
pub fn dequantize_into(blocks: &[BlockQ8_0], out: &mut [f32]) -> Result<usize, ViewError> {
    let needed = blocks.len() * QK8_0;
    let got = out.len();
    let Some(out) = out.get_mut(..needed) else {
        return Err(ViewError::OutputTooSmall { needed, got });
    };
    let mut i = 0;
    for block in blocks {
        let d = f16_to_f32(block.d);
        for &q in &block.qs {
            out[i] = d * f32::from(q);
            i += 1;
        }
    }
    Ok(i)
}

/// Borrowed when aligned, decoded into a copy when misaligned.
pub fn f32s_cow(bytes: &[u8]) -> Result<Cow<'_, [f32]>, ViewError> {
    let err = match f32_view(bytes) {
        Ok(floats) => return Ok(Cow::Borrowed(floats)),
        Err(err) => err,
    };
    match err {
        ViewError::Misaligned { .. } => {
            let (chunks, rest) = bytes.as_chunks::<4>();
            if rest.is_empty() {
                let copy: Vec<f32> = chunks.iter().copied().map(f32::from_le_bytes).collect();
                Ok(Cow::Owned(copy))
            } else {
                Err(ViewError::Ragged {
                    len: bytes.len(),
                    size: 4,
                })
            }
        }
        other => Err(other),
    }
}
