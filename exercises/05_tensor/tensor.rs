//! Exercise: owned and shared tensor data.
//!
//! The C++ version stores tensor data in a `std::unique_ptr<float[]>`,
//! returns `std::unique_ptr<Tensor>` from a factory, and turns it into a
//! `std::shared_ptr<Tensor>` when a manager takes it over. It writes move
//! constructors and deletes copy constructors by hand.
//!
//! Rust counterparts: `Box<[f32]>` owns the elements, `Box<Tensor>` is the
//! unique pointer and `Arc<Tensor>` the shared one. Moves need no code, and a
//! type without `Clone` simply cannot be copied. Errors are returned as
//! values (`Result`) instead of thrown.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// Errors from creating or looking up tensors.
// Silences "variants never constructed" until your code returns them;
// remove it once `create` and `get` are done.
#[allow(dead_code)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TensorError {
    /// The shape's element count does not fit in `usize`, or its size in
    /// bytes is more than `isize::MAX`, the most one allocation may hold.
    TooLarge { shape: Vec<usize> },
    /// `TensorManager::get` was asked for an index it does not have.
    IndexOutOfRange { index: usize, count: usize },
}

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // TODO: one message per variant. The driver prints them, so the
        // check compares them word for word: not examples, but exactly
        // "shape [2, 3] has too many elements to fit in memory" (the shape
        // as `{:?}` prints a `Vec`) and
        // "tensor index 7 out of range (manager holds 2)".
        let _ = f; // (delete this line: it only silences a warning)
        todo!()
    }
}

// With `Debug` and `Display` in place, the default methods are enough.
impl Error for TensorError {}

/// A dense `f32` tensor that owns its data. Deliberately not `Clone`.
pub struct Tensor {
    data: Box<[f32]>,
    shape: Vec<usize>,
}

impl Tensor {
    /// Creates a tensor of the given shape filled with `1.0, 2.0, ..., n`.
    ///
    /// The empty shape `[]` is a scalar (one element); a shape with a 0
    /// dimension is an empty tensor (no elements), not an error.
    ///
    /// Returns `TensorError::TooLarge` instead of panicking when the element
    /// count overflows `usize` or the byte size exceeds `isize::MAX`. (A size
    /// within those limits that still cannot be allocated aborts, as with
    /// `Vec`.)
    pub fn create(shape: &[usize]) -> Result<Box<Tensor>, TensorError> {
        // TODO:
        // 1. Multiply the dimensions together without ever overflowing:
        //    `shape.iter().product()` would panic in a debug build. Which
        //    integer method returns an `Option` instead? (What should the
        //    product of no dimensions be?)
        // 2. Also make sure the size in bytes (elements * size of an f32)
        //    neither overflows `usize` nor exceeds `isize::MAX`: no Rust
        //    allocation may be larger (`Vec` panics with "capacity
        //    overflow"), and `size_bytes` and `total_memory` then cannot
        //    overflow either.
        // 3. Build the `Box<[f32]>` (an iterator can be collected into one)
        //    and return the tensor in a `Box`.
        // The check limits the bytes the program allocates: allocate each
        // tensor's data once, at its final size (it allows no reallocation,
        // so no `Vec` grown by `push`), and never copy it. Error values and
        // messages are small and stay well within the limit.
        let _ = shape; // (delete this line: it only silences a warning)
        todo!()
    }

    /// The dimensions of the tensor.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of elements (the product of the dimensions).
    pub fn num_elements(&self) -> usize {
        self.data.len()
    }

    /// Size of the element buffer in bytes.
    pub fn size_bytes(&self) -> usize {
        // TODO: elements times the size of one `f32`.
        todo!()
    }

    /// The elements, in row-major order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Address of the element buffer, so callers can check it never moves.
    pub fn as_ptr(&self) -> *const f32 {
        self.data.as_ptr()
    }

    /// Sum of all elements.
    pub fn sum(&self) -> f32 {
        // TODO
        todo!()
    }
}

impl Drop for Tensor {
    fn drop(&mut self) {
        // TODO: print `freeing tensor <shape> (<n> elements)`, e.g.
        // `freeing tensor [2, 3] (6 elements)`. Do you have to free the
        // buffer yourself?
        todo!()
    }
}

/// Holds tensors with shared ownership: a tensor lives as long as the
/// manager or any `Arc` handed out by `get` still refers to it.
#[derive(Default)]
pub struct TensorManager {
    tensors: Vec<Arc<Tensor>>,
}

impl TensorManager {
    /// An empty manager.
    pub fn new() -> TensorManager {
        TensorManager::default()
    }

    /// Takes ownership of `tensor` and returns its index.
    pub fn add(&mut self, tensor: Box<Tensor>) -> usize {
        // TODO: turn the `Box<Tensor>` into an `Arc<Tensor>` and store it.
        // The driver checks that the f32 buffer is not copied on the way:
        // `Arc` implements `From<Box<T>>`. Does the conversion run `Drop`?
        let _ = (tensor, &self.tensors); // (delete this line: it only silences a warning)
        todo!()
    }

    /// A new shared handle to tensor `index`.
    pub fn get(&self, index: usize) -> Result<Arc<Tensor>, TensorError> {
        // TODO: an out-of-range index is `TensorError::IndexOutOfRange`, not
        // a panic. What does cloning an `Arc` cost?
        let _ = index; // (delete this line: it only silences a warning)
        todo!()
    }

    /// Number of tensors held.
    pub fn count(&self) -> usize {
        self.tensors.len()
    }

    /// Total size of the element buffers of all held tensors, in bytes.
    pub fn total_memory(&self) -> usize {
        // TODO
        todo!()
    }
}
