//! Sharing one mapped model across threads (reference solution).
//!
//! llama.cpp maps a model once and lets every compute thread read the
//! weights straight from the mapping: a `const float *` per thread, no
//! copies, and a convention that nobody writes and nobody unmaps while a
//! thread still reads. Rust turns that convention into types:
//!
//! * A `&[f32]` may cross into another thread because `&T` is `Send`
//!   exactly when `T` is `Sync`, and `[f32]` is `Sync`: shared reads of
//!   plain floats cannot race. `Mmap` is `Send + Sync` because it is
//!   read-only, so `Model` (which only holds one) is both too, and
//!   `Arc<Model>` can be cloned into any thread.
//! * `std::thread::scope` guarantees that every thread spawned in it is
//!   joined before it returns, so its threads may borrow `data` (which
//!   lives longer than the scope) instead of needing `'static` copies.
//! * A thread that outlives the caller (`thread::spawn`) must own what it
//!   reads: an `Arc<Model>` clone, which keeps the mapping alive until the
//!   last clone is dropped, whichever thread that happens in.

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

/// Runs `work(i, chunk)` for every chunk `i` of `data` (see
/// [`chunk_ranges`]), each on its own scoped thread, and returns the
/// results in chunk order.
///
/// The bounds are what makes this compile, and each one is needed:
/// * `F: Sync`: every thread calls `work` through a shared `&F`, and `&F`
///   is `Send` only if `F` is `Sync`. A closure that captures a `Cell` or an
///   `Rc` is not, and is rejected at compile time.
/// * `T: Send`: each result is moved from its thread back to the caller.
/// * `data` needs no `'static`: the scope joins every thread before it
///   returns, so the borrow of `data` outlives them all.
pub fn par_chunks<T, F>(data: &[f32], threads: usize, work: F) -> Result<Vec<T>, ThreadError>
where
    T: Send,
    F: Fn(usize, &[f32]) -> T + Sync,
{
    let ranges = chunk_ranges(data.len(), threads)?;
    let work = &work;
    Ok(thread::scope(|scope| {
        // Spawn them all first, then join in spawn order: the results come
        // out in chunk order whichever thread finishes first.
        let handles: Vec<_> = ranges
            .into_iter()
            .enumerate()
            .map(|(i, range)| {
                let chunk = &data[range];
                scope.spawn(move || work(i, chunk))
            })
            .collect();
        handles
            .into_iter()
            // A panic in `work` is passed on to the caller, as a panic.
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e))
            })
            .collect()
    }))
}

/// Sums the model's floats in `range` on a new, unscoped thread.
///
/// The thread may outlive the caller's handle, so it gets its own
/// `Arc<Model>`: the mapping stays alive until both are gone.
pub fn spawn_sum(model: &Arc<Model>, range: Range<usize>) -> JoinHandle<Result<f32, ThreadError>> {
    let model = Arc::clone(model);
    thread::spawn(move || {
        let floats = model.floats()?;
        let len = floats.len();
        let part = floats
            .get(range.clone())
            .ok_or(ThreadError::OutOfRange { range, len })?;
        Ok(part.iter().sum())
        // `model` (this thread's clone) is dropped here, before `join`
        // returns to whoever waits for the result.
    })
}
