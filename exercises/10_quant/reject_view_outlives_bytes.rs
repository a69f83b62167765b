//! Must not compile: a view that outlives the bytes it points into.
//!
//! `f32_view` returns `&[f32]` with the lifetime of its `&[u8]` argument,
//! so the compiler rejects using the view after the buffer is freed
//! (E0597). C++'s `reinterpret_cast<const float*>` carries no such link: the
//! pointer silently dangles.

use crate::quant::f32_view;

fn main() {
    let floats;
    {
        let bytes = vec![0u8; 16];
        floats = f32_view(&bytes).expect("16 bytes from the allocator are aligned for f32");
    } // `bytes` is freed here
    println!("{floats:?}");
}
