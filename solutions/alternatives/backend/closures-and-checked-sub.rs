//! Alternative: `byte_size` with `?` and `then_some`, the device's free
//! memory from `checked_sub`, and one `count` method taking a closure that
//! updates the `Transfers` in its `Cell`.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

/// Why a buffer could not be made, or a transfer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendError {
    /// `len` floats do not fit in one allocation (the byte size overflows or
    /// exceeds `isize::MAX`).
    TooLarge { len: usize },
    /// The device has only `free` of the `requested` bytes left.
    OutOfDeviceMemory { requested: usize, free: usize },
    /// A host slice of `got` floats for a buffer of `expected` floats.
    SizeMismatch { expected: usize, got: usize },
    /// A device buffer was read before anything was uploaded to it.
    NotUploaded,
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::TooLarge { len } => {
                write!(f, "{len} floats do not fit in one allocation")
            }
            BackendError::OutOfDeviceMemory { requested, free } => write!(
                f,
                "out of device memory: {requested} bytes requested, {free} free"
            ),
            BackendError::SizeMismatch { expected, got } => write!(
                f,
                "size mismatch: the buffer holds {expected} floats, the host slice {got}"
            ),
            BackendError::NotUploaded => {
                write!(f, "the device buffer was read before its first upload")
            }
        }
    }
}

impl std::error::Error for BackendError {}

/// The size in bytes of `len` floats, if one allocation can hold it.
fn byte_size(len: usize) -> Result<usize, BackendError> {
    let too_large = BackendError::TooLarge { len };
    let bytes = len.checked_mul(size_of::<f32>()).ok_or(too_large)?;
    (bytes <= isize::MAX as usize)
        .then_some(bytes)
        .ok_or(too_large)
}

/// Checks that a host slice of `host` floats matches a buffer of `buffer`
/// floats, before anything is copied (`copy_from_slice` would panic).
fn check_len(buffer: usize, host: usize) -> Result<(), BackendError> {
    if buffer == host {
        Ok(())
    } else {
        Err(BackendError::SizeMismatch {
            expected: buffer,
            got: host,
        })
    }
}

/// A block of floats owned by a backend.
pub trait Buffer {
    /// Name of the backend that made it.
    fn backend_name(&self) -> &'static str;
    /// Number of floats.
    fn len(&self) -> usize;
    /// Whether it holds no floats.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Copies `src` (host memory) into the buffer: `ggml_backend_tensor_set`.
    fn upload(&mut self, src: &[f32]) -> Result<(), BackendError>;
    /// Copies the buffer into `dst` (host memory): `ggml_backend_tensor_get`.
    fn download(&self, dst: &mut [f32]) -> Result<(), BackendError>;
    /// The contents as host memory: borrowed where the buffer already is
    /// host memory, a downloaded copy otherwise.
    fn read(&self) -> Result<Cow<'_, [f32]>, BackendError>;
    /// Multiplies every float by `factor`, where the data lives.
    fn scale(&mut self, factor: f32) -> Result<(), BackendError>;
}

/// A way to make buffers: the strategy the driver is written against.
pub trait Backend {
    /// Its name, as in `ggml_backend_name`.
    fn name(&self) -> &'static str;
    /// A zeroed buffer of `len` floats, owned by the caller. It may borrow
    /// the backend (`'_`), so it cannot outlive it.
    fn alloc_buffer(&self, len: usize) -> Result<Box<dyn Buffer + '_>, BackendError>;
}

/// The host: buffers are plain memory, computed on in place.
pub struct CpuBackend;

/// A CPU buffer: its floats are host memory already.
struct CpuBuffer {
    data: Box<[f32]>,
}

impl Backend for CpuBackend {
    fn name(&self) -> &'static str {
        "CPU"
    }

    fn alloc_buffer(&self, len: usize) -> Result<Box<dyn Buffer + '_>, BackendError> {
        // Check the size before `vec!`, which would panic on it.
        byte_size(len)?;
        Ok(Box::new(CpuBuffer {
            data: vec![0.0; len].into_boxed_slice(),
        }))
    }
}

impl Buffer for CpuBuffer {
    fn backend_name(&self) -> &'static str {
        "CPU"
    }

    fn len(&self) -> usize {
        self.data.len()
    }

    fn upload(&mut self, src: &[f32]) -> Result<(), BackendError> {
        check_len(self.data.len(), src.len())?;
        self.data.copy_from_slice(src);
        Ok(())
    }

    fn download(&self, dst: &mut [f32]) -> Result<(), BackendError> {
        check_len(self.data.len(), dst.len())?;
        dst.copy_from_slice(&self.data);
        Ok(())
    }

    fn read(&self) -> Result<Cow<'_, [f32]>, BackendError> {
        // Host memory can simply be lent: no copy, no allocation.
        Ok(Cow::Borrowed(&self.data))
    }

    fn scale(&mut self, factor: f32) -> Result<(), BackendError> {
        self.data.iter_mut().for_each(|x| *x *= factor);
        Ok(())
    }
}

