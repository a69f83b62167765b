//! Owned and shared tensor data (reference solution).
//!
//! `Box<T>` is Rust's `std::unique_ptr<T>` and `Arc<T>` its
//! `std::shared_ptr<T>`. Moving a `Box` moves a pointer, and turning a
//! `Box<Tensor>` into an `Arc<Tensor>` moves the small `Tensor` header into
//! the reference-counted allocation while the `f32` buffer stays where it is.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// Errors from creating or looking up tensors.
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
        match self {
            TensorError::TooLarge { shape } => {
                write!(f, "shape {shape:?} has too many elements to fit in memory")
            }
            TensorError::IndexOutOfRange { index, count } => {
                write!(
                    f,
                    "tensor index {index} out of range (manager holds {count})"
                )
            }
        }
    }
}

// The default methods are enough: there is no underlying cause to expose.
impl Error for TensorError {}

/// A dense `f32` tensor that owns its data. Deliberately not `Clone`:
/// copying tensor data should never happen by accident.
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
        // `ok_or_else` builds the error (and its copy of the shape) only on
        // the error path; `ok_or(TensorError::TooLarge { .. })` would
        // allocate that copy on every call, even a successful one.
        let too_large = || TensorError::TooLarge {
            shape: shape.to_vec(),
        };
        // A plain `product()` would panic (debug) or wrap silently (release)
        // on overflow; `checked_mul` turns it into a `None` we can report.
        // Starting from 1 makes `[]` a scalar, and any 0 dimension gives 0.
        let count = shape
            .iter()
            .try_fold(1usize, |acc, &dim| acc.checked_mul(dim))
            .ok_or_else(too_large)?;
        // The byte size must fit too: no allocation may exceed `isize::MAX`
        // bytes (`Vec` would panic with "capacity overflow"), and it keeps
        // `size_bytes` and `total_memory` overflow-free.
        count
            .checked_mul(size_of::<f32>())
            .filter(|&bytes| bytes <= isize::MAX as usize)
            .ok_or_else(too_large)?;
        // The range reports its exact length, so collecting allocates the
        // buffer once, at its final size: no reallocation, no copy.
        let data: Box<[f32]> = (1..=count).map(|i| i as f32).collect();
        Ok(Box::new(Tensor {
            data,
            shape: shape.to_vec(),
        }))
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
        // Cannot overflow: `create` checked that it is at most `isize::MAX`.
        self.data.len() * size_of::<f32>()
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
        self.data.iter().sum()
    }
}

impl Drop for Tensor {
    fn drop(&mut self) {
        // The buffer itself is freed by `Box<[f32]>`'s own drop right after
        // this; we only announce it.
        println!(
            "freeing tensor {:?} ({} elements)",
            self.shape,
            self.data.len()
        );
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
        // `Arc::from(Box<T>)` moves the `Tensor` value (a pointer, a length
        // and a `Vec` header) into the Arc's allocation and frees the old box
        // without running `Tensor::drop`. The element buffer is not touched.
        self.tensors.push(Arc::from(tensor));
        self.tensors.len() - 1
    }

    /// A new shared handle to tensor `index`.
    pub fn get(&self, index: usize) -> Result<Arc<Tensor>, TensorError> {
        self.tensors
            .get(index)
            // Cloning an `Arc` only increments the reference count.
            .map(Arc::clone)
            .ok_or(TensorError::IndexOutOfRange {
                index,
                count: self.tensors.len(),
            })
    }

    /// Number of tensors held.
    pub fn count(&self) -> usize {
        self.tensors.len()
    }

    /// Total size of the element buffers of all held tensors, in bytes.
    pub fn total_memory(&self) -> usize {
        self.tensors.iter().map(|t| t.size_bytes()).sum()
    }
}
