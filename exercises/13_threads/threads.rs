//! Exercise: sharing one mapped model across threads.
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
//!
//! Rules the driver checks:
//! * The model is mapped, never read into memory: the check limits the
//!   bytes the whole program may allocate to far less than the 1 MB file,
//!   and each worker reports whether its chunk lies inside the mapping.
//! * `chunk_ranges` covers `0..len` exactly once, in order, with lengths
//!   that differ by at most one (the first `len % threads` get one more).
//!   Zero threads is `NoThreads`; more threads than floats is
//!   `TooManyThreads`. It must not overflow, even for `len = usize::MAX`.
//! * `par_chunks` returns the results in chunk order, although the driver
//!   makes the workers finish in reverse order.
//! * `spawn_sum` never panics in its thread: a range that is not inside the
//!   model (past the end, or backwards) is `OutOfRange`.
//! * When the last `Arc<Model>` is dropped, the file is unmapped (the
//!   driver asks /proc/self/maps; the check counts leaked mappings and
//!   file descriptors).
//!
//! Every `unsafe` block needs a `// SAFETY:` comment.

// Silences "never used" warnings while parts of the file are still
// `todo!()`; delete this line when you are done.
#![allow(dead_code, unused_imports, unused_variables)]

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
        // TODO: open the file, then map it read-only with `memmap2::Mmap::map`
        // (`unsafe`: say in the SAFETY comment what the program promises
        // about the file while it is mapped). Both I/O errors become
        // `ThreadError::Io`. Does the `File` have to stay open for the
        // mapping to stay valid? Then wrap the model in an `Arc`.
        // Reading the file (`fs::read`, `read_to_end`) instead of mapping it
        // copies 1 MB onto the heap: the check's byte limit catches that.
        todo!()
    }

    /// The mapped bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.map
    }

    /// The mapped bytes as floats, in place: borrowed from the mapping,
    /// never copied.
    pub fn floats(&self) -> Result<&[f32], ThreadError> {
        // TODO: as in the quant exercise, reinterpret in place with
        // `align_to::<f32>()`. A mapping starts on a page boundary, so the
        // head is empty; a file whose length is not a multiple of 4 leaves
        // a tail: `Ragged`. The result borrows `self` (the mapping), never
        // a copy.
        todo!()
    }
}

/// Splits `0..len` into `threads` contiguous ranges, in order, covering
/// every index exactly once. Their lengths differ by at most one: the first
/// `len % threads` ranges get one more.
pub fn chunk_ranges(len: usize, threads: usize) -> Result<Vec<Range<usize>>, ThreadError> {
    // TODO:
    // 1. Reject 0 threads, and more threads than floats.
    // 2. `len / threads` floats each, and `len % threads` left over: give
    //    one more to each of the first ones. A chunk size rounded up and
    //    `slice::chunks` would make too few chunks (10 floats for 6 threads
    //    is 5 chunks of 2), and `(len + threads - 1) / threads` overflows
    //    at `usize::MAX`. Where does range `i` start, in closed form?
    todo!()
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
    // TODO:
    // 1. `chunk_ranges(data.len(), threads)?`.
    // 2. `std::thread::scope(|scope| ...)`: spawn one thread per range with
    //    `scope.spawn`, each calling `work(i, &data[range])`. The closure
    //    must capture `work` by reference (`let work = &work;` first, then
    //    `move ||`): a shared `&F` is what the `Sync` bound allows.
    // 3. Keep the handles in a `Vec` and join them afterwards, in spawn
    //    order. Joining each one right after spawning it would run the
    //    chunks one at a time; collecting results as threads finish (a
    //    channel) would return them in completion order.
    // 4. `join` is `Err` only if the worker panicked: pass the panic on
    //    (`std::panic::resume_unwind`).
    // Never copy a chunk (`to_vec`): the workers read the mapping in place.
    todo!()
}

/// Sums the model's floats in `range` on a new, unscoped thread.
///
/// The thread may outlive the caller's handle, so it gets its own
/// `Arc<Model>`: the mapping stays alive until both are gone.
pub fn spawn_sum(model: &Arc<Model>, range: Range<usize>) -> JoinHandle<Result<f32, ThreadError>> {
    // TODO: `thread::spawn` needs a `'static` closure: it cannot borrow
    // `model` (the caller may drop it while the thread runs). Clone the
    // `Arc` and move the clone in. In the thread: the floats, then the
    // sum of `range`, which comes from the caller and may be anything
    // (`get`, not indexing: a panic in the thread is not an answer).
    todo!()
}
