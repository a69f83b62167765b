//! Exercise: zero-copy views of raw bytes, and Q8_0 quantised blocks.
//!
//! A model file is a long run of bytes. llama.cpp reads its weights without
//! copying them: it casts a `const uint8_t *` into the mapping to a
//! `const float *`, or to a `const block_q8_0 *` for quantised tensors, and
//! trusts that the address is aligned and the length a whole number of
//! elements. In Rust the same cast is `unsafe`, and this module wraps it in
//! safe functions that check both, so a caller can never build a misaligned
//! or ragged slice (undefined behaviour, even if nobody reads it).
//!
//! Rules the driver checks:
//! * A view is never a copy: its first element is at the first input byte.
//! * Zero bytes are an empty view (`Ok`), wherever they point.
//! * Otherwise a view needs an address that is a multiple of the type's
//!   alignment (4 for `f32`, 2 for `BlockQ8_0`): `ViewError::Misaligned`,
//!   checked first, with the address modulo the alignment. Then the length
//!   must be a whole number of elements (4 or 34 bytes): `ViewError::Ragged`.
//! * `dequantize_into` and the views allocate nothing, and `f32s_cow`
//!   allocates only for misaligned input, once, with exactly the capacity it
//!   needs (the check counts every allocation and every byte allocated).
//! * `dequantize_into` with a short output buffer is `OutputTooSmall`
//!   (nothing written, no panic); with a longer one, the floats past those
//!   it wrote are left as they were.
//! * `f16_to_f32` is exact for every one of the 65536 bit patterns: signed
//!   zeros, subnormals, infinities and NaNs (with their payload) included.
//!   Only `std` is available (no `half` crate): it is done with bit
//!   operations.
//!
//! Every `unsafe` block needs a `// SAFETY:` comment saying why it is sound.

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
// Silences "variant never constructed" until your code returns them;
// remove it once the module is done.
#[allow(dead_code)]
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
    // TODO: split `bits` into sign, exponent and mantissa, then build the
    // f32 (1 sign bit, 8 exponent bits with bias 127, 23 mantissa bits),
    // with `f32::from_bits` where bits are easier than arithmetic. Three
    // cases of the exponent:
    // - 1..=30: a normal number; re-bias the exponent, widen the mantissa.
    // - 31: infinity (mantissa 0) or NaN (keep the mantissa as payload).
    // - 0: zero or a subnormal. There is no implicit leading 1 here: the
    //   value is mantissa x 2^-24, which is a normal f32.
    // And the sign, on every case (0x8000 is -0.0, not 0.0).
    let _ = bits; // (delete this line: it only silences a warning)
    todo!()
}

/// Views `bytes` as native `f32`s, without copying.
///
/// Zero bytes are an empty view, wherever they point. Otherwise the bytes
/// must start at a multiple of 4 ([`ViewError::Misaligned`], checked first)
/// and hold a multiple of 4 bytes ([`ViewError::Ragged`]).
pub fn f32_view(bytes: &[u8]) -> Result<&[f32], ViewError> {
    // TODO: reinterpret, do not copy. Two ways, both `unsafe`:
    // - `bytes.align_to::<f32>()` splits the input into a head (the bytes
    //   before the first address aligned for `f32`), a middle `&[f32]`, and
    //   a tail (bytes left over after the last whole float). Which of them
    //   must be empty for the whole input to be one aligned view?
    // - or check by hand: the address (`bytes.as_ptr()`, then `.addr()` or
    //   `.cast::<f32>().is_aligned()`) and the length, and only then
    //   `std::slice::from_raw_parts`. Building a slice from a misaligned
    //   pointer is undefined behaviour even when its length is 0, and a
    //   debug build aborts on it ("unsafe precondition(s) violated").
    // Why is it sound at all? Every 4-byte pattern is a valid `f32` (a bool
    // or an enum would not be), and the view borrows `bytes`, so it cannot
    // outlive them. Write that in the SAFETY comment.
    let _ = bytes; // (delete this line: it only silences a warning)
    todo!()
}

/// Views `bytes` as Q8_0 blocks, without copying: the same rules as
/// [`f32_view`], with an alignment of 2 and a size of 34 bytes.
pub fn blocks_view(bytes: &[u8]) -> Result<&[BlockQ8_0], ViewError> {
    // TODO: the same as `f32_view`, for `BlockQ8_0`. Take the size and the
    // alignment from the type (`size_of::<BlockQ8_0>()`, `align_of`) rather
    // than writing 34 and 2: a small generic helper can serve both views.
    // What makes this cast sound: `repr(C)`, no padding bytes, and fields
    // for which every bit pattern is valid.
    let _ = bytes; // (delete this line: it only silences a warning)
    todo!()
}

/// Writes the `blocks.len() * 32` values of `blocks` into the first floats
/// of `out` and returns how many it wrote. Allocates nothing; floats of
/// `out` past that count are left as they were.
pub fn dequantize_into(blocks: &[BlockQ8_0], out: &mut [f32]) -> Result<usize, ViewError> {
    // TODO:
    // 1. How many floats do the blocks hold (values, not bytes)? A shorter
    //    `out` is `OutputTooSmall`, checked before writing anything, and
    //    never a panic: `out[..n]` panics, `out.get_mut(..n)` does not.
    // 2. Value `i` of a block is `d * qs[i]`, with `d` the block's scale
    //    converted by `f16_to_f32`. Write straight into `out` (no temporary
    //    `Vec`: the check counts allocations). `chunks_exact_mut` and `zip`
    //    pair each block with its 32 floats.
    let _ = (blocks, out); // (delete this line: it only silences a warning)
    todo!()
}

/// The floats in `bytes`: borrowed when they can be viewed in place, copied
/// (decoded) only when the bytes are misaligned. Ragged bytes are an error
/// either way.
pub fn f32s_cow(bytes: &[u8]) -> Result<Cow<'_, [f32]>, ViewError> {
    // TODO: try `f32_view` first; a view is `Cow::Borrowed`. Only a
    // misaligned input is copied into `Cow::Owned`: decode each 4-byte
    // chunk with `f32::from_le_bytes`, which needs no alignment
    // (`bytes.as_chunks::<4>()` or `chunks_exact(4)`). A copy of ragged
    // bytes would silently drop the last ones: that is `Ragged` too. Collect
    // from an iterator of known length, so the `Vec` is allocated once.
    let _ = bytes; // (delete this line: it only silences a warning)
    todo!()
}
