//! Alternative: chunks cut off the front of the slice with `split_at`
//! instead of indexed by ranges, the view built with an explicit alignment
//! check and `from_raw_parts`, and the model keeping its `File` (closed
//! when the model drops, so nothing leaks).

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
    /// Not needed by the mapping, but harmless: closed with the model.
    _file: File,
}

impl Model {
    /// Maps the file at `path` read-only.
    pub fn open(path: impl AsRef<Path>) -> Result<Arc<Model>, ThreadError> {
        let file = File::open(path).map_err(ThreadError::Io)?;
        // SAFETY: read-only mapping of a file this program does not modify.
        let map = unsafe { Mmap::map(&file) }.map_err(ThreadError::Io)?;
        Ok(Arc::new(Model { map, _file: file }))
    }

    /// The mapped bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.map
    }

    /// The mapped bytes as floats, in place.
    pub fn floats(&self) -> Result<&[f32], ThreadError> {
        let bytes: &[u8] = &self.map;
        if !bytes.len().is_multiple_of(size_of::<f32>()) {
            return Err(ThreadError::Ragged { len: bytes.len() });
        }
        if bytes.is_empty() {
            return Ok(&[]);
        }
        // A mapping starts on a page boundary; checked all the same.
        assert!(bytes.as_ptr().cast::<f32>().is_aligned());
        // SAFETY: aligned (checked), exactly len / 4 whole floats, any bits
        // are a valid f32, and the view borrows `self`, which owns the map.
        Ok(unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast(), bytes.len() / 4) })
    }
}

/// Splits `0..len` into `threads` near-equal contiguous ranges, in order.
pub fn chunk_ranges(len: usize, threads: usize) -> Result<Vec<Range<usize>>, ThreadError> {
    match threads {
        0 => Err(ThreadError::NoThreads),
        t if t > len => Err(ThreadError::TooManyThreads { threads, len }),
        t => {
            let (q, r) = (len / t, len % t);
            Ok((0..t)
                .scan(0usize, |start, i| {
                    let end = *start + q + usize::from(i < r);
                    let range = *start..end;
                    *start = end;
                    Some(range)
                })
                .collect())
        }
    }
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
    Ok(thread::scope(|scope| {
        let mut rest = data;
        let mut handles = Vec::new();
        for (i, range) in ranges.iter().enumerate() {
            let (chunk, tail) = rest.split_at(range.len());
            rest = tail;
            handles.push(scope.spawn(move || work(i, chunk)));
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    }))
}

/// Sums the model's floats in `range` on a new thread that owns an `Arc`.
pub fn spawn_sum(model: &Arc<Model>, range: Range<usize>) -> JoinHandle<Result<f32, ThreadError>> {
    let model = model.clone();
    thread::spawn(move || {
        let floats = model.floats()?;
        let len = floats.len();
        if range.start > range.end || range.end > len {
            return Err(ThreadError::OutOfRange { range, len });
        }
        Ok(floats[range].iter().sum())
    })
}
