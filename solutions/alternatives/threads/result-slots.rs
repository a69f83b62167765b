//! Alternative: each scoped worker writes its result into its own slot of
//! a pre-allocated `Vec<Option<T>>` (disjoint `&mut` borrows are `Send`),
//! so nothing is joined by hand: the scope joins them all.

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
        let file = File::open(path).map_err(ThreadError::Io)?;
        // SAFETY: the mapping is read-only, and nothing in this program
        // writes or truncates the file while it is mapped. (Another process
        // could: that is the caveat of every file mapping, in C++ too.)
        let map = unsafe { Mmap::map(&file) }.map_err(ThreadError::Io)?;
        // The mapping stays valid after the file is closed: `file` is
        // dropped (and its descriptor closed) when this function returns.
        Ok(Arc::new(Model { map }))
    }

    /// The mapped bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.map
    }

    /// The mapped bytes as floats, in place: borrowed from the mapping,
    /// never copied.
    pub fn floats(&self) -> Result<&[f32], ThreadError> {
        // SAFETY: any 4 bytes are a valid f32, and `align_to` only returns
        // aligned, whole floats in the middle. A mapping starts on a page
        // boundary, so the head is always empty.
        let (head, floats, tail) = unsafe { self.map.align_to::<f32>() };
        if head.is_empty() && tail.is_empty() {
            Ok(floats)
        } else {
            Err(ThreadError::Ragged {
                len: self.map.len(),
            })
        }
    }
}

/// Splits `0..len` into `threads` contiguous ranges, in order, covering
/// every index exactly once. Their lengths differ by at most one: the first
/// `len % threads` ranges get one more.
pub fn chunk_ranges(len: usize, threads: usize) -> Result<Vec<Range<usize>>, ThreadError> {
    if threads == 0 {
        return Err(ThreadError::NoThreads);
    }
    if threads > len {
        return Err(ThreadError::TooManyThreads { threads, len });
    }
    let (base, extra) = (len / threads, len % threads);
    // Range `i` starts after `i` ranges of `base` plus one extra float for
    // each of them that got one: `i * base + min(i, extra)`, which is at
    // most `len`, so nothing here can overflow, even for `usize::MAX`.
    let start = |i: usize| i * base + i.min(extra);
    Ok((0..threads).map(|i| start(i)..start(i + 1)).collect())
}

/// Runs `work(i, chunk)` on one scoped thread per chunk; results in chunk
/// order.
pub fn par_chunks<T, F>(data: &[f32], threads: usize, work: F) -> Result<Vec<T>, ThreadError>
where
    T: Send,
    F: Fn(usize, &[f32]) -> T + Sync,
{
    let ranges = chunk_ranges(data.len(), threads)?;
    let mut slots: Vec<Option<T>> = (0..ranges.len()).map(|_| None).collect();
    let work = &work;
    thread::scope(|scope| {
        for ((i, range), slot) in ranges.into_iter().enumerate().zip(slots.iter_mut()) {
            let chunk = &data[range];
            scope.spawn(move || *slot = Some(work(i, chunk)));
        }
        // The scope joins every worker here (and panics if one did).
    });
    Ok(slots
        .into_iter()
        .map(|slot| slot.expect("every worker filled its slot"))
        .collect())
}

/// Sums the model's floats in `range` on a new thread that owns an `Arc`.
pub fn spawn_sum(model: &Arc<Model>, range: Range<usize>) -> JoinHandle<Result<f32, ThreadError>> {
    let model = Arc::clone(model);
    thread::spawn(move || {
        let floats = model.floats()?;
        floats
            .get(range.clone())
            .map(|part| part.iter().sum())
            .ok_or(ThreadError::OutOfRange {
                range,
                len: floats.len(),
            })
    })
}
