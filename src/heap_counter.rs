//! Resource accounting that memlings links into an exercise program: the
//! `memlings_counter` library of the harness (this file is not part of the
//! runner's own crate; the harness compiles it once, outside the linted
//! workspace). It never allocates through the global allocator, and
//! it talks to the runner only through a pipe the runner passed in, never
//! through stdout.
//!
//! - **Heap.** A counting global allocator around the system allocator. Every
//!   live block is recorded with its `Layout` in a fixed-size table, so a
//!   `dealloc` or `realloc` with a different layout, or of a pointer never
//!   allocated, is caught (and reported at once: the program may crash right
//!   after). Blocks the Rust runtime made before `start()` are recorded but
//!   not charged to the program.
//! - **Memory mappings.** `mmap`, `mmap64`, `munmap` and `mremap` are defined
//!   here and forward to the raw system calls, so the mappings the program
//!   creates after `start()` (memmap2, std) are tracked until unmapped.
//! - **File descriptors.** The descriptors open at `start()` are remembered
//!   with their device and inode; any other one open at exit is a leak.
//!
//! The generated `main` calls `start()` before the exercise's `main`, and
//! references [`KEEP`] so the linker keeps the constructor and the hooks,
//! which nothing else names. An ELF
//! constructor reads the report channel before `main` runs: the descriptor
//! to write to and a nonce, read from a second descriptor that is then
//! closed. Every line of the report carries the nonce; the figures are
//! written from `atexit`, after std has flushed and freed its stdout buffer.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ffi::{CStr, c_char, c_int, c_long, c_void};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicUsize};

/// Names the channel: `REPORT_FD,NONCE_FD`. Read by the constructor, then removed.
const CHANNEL_ENV: &CStr = c"MEMLINGS_HEAP_REPORT";
/// Hex digits in the nonce that authenticates every report line.
const NONCE_LEN: usize = 32;
/// Layout violations written in full; later ones are only counted.
const VIOLATION_LINES: usize = 4;

// ---------------------------------------------------------------------------
// The C library, declared here: exercise programs may have no dependencies.

unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> c_int;
    fn getenv(name: *const c_char) -> *const c_char;
    fn unsetenv(name: *const c_char) -> c_int;
    fn getpid() -> c_int;
    fn open(path: *const c_char, flags: c_int, ...) -> c_int;
    fn read(fd: c_int, buf: *mut u8, count: usize) -> isize;
    fn write(fd: c_int, buf: *const u8, count: usize) -> isize;
    fn close(fd: c_int) -> c_int;
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    fn fstat(fd: c_int, buf: *mut u64) -> c_int;
    fn readlink(path: *const c_char, buf: *mut u8, size: usize) -> isize;
    fn getrlimit(resource: c_int, limits: *mut u64) -> c_int;
    fn sysconf(name: c_int) -> c_long;
    fn syscall(number: c_long, ...) -> c_long;
}

const O_RDONLY: c_int = 0;
const O_DIRECTORY: c_int = 0o200000;
const O_CLOEXEC: c_int = 0o2000000;
const F_SETFD: c_int = 2;
const FD_CLOEXEC: c_int = 1;
const RLIMIT_NOFILE: c_int = 7;
const SC_PAGESIZE: c_int = 30;
const MREMAP_DONTUNMAP: c_int = 4;
const MAP_FAILED: usize = usize::MAX;

/// System call numbers, which differ between architectures.
#[cfg(target_arch = "x86_64")]
mod nr {
    pub const MMAP: std::ffi::c_long = 9;
    pub const MUNMAP: std::ffi::c_long = 11;
    pub const MREMAP: std::ffi::c_long = 25;
    pub const GETDENTS64: std::ffi::c_long = 217;
}
#[cfg(target_arch = "aarch64")]
mod nr {
    pub const MMAP: std::ffi::c_long = 222;
    pub const MUNMAP: std::ffi::c_long = 215;
    pub const MREMAP: std::ffi::c_long = 216;
    pub const GETDENTS64: std::ffi::c_long = 61;
}

// ---------------------------------------------------------------------------
// State.

