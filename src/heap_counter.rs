//! Heap accounting that memlings compiles into an exercise program (this
//! file is not part of the runner's own crate). It wraps the system
//! allocator, never allocates itself, and reports once, at process exit,
//! into the file named by MEMLINGS_HEAP_REPORT: a side channel that cannot
//! mix with the program's stdout.
//!
//! Only the program's own blocks are counted: the generated `main` calls
//! `start()` before the exercise's `main`, and blocks the Rust runtime made
//! before that are remembered so that freeing them later is not charged to
//! the learner. The report runs from `atexit`, after std has flushed and
//! freed its stdout buffer.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

struct Counting;

static STARTED: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static REALLOCS: AtomicUsize = AtomicUsize::new(0);
static FREES: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Addresses of blocks allocated before `start()`; the runtime makes a
/// handful. Were there more, the extras would be counted as the program's.
const SLOTS: usize = 64;
static BEFORE_START: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static USED_SLOTS: AtomicUsize = AtomicUsize::new(0);

/// Starts counting: called first thing in `main`.
pub fn start() {
    STARTED.store(true, Relaxed);
}

fn remember(ptr: *mut u8) {
    let slot = USED_SLOTS.fetch_add(1, Relaxed);
    if let Some(cell) = BEFORE_START.get(slot) {
        cell.store(ptr.addr(), Relaxed);
    }
}

/// Forgets `ptr` if it was allocated before `start()`; says whether it was.
fn forget_if_before_start(ptr: *mut u8) -> bool {
    let used = USED_SLOTS.load(Relaxed).min(SLOTS);
    BEFORE_START[..used].iter().any(|cell| {
        cell.compare_exchange(ptr.addr(), 0, Relaxed, Relaxed)
            .is_ok()
    })
}

fn allocated(ptr: *mut u8, bytes: usize) {
    if ptr.is_null() {
        return;
    }
    if !STARTED.load(Relaxed) {
        remember(ptr);
        return;
    }
    ALLOCS.fetch_add(1, Relaxed);
    grew(bytes);
}

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Relaxed).wrapping_add(bytes);
    PEAK.fetch_max(live, Relaxed);
}

/// Whether a block being freed or moved counts as the program's.
fn counts(ptr: *mut u8) -> bool {
    STARTED.load(Relaxed) && !forget_if_before_start(ptr)
}

// SAFETY: every method forwards to `System` with the caller's arguments and
// only adds relaxed atomic bookkeeping, so System's guarantees carry over.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds alloc's contract.
        let ptr = unsafe { System.alloc(layout) };
        allocated(ptr, layout.size());
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        allocated(ptr, layout.size());
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if counts(ptr) {
            FREES.fetch_add(1, Relaxed);
            LIVE.fetch_sub(layout.size(), Relaxed);
        }
        // SAFETY: as for `alloc`; `ptr` came from this allocator.
        unsafe { System.dealloc(ptr, layout) };
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let ours = counts(ptr);
        // SAFETY: as for `alloc`; `ptr` came from this allocator.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if new.is_null() {
            if !ours && STARTED.load(Relaxed) {
                // The old block survives and still belongs to the runtime.
                remember(ptr);
            }
            return new;
        }
        if !STARTED.load(Relaxed) {
            remember(new);
            return new;
        }
        REALLOCS.fetch_add(1, Relaxed);
        if ours {
            LIVE.fetch_sub(layout.size(), Relaxed);
        }
        grew(new_size);
        new
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> i32;
    fn getenv(name: *const std::ffi::c_char) -> *const std::ffi::c_char;
    fn open(path: *const std::ffi::c_char, flags: i32, mode: u32) -> i32;
    fn write(fd: i32, buf: *const u8, count: usize) -> isize;
    fn close(fd: i32) -> i32;
}

/// Registers the report before `main` runs (an ELF constructor).
#[used]
#[unsafe(link_section = ".init_array")]
static REGISTER: extern "C" fn() = register;

extern "C" fn register() {
    // SAFETY: `report` is a plain extern "C" fn with no preconditions.
    unsafe { atexit(report) };
}

/// Writes `key=value` lines without allocating.
extern "C" fn report() {
    let mut buf = [0u8; 256];
    let mut len = 0;
    for (key, value) in [
        ("allocs", &ALLOCS),
        ("reallocs", &REALLOCS),
        ("frees", &FREES),
        ("peak", &PEAK),
        ("leaked", &LIVE),
    ] {
        len = push(&mut buf, len, key.as_bytes());
        len = push(&mut buf, len, b"=");
        len = push_number(&mut buf, len, value.load(Relaxed));
        len = push(&mut buf, len, b"\n");
    }
    // SAFETY: the name is NUL-terminated; getenv returns null or a C string.
    let path = unsafe { getenv(c"MEMLINGS_HEAP_REPORT".as_ptr()) };
    if path.is_null() {
        return;
    }
    const O_WRONLY_CREAT_TRUNC: i32 = 0o1 | 0o100 | 0o1000;
    // SAFETY: `path` is a valid C string and `buf[..len]` is initialised.
    unsafe {
        let fd = open(path, O_WRONLY_CREAT_TRUNC, 0o600);
        if fd >= 0 {
            write(fd, buf.as_ptr(), len);
            close(fd);
        }
    }
}

fn push(buf: &mut [u8], len: usize, bytes: &[u8]) -> usize {
    let end = (len + bytes.len()).min(buf.len());
    buf[len..end].copy_from_slice(&bytes[..end - len]);
    end
}

fn push_number(buf: &mut [u8], len: usize, mut n: usize) -> usize {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    push(buf, len, &digits[i..])
}