/// Copies between host and device, counted by the device backend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Transfers {
    pub uploads: usize,
    pub upload_bytes: usize,
    pub downloads: usize,
    pub download_bytes: usize,
}

impl fmt::Display for Transfers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} uploads ({} bytes), {} downloads ({} bytes)",
            self.uploads, self.upload_bytes, self.downloads, self.download_bytes
        )
    }
}

/// A simulated accelerator with `capacity` bytes of device memory. Its
/// buffers live in memory the host may not touch directly: every byte goes
/// through `upload` or `download`, and each transfer is counted.
pub struct DeviceBackend {
    capacity: usize,
    /// Bytes held by live buffers. `Cell`: buffers update it through the
    /// shared `&DeviceBackend` they hold.
    used: Cell<usize>,
    transfers: Cell<Transfers>,
}

impl DeviceBackend {
    /// A device with `capacity` bytes of memory, all free.
    pub fn new(capacity: usize) -> DeviceBackend {
        DeviceBackend {
            capacity,
            used: Cell::new(0),
            transfers: Cell::new(Transfers::default()),
        }
    }

    /// Bytes held by live buffers.
    pub fn used_bytes(&self) -> usize {
        self.used.get()
    }

    /// The transfers so far.
    pub fn transfers(&self) -> Transfers {
        self.transfers.get()
    }

    fn count(&self, update: impl FnOnce(&mut Transfers)) {
        let mut t = self.transfers.get();
        update(&mut t);
        self.transfers.set(t);
    }
}

/// A buffer in device memory. It borrows its backend, to count transfers
/// and to give its bytes back when dropped.
struct DeviceBuffer<'a> {
    backend: &'a DeviceBackend,
    /// Stands for memory on the device (here: a separate allocation that
    /// only this buffer's methods touch).
    memory: Box<[f32]>,
    /// Real device memory is not zeroed: until the first upload its
    /// contents are undefined, so reading them is an error.
    uploaded: bool,
}

impl Backend for DeviceBackend {
    fn name(&self) -> &'static str {
        "device"
    }

    fn alloc_buffer(&self, len: usize) -> Result<Box<dyn Buffer + '_>, BackendError> {
        let bytes = byte_size(len)?;
        let free = self.capacity - self.used.get();
        let left = free
            .checked_sub(bytes)
            .ok_or(BackendError::OutOfDeviceMemory {
                requested: bytes,
                free,
            })?;
        self.used.set(self.capacity - left);
        Ok(Box::new(DeviceBuffer {
            backend: self,
            memory: vec![0.0; len].into_boxed_slice(),
            uploaded: false,
        }))
    }
}

impl DeviceBuffer<'_> {
    /// The device memory, if it holds uploaded data.
    fn contents(&self) -> Result<&[f32], BackendError> {
        if self.uploaded {
            Ok(&self.memory)
        } else {
            Err(BackendError::NotUploaded)
        }
    }
}

impl Buffer for DeviceBuffer<'_> {
    fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    fn len(&self) -> usize {
        self.memory.len()
    }

    fn upload(&mut self, src: &[f32]) -> Result<(), BackendError> {
        // Straight from the caller's slice into device memory: no staging
        // copy. A refused upload transfers nothing and is not counted.
        check_len(self.memory.len(), src.len())?;
        self.memory.copy_from_slice(src);
        self.uploaded = true;
        self.backend.count(|t| {
            t.uploads += 1;
            t.upload_bytes += size_of_val(src);
        });
        Ok(())
    }

    fn download(&self, dst: &mut [f32]) -> Result<(), BackendError> {
        let contents = self.contents()?;
        check_len(contents.len(), dst.len())?;
        dst.copy_from_slice(contents);
        self.backend.count(|t| {
            t.downloads += 1;
            t.download_bytes += size_of_val(dst);
        });
        Ok(())
    }

    fn read(&self) -> Result<Cow<'_, [f32]>, BackendError> {
        // The host cannot look at device memory: it gets its own copy, and
        // that copy is a download.
        let contents = self.contents()?;
        self.backend.count(|t| {
            t.downloads += 1;
            t.download_bytes += size_of_val(contents);
        });
        Ok(Cow::Owned(contents.to_vec()))
    }

    fn scale(&mut self, factor: f32) -> Result<(), BackendError> {
        // A kernel running on the device: no transfer at all.
        self.contents()?;
        self.memory.iter_mut().for_each(|x| *x *= factor);
        Ok(())
    }
}

impl Drop for DeviceBuffer<'_> {
    fn drop(&mut self) {
        // Give the device memory back. `memory` itself is freed by its box
        // right after this, as every field is.
        let bytes = size_of_val(&*self.memory);
        self.backend.used.set(self.backend.used.get() - bytes);
    }
}