/// Whether `start()` ran: blocks and mappings from then on are the program's.
static STARTED: AtomicBool = AtomicBool::new(false);
/// Whether `start()` was called at all (it acts once).
static START_CALLED: AtomicBool = AtomicBool::new(false);
/// Where the report goes, or -1 when there is no channel.
static REPORT_FD: AtomicI32 = AtomicI32::new(-1);
/// The process that owns the report; a forked child stays silent.
static OWNER: AtomicI32 = AtomicI32::new(0);
static NONCE: [AtomicU8; NONCE_LEN] = [const { AtomicU8::new(0) }; NONCE_LEN];
/// Layout violations written so far.
static VIOLATIONS_SENT: AtomicUsize = AtomicUsize::new(0);
static PAGE: AtomicUsize = AtomicUsize::new(4096);

static HEAP: Locked<Heap> = Locked::new(Heap::new());
static MAPS: Locked<Maps> = Locked::new(Maps::new());
static FDS_AT_START: Locked<Fds> = Locked::new(Fds::new());

/// A value behind a spin lock, which needs no allocation. The closures
/// run under it never allocate, block or panic.
struct Locked<T> {
    busy: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: `with` hands the value to one thread at a time.
unsafe impl<T: Send> Sync for Locked<T> {}

impl<T> Locked<T> {
    const fn new(value: T) -> Self {
        Locked {
            busy: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut spins = 0u32;
        while self
            .busy
            .compare_exchange_weak(false, true, Acquire, Relaxed)
            .is_err()
        {
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(64) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        // SAFETY: holding `busy` gives this thread the only access until
        // the store below releases it.
        let result = f(unsafe { &mut *self.value.get() });
        self.busy.store(false, Release);
        result
    }
}

// ---------------------------------------------------------------------------
// The heap: a table of live blocks, and the figures.

const BLOCK_SLOTS: usize = 1 << 16;
const BLOCK_MASK: usize = BLOCK_SLOTS - 1;
/// Past this many live blocks the table counts as full and checking stops,
/// rather than probing a crowded table or raising false alarms.
const BLOCK_LIMIT: usize = BLOCK_SLOTS / 4 * 3;
/// Distinct allocation sizes tallied; the last slot gathers all others.
const SIZE_SLOTS: usize = 32;
/// Distinct sizes of leaked blocks reported; the last gathers the others.
const LEAK_SLOTS: usize = 8;

/// A live block. All zeros marks an empty slot, so the table starts out
/// in zeroed memory (.bss) rather than in the program file.
#[derive(Clone, Copy)]
struct Block {
    addr: usize,
    size: usize,
    align: usize,
    /// Allocated after `start()`, so the program's own.
    charged: bool,
}

const EMPTY_BLOCK: Block = Block {
    addr: 0,
    size: 0,
    align: 0,
    charged: false,
};

impl Block {
    fn new(addr: usize, layout: Layout, charged: bool) -> Self {
        Block {
            addr,
            size: layout.size(),
            align: layout.align(),
            charged,
        }
    }

    fn layout(&self) -> Layout {
        // SAFETY: size and align were taken from a valid `Layout` in `new`.
        unsafe { Layout::from_size_align_unchecked(self.size, self.align) }
    }
}

/// How many blocks of one size the program made, and the bytes they took.
/// Size 0 stands for all sizes that found no slot.
#[derive(Clone, Copy)]
struct SizeCount {
    size: usize,
    count: usize,
    bytes: usize,
}

const NO_SIZE: SizeCount = SizeCount {
    size: 0,
    count: 0,
    bytes: 0,
};

fn tally(slots: &mut [SizeCount], size: usize, bytes: usize) {
    let last = slots.len() - 1;
    let i = slots[..last]
        .iter()
        .position(|s| s.count == 0 || s.size == size)
        .unwrap_or(last);
    let slot = &mut slots[i];
    slot.size = if i == last { 0 } else { size };
    slot.count += 1;
    slot.bytes = slot.bytes.saturating_add(bytes);
}

struct Heap {
    blocks: [Block; BLOCK_SLOTS],
    len: usize,
    /// The table filled up: pointers it does not know are no longer
    /// foreign for sure, so they are let through.
    full: bool,
    allocs: usize,
    reallocs: usize,
    frees: usize,
    live: usize,
    peak: usize,
    /// Bytes allocated since `start()`: allocation sizes plus realloc growth.
    allocated: usize,
    violations: usize,
    sizes: [SizeCount; SIZE_SLOTS],
}

/// What a free or move of a block found.
struct Taken {
    /// The layout to hand to the system allocator: the recorded one, or
    /// `None` to refuse a pointer this allocator never gave out.
    layout: Option<Layout>,
    charged: bool,
    violation: Option<Violation>,
}

impl Heap {
    const fn new() -> Self {
        Heap {
            blocks: [EMPTY_BLOCK; BLOCK_SLOTS],
            len: 0,
            full: false,
            allocs: 0,
            reallocs: 0,
            frees: 0,
            live: 0,
            peak: 0,
            allocated: 0,
            violations: 0,
            sizes: [NO_SIZE; SIZE_SLOTS],
        }
    }

    fn home(addr: usize) -> usize {
        ((addr as u64 >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as usize & BLOCK_MASK
    }

    /// The slot holding `addr`. Linear probing ends at an empty slot, and
    /// the table is never allowed to fill, so the loop ends.
    fn find(&self, addr: usize) -> Option<usize> {
        let mut i = Self::home(addr);
        loop {
            match self.blocks[i].addr {
                a if a == addr => return Some(i),
                0 => return None,
                _ => i = (i + 1) & BLOCK_MASK,
            }
        }
    }

    fn insert(&mut self, block: Block) {
        if self.full {
            return;
        }
        if self.len >= BLOCK_LIMIT {
            self.full = true;
            return;
        }
        let mut i = Self::home(block.addr);
        loop {
            match self.blocks[i].addr {
                0 => {
                    self.len += 1;
                    break;
                }
                // Freed behind our back (by C's `free`) and handed out again.
                a if a == block.addr => break,
                _ => i = (i + 1) & BLOCK_MASK,
            }
        }
        self.blocks[i] = block;
    }

    /// Removes `addr`, shifting later entries of its probe run back so no
    /// tombstones accumulate.
    fn remove(&mut self, addr: usize) -> Option<Block> {
        let mut hole = self.find(addr)?;
        let removed = self.blocks[hole];
        let mut i = hole;
        loop {
            i = (i + 1) & BLOCK_MASK;
            let block = self.blocks[i];
            if block.addr == 0 {
                break;
            }
            let from_home = i.wrapping_sub(Self::home(block.addr)) & BLOCK_MASK;
            if from_home >= i.wrapping_sub(hole) & BLOCK_MASK {
                self.blocks[hole] = block;
                hole = i;
            }
        }
        self.blocks[hole] = EMPTY_BLOCK;
        self.len -= 1;
        Some(removed)
    }

    fn charge(&mut self, size: usize, bytes: usize) {
        self.live = self.live.saturating_add(size);
        self.peak = self.peak.max(self.live);
        self.allocated = self.allocated.saturating_add(bytes);
        tally(&mut self.sizes, size, bytes);
    }

    fn allocated(&mut self, addr: usize, layout: Layout) {
        let charged = STARTED.load(Relaxed);
        self.insert(Block::new(addr, layout, charged));
        if charged {
            self.allocs += 1;
            self.charge(layout.size(), layout.size());
        }
    }

    /// Takes `addr` out of the table before the system allocator frees or
    /// moves it (so no other thread can be handed the address meanwhile),
    /// checking the caller's layout against the recorded one.
    fn take(&mut self, addr: usize, layout: Layout, op: Op) -> Taken {
        let taken = match self.remove(addr) {
            Some(block) => Taken {
                layout: Some(block.layout()),
                charged: block.charged,
                violation: (block.layout() != layout).then_some(Violation {
                    op,
                    given: layout,
                    recorded: Some(block.layout()),
                }),
            },
            // Not recorded because the table was full: trust the caller.
            None if self.full => Taken {
                layout: Some(layout),
                charged: STARTED.load(Relaxed),
                violation: None,
            },
            None => Taken {
                layout: None,
                charged: false,
                violation: Some(Violation {
                    op,
                    given: layout,
                    recorded: None,
                }),
            },
        };
        self.violations += usize::from(taken.violation.is_some());
        taken
    }

    fn deallocating(&mut self, addr: usize, layout: Layout) -> Taken {
        let taken = self.take(addr, layout, Op::Dealloc);
        if let (Some(layout), true) = (taken.layout, taken.charged) {
            self.frees += 1;
            self.live = self.live.saturating_sub(layout.size());
        }
        taken
    }

    /// Records the outcome of a system `realloc` of a taken block.
    fn reallocated(&mut self, old: usize, taken: &Taken, new: usize, new_size: usize) {
        let Some(layout) = taken.layout else { return };
        if new == 0 {
            // The old block is still there, and still as it was.
            self.insert(Block::new(old, layout, taken.charged));
            return;
        }
        let charged = STARTED.load(Relaxed);
        self.insert(Block {
            addr: new,
            size: new_size,
            align: layout.align(),
            charged,
        });
        if charged {
            let old_size = if taken.charged { layout.size() } else { 0 };
            self.reallocs += 1;
            self.live = self.live.saturating_sub(old_size);
            self.charge(new_size, new_size.saturating_sub(old_size));
        }
    }

    /// Sizes of the program's blocks still live.
    fn leaked_sizes(&self) -> [SizeCount; LEAK_SLOTS] {
        let mut sizes = [NO_SIZE; LEAK_SLOTS];
        for block in self.blocks.iter().filter(|b| b.addr != 0 && b.charged) {
            tally(&mut sizes, block.size, block.size);
        }
        sizes
    }
}

// ---------------------------------------------------------------------------
// Layout violations.

#[derive(Clone, Copy)]
enum Op {
    Dealloc,
    Realloc,
}

/// A free or move whose layout is not the allocation's, or of a pointer
/// never allocated (`recorded` is `None`).
#[derive(Clone, Copy)]
struct Violation {
    op: Op,
    given: Layout,
    recorded: Option<Layout>,
}

impl Violation {
    /// Writes the violation to the runner at once, since undefined
    /// behaviour may end the program before `atexit`.
    fn send(&self) {
        if VIOLATIONS_SENT.fetch_add(1, Relaxed) >= VIOLATION_LINES {
            return;
        }
        let op = match self.op {
            Op::Dealloc => "dealloc",
            Op::Realloc => "realloc",
        };
        let mut out = Out::<256>::new();
        match self.recorded {
            Some(recorded) => out
                .line("layout")
                .word(op)
                .layout(self.given)
                .layout(recorded),
            None => out.line("foreign").word(op).layout(self.given),
        };
        out.send();
    }
}

// ---------------------------------------------------------------------------
// The allocator.

struct Counting;

// SAFETY: every method forwards to `System`, with the layout the block was
// really allocated with; the bookkeeping never allocates. A pointer this
// allocator never gave out is not forwarded at all.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds alloc's contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            HEAP.with(|heap| heap.allocated(ptr.addr(), layout));
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            HEAP.with(|heap| heap.allocated(ptr.addr(), layout));
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let taken = HEAP.with(|heap| heap.deallocating(ptr.addr(), layout));
        if let Some(violation) = taken.violation {
            violation.send();
        }
        if let Some(layout) = taken.layout {
            // SAFETY: `ptr` is a live block of this allocator and `layout`
            // the one it was allocated with.
            unsafe { System.dealloc(ptr, layout) };
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let taken = HEAP.with(|heap| heap.take(ptr.addr(), layout, Op::Realloc));
        if let Some(violation) = taken.violation {
            violation.send();
        }
        let Some(recorded) = taken.layout else {
            // Never allocated here: the system allocator would abort.
            return std::ptr::null_mut();
        };
        // SAFETY: `ptr` is a live block allocated with `recorded`; the
        // caller upholds the contract for `new_size`.
        let new = unsafe { System.realloc(ptr, recorded, new_size) };
        HEAP.with(|heap| heap.reallocated(ptr.addr(), &taken, new.addr(), new_size));
        new
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

// ---------------------------------------------------------------------------
// Memory mappings: the program's calls land here instead of in the C library.

const MAP_SLOTS: usize = 256;

#[derive(Clone, Copy)]
struct Region {
    start: usize,
    /// 0 marks an empty slot.
    end: usize,
}

const NO_REGION: Region = Region { start: 0, end: 0 };

/// The program's live mappings, as page ranges.
struct Maps {
    regions: [Region; MAP_SLOTS],
    /// More mappings than slots: the count is no longer known.
    overflow: bool,
}

impl Maps {
    const fn new() -> Self {
        Maps {
            regions: [NO_REGION; MAP_SLOTS],
            overflow: false,
        }
    }

    fn add(&mut self, start: usize, end: usize) {
        match self.regions.iter_mut().find(|r| r.end == 0) {
            Some(slot) => *slot = Region { start, end },
            None => self.overflow = true,
        }
    }

    fn mapped(&mut self, start: usize, len: usize) {
        let end = start.saturating_add(page_round(len));
        self.unmapped(start, len);
        self.add(start, end);
    }

    /// Forgets `[start, start+len)`, splitting regions it cuts through.
    /// Returns whether any tracked region overlapped it.
    fn unmapped(&mut self, start: usize, len: usize) -> bool {
        let end = start.saturating_add(page_round(len));
        let mut hit = false;
        for i in 0..MAP_SLOTS {
            let region = self.regions[i];
            if region.end == 0 || region.end <= start || region.start >= end {
                continue;
            }
            hit = true;
            self.regions[i] = NO_REGION;
            if region.start < start {
                self.add(region.start, start);
            }
            if end < region.end {
                self.add(end, region.end);
            }
        }
        hit
    }

    /// Live mappings and the lengths of the first few; `None` after overflow.
    fn live(&self) -> Option<(usize, [usize; 4])> {
        if self.overflow {
            return None;
        }
        let mut lengths = [0; 4];
        let mut count = 0;
        for region in self.regions.iter().filter(|r| r.end != 0) {
            if let Some(slot) = lengths.get_mut(count) {
                *slot = region.end - region.start;
            }
            count += 1;
        }
        Some((count, lengths))
    }
}

fn page_round(len: usize) -> usize {
    let page = PAGE.load(Relaxed);
    len.div_ceil(page).saturating_mul(page)
}

/// `mmap64`, as memmap2 and std call it.
///
/// # Safety
/// As for the C function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap64(
    addr: *mut c_void,
    len: usize,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    offset: i64,
) -> *mut c_void {
    // SAFETY: the raw system call, with the caller's arguments unchanged.
    let result = unsafe {
        syscall(
            nr::MMAP,
            addr as c_long,
            len as c_long,
            c_long::from(prot),
            c_long::from(flags),
            c_long::from(fd),
            offset as c_long,
        )
    };
    let ptr = result as usize;
    if ptr != MAP_FAILED && STARTED.load(Relaxed) {
        MAPS.with(|maps| maps.mapped(ptr, len));
    }
    result as *mut c_void
}

/// `mmap`: the same call on 64-bit Linux.
///
/// # Safety
/// As for the C function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mmap(
    addr: *mut c_void,
    len: usize,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    offset: i64,
) -> *mut c_void {
    // SAFETY: the same contract.
    unsafe { mmap64(addr, len, prot, flags, fd, offset) }
}

/// `munmap`.
///
/// # Safety
/// As for the C function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn munmap(addr: *mut c_void, len: usize) -> c_int {
    // SAFETY: the raw system call, with the caller's arguments unchanged.
    let result = unsafe { syscall(nr::MUNMAP, addr as c_long, len as c_long) };
    if result == 0 {
        MAPS.with(|maps| maps.unmapped(addr.addr(), len));
    }
    result as c_int
}

/// `mremap`. C declares it variadic, with an optional fifth argument; on
/// the x86-64 and AArch64 Linux calling conventions a variadic pointer
/// travels in the same register as a fixed one, so this fixed signature
/// reads it, and the kernel only looks at it under `MREMAP_FIXED`.
///
/// # Safety
/// As for the C function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mremap(
    old: *mut c_void,
    old_len: usize,
    new_len: usize,
    flags: c_int,
    new_addr: *mut c_void,
) -> *mut c_void {
    // SAFETY: the raw system call, with the caller's arguments unchanged.
    let result = unsafe {
        syscall(
            nr::MREMAP,
            old as c_long,
            old_len as c_long,
            new_len as c_long,
            c_long::from(flags),
            new_addr as c_long,
        )
    };
    if result as usize != MAP_FAILED {
        MAPS.with(|maps| {
            // Only the program's own mappings move with it.
            if maps.unmapped(old.addr(), old_len) {
                if flags & MREMAP_DONTUNMAP != 0 {
                    maps.mapped(old.addr(), old_len);
                }
                maps.mapped(result as usize, new_len);
            }
        });
    }
    result as *mut c_void
}

// ---------------------------------------------------------------------------
// File descriptors.

const FD_SLOTS: usize = 64;
/// Leaked descriptors whose targets are reported.
const FD_NAMES: usize = 4;

/// An open descriptor, and what it refers to (device and inode), so that
/// a number closed and reused for something else is noticed.
#[derive(Clone, Copy, PartialEq, Eq)]
struct OpenFd {
    fd: c_int,
    dev: u64,
    ino: u64,
}

struct Fds {
    open: [OpenFd; FD_SLOTS],
    len: usize,
    /// All of them fit: otherwise descriptors are not judged.
    complete: bool,
}

impl Fds {
    const fn new() -> Self {
        Fds {
            open: [OpenFd {
                fd: -1,
                dev: 0,
                ino: 0,
            }; FD_SLOTS],
            len: 0,
            complete: false,
        }
    }

