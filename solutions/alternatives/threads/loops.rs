//! Alternative: plain loops. `chunk_ranges` walks a running start, and
//! `par_chunks` pushes handles in a `for` loop and joins them in another;
//! `spawn_sum` matches on `get`.

use std::fmt;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use memmap2::Mmap;

// The floats are read in place, as native numbers: little-endian only.
const _: () = assert!(
    cfg!(target_endian = "little"),
    "zero-copy f32 views need a little-endian host"
);

/// What can go wrong.
#[derive(Debug)]
pub enum ThreadError {
    /// Opening or mapping the file failed.
    Io(io::Error),
    /// The file's `len` bytes are not a whole number of floats.
    Ragged { len: usize },
    /// Zero threads were asked for.
    NoThreads,
    /// More threads than floats: each thread gets at least one float.
    TooManyThreads { threads: usize, len: usize },
    /// A range of floats that is not inside the model's `len` floats.
    OutOfRange { range: Range<usize>, len: usize },
}

impl fmt::Display for ThreadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThreadError::Io(e) => write!(f, "cannot map the model: {e}"),
            ThreadError::Ragged { len } => {
                write!(f, "{len} bytes are not a whole number of floats")
            }
            ThreadError::NoThreads => write!(f, "zero threads cannot share any work"),
            ThreadError::TooManyThreads { threads, len } => {
                write!(f, "{threads} threads for {len} floats: some would get none")
            }
            ThreadError::OutOfRange { range, len } => {
                write!(f, "floats {range:?} are not inside the model's {len}")
            }
        }
    }
}

impl std::error::Error for ThreadError {}

/// A model file mapped read-only. Share it as `Arc<Model>`.
pub struct Model {
    map: Mmap,
}

impl Model {
    /// Maps the file at `path` read-only.
    pub fn open(path: impl AsRef<Path>) -> Result<Arc<Model>, ThreadError> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) => return Err(ThreadError::Io(e)),
        };
        // SAFETY: read-only mapping of a file this program does not modify.
        match unsafe { Mmap::map(&file) } {
            Ok(map) => Ok(Arc::new(Model { map })),
            Err(e) => Err(ThreadError::Io(e)),
        }
    }

    /// The mapped bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.map
    }

    /// The mapped bytes as floats, in place.
    pub fn floats(&self) -> Result<&[f32], ThreadError> {
        // SAFETY: any 4 bytes are a valid f32; `align_to` keeps alignment.
        let (head, floats, tail) = unsafe { self.map.align_to::<f32>() };
        match (head.len(), tail.len()) {
            (0, 0) => Ok(floats),
            _ => Err(ThreadError::Ragged {
                len: self.map.len(),
            }),
        }
    }
}

/// Splits `0..len` into `threads` near-equal contiguous ranges, in order.
pub fn chunk_ranges(len: usize, threads: usize) -> Result<Vec<Range<usize>>, ThreadError> {
    if threads == 0 {
        return Err(ThreadError::NoThreads);
    }
    if threads > len {
        return Err(ThreadError::TooManyThreads { threads, len });
    }
    let mut ranges = Vec::with_capacity(threads);
    let mut start = 0;
    for i in 0..threads {
        let size = len / threads + usize::from(i < len % threads);
        ranges.push(start..start + size); // never past `len`
        start += size;
    }
    Ok(ranges)
}

/// Runs `work(i, chunk)` on one scoped thread per chunk; results in chunk
/// order.
pub fn par_chunks<T, F>(data: &[f32], threads: usize, work: F) -> Result<Vec<T>, ThreadError>
where
    T: Send,
    F: Fn(usize, &[f32]) -> T + Sync,
{
    let ranges = chunk_ranges(data.len(), threads)?;
    let work = &work;
    let results = thread::scope(|scope| {
        let mut handles = Vec::with_capacity(ranges.len());
        for (i, range) in ranges.into_iter().enumerate() {
            let chunk = &data[range];
            handles.push(scope.spawn(move || work(i, chunk)));
        }
        let mut results = Vec::with_capacity(handles.len());
        for handle in handles {
            match handle.join() {
                Ok(result) => results.push(result),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    });
    Ok(results)
}

/// Sums the model's floats in `range` on a new thread that owns an `Arc`.
pub fn spawn_sum(model: &Arc<Model>, range: Range<usize>) -> JoinHandle<Result<f32, ThreadError>> {
    let model = Arc::clone(model);
    thread::spawn(move || {
        let floats = model.floats()?;
        match floats.get(range.clone()) {
            Some(part) => Ok(part.iter().sum()),
            None => Err(ThreadError::OutOfRange {
                range,
                len: floats.len(),
            }),
        }
    })
}
