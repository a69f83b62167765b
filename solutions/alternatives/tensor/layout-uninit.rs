//! Alternative: `Layout::array` checks the byte size, and the data is written
//! into `Box::new_uninit_slice` (sound unsafe: every element is initialised
//! before `assume_init`).

use std::alloc::Layout;
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
            Self::TooLarge { shape } => {
                write!(f, "shape {shape:?} has too many elements to fit in memory")
            }
            Self::IndexOutOfRange { index, count } => write!(
                f,
                "tensor index {index} out of range (manager holds {count})"
            ),
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
        let too_large = || TensorError::TooLarge {
            shape: shape.to_vec(),
        };
        let count = shape
            .iter()
            .try_fold(1usize, |acc, &dim| acc.checked_mul(dim))
            .ok_or_else(too_large)?;
        // `Layout::array` fails exactly when `count * 4` overflows or
        // exceeds `isize::MAX`: the rule every allocation must follow.
        Layout::array::<f32>(count).map_err(|_| too_large())?;
        let mut data = Box::<[f32]>::new_uninit_slice(count);
        for (i, slot) in data.iter_mut().enumerate() {
            slot.write((i + 1) as f32);
        }
        // SAFETY: the loop above wrote every one of the `count` elements.
        let data = unsafe { data.assume_init() };
        Ok(Box::new(Tensor {
            data,
            shape: shape.into(),
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
        size_of_val::<[f32]>(&self.data)
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
        self.data.iter().fold(0.0, |acc, &x| acc + x)
    }
}

impl Drop for Tensor {
    fn drop(&mut self) {
        println!(
            "freeing tensor {:?} ({} elements)",
            self.shape,
            self.num_elements()
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
        self.tensors.push(Arc::from(tensor));
        self.tensors.len() - 1
    }

    /// A new shared handle to tensor `index`.
    pub fn get(&self, index: usize) -> Result<Arc<Tensor>, TensorError> {
        match self.tensors.get(index) {
            Some(tensor) => Ok(Arc::clone(tensor)),
            None => Err(TensorError::IndexOutOfRange {
                index,
                count: self.count(),
            }),
        }
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