    fn contains(&self, fd: &OpenFd) -> bool {
        self.open[..self.len].contains(fd)
    }
}

/// What `fd` refers to.
fn identify(fd: c_int) -> Option<OpenFd> {
    // Larger than `struct stat` on every Linux target; device and inode
    // are its first two 64-bit fields on x86-64 and AArch64 alike.
    let mut stat = [0u64; 32];
    // SAFETY: `stat` is writable and larger than the kernel's structure.
    (unsafe { fstat(fd, stat.as_mut_ptr()) } == 0).then_some(OpenFd {
        fd,
        dev: stat[0],
        ino: stat[1],
    })
}

/// Calls `each` with every open descriptor (but the one it reads
/// `/proc/self/fd` through); `false` if that directory cannot be read.
fn for_each_fd(mut each: impl FnMut(c_int)) -> bool {
    // SAFETY: a NUL-terminated path and plain flags.
    let dir = unsafe { open(c"/proc/self/fd".as_ptr(), O_RDONLY | O_DIRECTORY | O_CLOEXEC) };
    if dir < 0 {
        return false;
    }
    let mut buf = [0u8; 2048];
    loop {
        // SAFETY: `buf` is writable for its length.
        let n = unsafe {
            syscall(
                nr::GETDENTS64,
                c_long::from(dir),
                buf.as_mut_ptr() as c_long,
                buf.len() as c_long,
            )
        };
        let Ok(n) = usize::try_from(n) else { break };
        if n == 0 {
            break;
        }
        // Each record: inode (8), offset (8), length (2), type (1), name.
        let mut at = 0;
        while let Some(record) = buf[..n].get(at..) {
            let Some(&[lo, hi]) = record.get(16..18) else {
                break;
            };
            let len = usize::from(u16::from_ne_bytes([lo, hi]));
            if len == 0 {
                break;
            }
            match record.get(19..len).and_then(parse_fd) {
                Some(fd) if fd != dir => each(fd),
                _ => {}
            }
            at += len;
        }
    }
    // SAFETY: `dir` was opened above.
    unsafe { close(dir) };
    true
}

/// A descriptor number from a NUL-terminated directory entry name.
fn parse_fd(name: &[u8]) -> Option<c_int> {
    let digits = name.split(|&b| b == 0).next()?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0 as c_int, |n, &d| {
        n.checked_mul(10)?.checked_add(c_int::from(d - b'0'))
    })
}

fn remember_open_fds() {
    FDS_AT_START.with(|fds| {
        let mut complete = true;
        let listed = for_each_fd(|fd| match (identify(fd), fds.open.get_mut(fds.len)) {
            (Some(open), Some(slot)) => {
                *slot = open;
                fds.len += 1;
            }
            (Some(_), None) => complete = false,
            (None, _) => {}
        });
        fds.complete = complete && listed;
    });
}

/// Descriptors opened since `start()` and still open, and the first few of
/// them; `None` if they cannot be judged. Descriptors at or above the soft
/// limit are valgrind's, not the program's.
fn leaked_fds() -> Option<(usize, [c_int; FD_NAMES])> {
    let report = REPORT_FD.load(Relaxed);
    let mut limits = [0u64; 2];
    // SAFETY: `limits` holds the two-word `struct rlimit`.
    let ceiling = match unsafe { getrlimit(RLIMIT_NOFILE, limits.as_mut_ptr()) } {
        0 => limits[0],
        _ => u64::MAX,
    };
    FDS_AT_START.with(|fds| {
        if !fds.complete {
            return None;
        }
        let mut count = 0;
        let mut first = [-1; FD_NAMES];
        let listed = for_each_fd(|fd| {
            if fd == report || u64::try_from(fd).map_or(true, |n| n >= ceiling) {
                return;
            }
            if identify(fd).is_some_and(|open| !fds.contains(&open)) {
                if let Some(slot) = first.get_mut(count) {
                    *slot = fd;
                }
                count += 1;
            }
        });
        listed.then_some((count, first))
    })
}

// ---------------------------------------------------------------------------
// The report channel.

/// Starts counting: called first thing in `main`. Acts once.
pub fn start() {
    if START_CALLED.swap(true, Relaxed) {
        return;
    }
    remember_open_fds();
    STARTED.store(true, Relaxed);
}

/// Reads the channel before `main` runs (an ELF constructor), so nothing
/// the program does to its environment can redirect the report.
#[used]
#[unsafe(link_section = ".init_array")]
static REGISTER: extern "C" fn() = register;

/// What a program references so that the linker keeps this crate's
/// constructor and call hooks: nothing names them, and an unnamed part of
/// a library may be left out.
pub struct Keep {
    pub register: &'static extern "C" fn(),
    pub mmap64: MmapFn,
    pub mmap: MmapFn,
    pub munmap: unsafe extern "C" fn(*mut c_void, usize) -> c_int,
    pub mremap: unsafe extern "C" fn(*mut c_void, usize, usize, c_int, *mut c_void) -> *mut c_void,
}

/// The type of `mmap` and `mmap64`.
pub type MmapFn = unsafe extern "C" fn(*mut c_void, usize, c_int, c_int, c_int, i64) -> *mut c_void;

/// See [`Keep`].
pub static KEEP: Keep = Keep {
    register: &REGISTER,
    mmap64,
    mmap,
    munmap,
    mremap,
};

extern "C" fn register() {
    // SAFETY: plain queries without preconditions.
    let (pid, page) = unsafe { (getpid(), sysconf(SC_PAGESIZE)) };
    OWNER.store(pid, Relaxed);
    if let Ok(page) = usize::try_from(page)
        && page.is_power_of_two()
    {
        PAGE.store(page, Relaxed);
    }
    let Some((report_fd, nonce_fd)) = channel_from_env() else {
        return;
    };
    // SAFETY: before `main`, no other thread can be reading the
    // environment; the name is NUL-terminated.
    unsafe { unsetenv(CHANNEL_ENV.as_ptr()) };
    let nonce_read = read_nonce(nonce_fd);
    // SAFETY: the runner passed `nonce_fd` for this process to read once.
    unsafe { close(nonce_fd) };
    if !nonce_read {
        // Unauthenticated reports would be rejected: stay silent.
        return;
    }
    // SAFETY: marks a descriptor the runner passed; children the program
    // spawns do not inherit it.
    unsafe { fcntl(report_fd, F_SETFD, FD_CLOEXEC) };
    REPORT_FD.store(report_fd, Relaxed);
    // SAFETY: `report` is a plain extern "C" fn with no preconditions.
    unsafe { atexit(report) };
}

/// `REPORT_FD,NONCE_FD` from the environment.
fn channel_from_env() -> Option<(c_int, c_int)> {
    // SAFETY: the name is NUL-terminated; getenv returns null or a C string.
    let value = unsafe { getenv(CHANNEL_ENV.as_ptr()) };
    if value.is_null() {
        return None;
    }
    // SAFETY: non-null, so a NUL-terminated string owned by the environment.
    let value = unsafe { CStr::from_ptr(value) }.to_bytes();
    let mut parts = value.split(|&b| b == b',');
    let report = parts.next().and_then(parse_fd)?;
    let nonce = parts.next().and_then(parse_fd)?;
    (report > 2 && nonce > 2 && report != nonce && parts.next().is_none())
        .then_some((report, nonce))
}

/// Reads the nonce: exactly `NONCE_LEN` hex digits, then end of file.
fn read_nonce(fd: c_int) -> bool {
    let mut buf = [0u8; NONCE_LEN + 1];
    let mut len = 0;
    while len < buf.len() {
        // SAFETY: the rest of `buf` is writable.
        let n = unsafe { read(fd, buf[len..].as_mut_ptr(), buf.len() - len) };
        match usize::try_from(n) {
            Ok(0) | Err(_) => break,
            Ok(n) => len += n,
        }
    }
    if len != NONCE_LEN || !buf[..len].iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    for (cell, &byte) in NONCE.iter().zip(&buf[..len]) {
        cell.store(byte, Relaxed);
    }
    true
}

/// Writes the figures, from `atexit`.
extern "C" fn report() {
    // SAFETY: a plain query.
    if unsafe { getpid() } != OWNER.load(Relaxed) {
        return; // a forked child exiting: the report is its parent's
    }
    let mut out = Out::<8192>::new();
    HEAP.with(|heap| {
        for (key, value) in [
            ("allocs", heap.allocs),
            ("reallocs", heap.reallocs),
            ("frees", heap.frees),
            ("peak", heap.peak),
            ("leaked", heap.live),
            ("allocated", heap.allocated),
            ("violations", heap.violations),
        ] {
            out.line(key).number(value);
        }
        for s in heap.sizes.iter().filter(|s| s.count > 0) {
            out.line("size").number(s.size).number(s.count).number(s.bytes);
        }
        for s in heap.leaked_sizes().iter().filter(|s| s.count > 0) {
            out.line("leak").number(s.size).number(s.count);
        }
    });
    if let Some((count, first)) = leaked_fds() {
        out.line("fds").number(count);
        for &fd in first.iter().filter(|&&fd| fd >= 0) {
            out.line("fd").number(fd as usize).target(fd);
        }
    }
    if let Some((count, lengths)) = MAPS.with(|maps| maps.live()) {
        out.line("mappings").number(count);
        for &len in lengths.iter().take(count) {
            out.line("mapping").number(len);
        }
    }
    out.line("end");
    out.send();
}

/// A report being written into a fixed buffer: lines of words, each line
/// starting with the nonce.
struct Out<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Out<N> {
    fn new() -> Self {
        Out {
            buf: [0; N],
            len: 0,
        }
    }

