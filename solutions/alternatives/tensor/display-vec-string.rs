//! Alternative: `format!` and a `Vec<String>` of dimensions in `Display`, an
//! eager `ok_or`, and `Arc::new(*tensor)` in `add`.
//!
//! Every allocation here is small: formatting builds a few short strings and
//! `ok_or(..)` copies the shape on every call, even a successful one. None of
//! it copies tensor data, so it stays within the exercise's heap limits.
//! `Arc::new(*tensor)` moves the `Tensor` header (a pointer, a length and a
//! `Vec` header) out of its box into the Arc; the elements stay put, exactly
//! as with `Arc::from(tensor)`.

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
        let message = match self {
            TensorError::TooLarge { shape } => {
                let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
                format!(
                    "shape [{}] has too many elements to fit in memory",
                    dims.join(", ")
                )
            }
            TensorError::IndexOutOfRange { index, count } => {
                format!("tensor index {index} out of range (manager holds {count})")
            }
        };
        f.write_str(&message)
    }
}

impl Error for TensorError {}

/// A dense `f32` tensor that owns its data. Deliberately not `Clone`.
pub struct Tensor {
    data: Box<[f32]>,
    shape: Vec<usize>,
}

impl Tensor {
    /// Creates a tensor of the given shape filled with `1.0, 2.0, ..., n`;
    /// see the reference solution for the rules.
    pub fn create(shape: &[usize]) -> Result<Box<Tensor>, TensorError> {
        // Built eagerly: a small copy of the shape on every call.
        let too_large = TensorError::TooLarge {
            shape: shape.to_vec(),
        };
        let count = shape
            .iter()
            .try_fold(1usize, |acc, &dim| acc.checked_mul(dim))
            .ok_or(too_large.clone())?;
        let bytes = count
            .checked_mul(size_of::<f32>())
            .ok_or(too_large.clone())?;
        if bytes > isize::MAX as usize {
            return Err(too_large);
        }
        let data = (1..=count).map(|i| i as f32).collect();
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
        size_of_val(&*self.data)
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
        let dims: Vec<String> = self.shape.iter().map(|d| d.to_string()).collect();
        println!(
            "freeing tensor [{}] ({} elements)",
            dims.join(", "),
            self.data.len()
        );
    }
}

/// Holds tensors with shared ownership.
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
    // Only `*tensor` is used, so clippy would rather take a `Tensor` by
    // value; the exercise fixes the signature.
    #[allow(clippy::boxed_local)]
    pub fn add(&mut self, tensor: Box<Tensor>) -> usize {
        // Moves the header out of the box (which is freed without running
        // `Drop`: the value was moved out) into a new Arc allocation.
        self.tensors.push(Arc::new(*tensor));
        self.tensors.len() - 1
    }

    /// A new shared handle to tensor `index`.
    pub fn get(&self, index: usize) -> Result<Arc<Tensor>, TensorError> {
        self.tensors
            .get(index)
            .cloned()
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
