//! Alternative: plain loops and `match` instead of iterator chains and
//! combinators; the data starts as `vec![0.0; count]` filled in place.

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
                f.write_str("shape [")?;
                for (i, dim) in shape.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{dim}")?;
                }
                f.write_str("] has too many elements to fit in memory")
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
        let mut count: usize = 1;
        for &dim in shape {
            count = match count.checked_mul(dim) {
                Some(product) => product,
                None => {
                    return Err(TensorError::TooLarge {
                        shape: shape.to_vec(),
                    });
                }
            };
        }
        match count.checked_mul(size_of::<f32>()) {
            Some(bytes) if bytes <= isize::MAX as usize => {}
            _ => {
                return Err(TensorError::TooLarge {
                    shape: shape.to_vec(),
                });
            }
        }
        // One zeroed allocation at the final size, then filled in place.
        let mut data = vec![0.0f32; count];
        let mut next = 1.0;
        for element in data.iter_mut() {
            *element = next;
            next += 1.0;
        }
        Ok(Box::new(Tensor {
            // Length equals capacity, so this does not reallocate.
            data: data.into_boxed_slice(),
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
        let mut total = 0.0;
        for &x in self.data.iter() {
            total += x;
        }
        total
    }
}

impl Drop for Tensor {
    fn drop(&mut self) {
        println!(
            "freeing tensor {:?} ({} elements)",
            self.shape,
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
    pub fn add(&mut self, tensor: Box<Tensor>) -> usize {
        let index = self.tensors.len();
        let shared: Arc<Tensor> = tensor.into();
        self.tensors.push(shared);
        index
    }

    /// A new shared handle to tensor `index`.
    pub fn get(&self, index: usize) -> Result<Arc<Tensor>, TensorError> {
        if index < self.tensors.len() {
            Ok(Arc::clone(&self.tensors[index]))
        } else {
            Err(TensorError::IndexOutOfRange {
                index,
                count: self.tensors.len(),
            })
        }
    }

    /// Number of tensors held.
    pub fn count(&self) -> usize {
        self.tensors.len()
    }

    /// Total size of the element buffers of all held tensors, in bytes.
    pub fn total_memory(&self) -> usize {
        let mut total = 0;
        for tensor in &self.tensors {
            total += tensor.size_bytes();
        }
        total
    }
}