    /// Past the capacity bytes are dropped; the runner then rejects the
    /// report as malformed rather than trusting a cut one.
    fn push(&mut self, bytes: &[u8]) -> &mut Self {
        let end = (self.len + bytes.len()).min(N);
        self.buf[self.len..end].copy_from_slice(&bytes[..end - self.len]);
        self.len = end;
        self
    }

    /// Ends the previous line, if any, and starts one with `key`.
    fn line(&mut self, key: &str) -> &mut Self {
        if self.len > 0 {
            self.push(b"\n");
        }
        let mut nonce = [0u8; NONCE_LEN];
        for (byte, cell) in nonce.iter_mut().zip(&NONCE) {
            *byte = cell.load(Relaxed);
        }
        self.push(&nonce).word(key)
    }

    fn word(&mut self, word: &str) -> &mut Self {
        self.push(b" ").push(word.as_bytes())
    }

    fn number(&mut self, n: usize) -> &mut Self {
        self.push(b" ").digits(n)
    }

    fn digits(&mut self, mut n: usize) -> &mut Self {
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
        self.push(&digits[i..])
    }

    /// ` size align`
    fn layout(&mut self, layout: Layout) -> &mut Self {
        self.number(layout.size()).number(layout.align())
    }

    /// What descriptor `fd` refers to (`/proc/self/fd/N`), printable and
    /// cut short.
    fn target(&mut self, fd: c_int) -> &mut Self {
        let mut path = Out::<32>::new();
        path.push(b"/proc/self/fd/").digits(fd as usize).push(b"\0");
        let mut target = [0u8; 120];
        // SAFETY: `path` is NUL-terminated, `target` writable for its length.
        let n = unsafe { readlink(path.buf.as_ptr().cast(), target.as_mut_ptr(), target.len()) };
        let target = &mut target[..usize::try_from(n).unwrap_or(0)];
        for byte in target.iter_mut() {
            if byte.is_ascii_control() {
                *byte = b'?';
            }
        }
        self.push(b" ").push(target)
    }

    /// Writes the lines to the report channel, if there is one.
    fn send(&mut self) {
        let fd = REPORT_FD.load(Relaxed);
        if fd < 0 {
            return;
        }
        self.push(b"\n");
        let mut at = 0;
        while at < self.len {
            // SAFETY: `buf[at..len]` is initialised.
            let n = unsafe { write(fd, self.buf[at..].as_ptr(), self.len - at) };
            match usize::try_from(n) {
                Ok(n) if n > 0 => at += n,
                _ => return,
            }
        }
    }
}
