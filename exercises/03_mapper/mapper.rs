//! Exercise: an RAII memory mapper.
//!
//! In C++ a mapper class calls `mmap` in its constructor and `munmap` in its
//! destructor, deletes its copy constructor, and writes a move constructor
//! that steals the pointer and nulls out the source so that the moved-from
//! object's destructor does nothing.
//!
//! In Rust you only write the acquire and release parts. A move is a bitwise
//! transfer of ownership after which the old binding cannot be used at all,
//! so there is no moved-from state and `Drop` runs exactly once. Not
//! deriving `Clone` is all it takes to make the type non-copyable.
//!
//! Use the `memmap2` crate (`memmap2::MmapMut`, `memmap2::MmapOptions`) for
//! the actual mapping: this must map a real file, not a heap buffer. The
//! check enforces it: the file's bytes are never copied onto the heap (the
//! whole program may hold at most 64 KiB there at once), and nothing may be
//! left behind at exit: no heap memory, no open file, no mapping.

use std::io;
use std::path::Path;

/// A read-write memory mapping of a file, unmapped when dropped.
///
/// Deliberately not `Clone`: two owners of one mapping would both try to
/// unmap it. The check compiles small programs that must be rejected: one
/// calling `.clone()`, one keeping `as_slice()` after the mapper is dropped,
/// and one calling `as_mut_slice()` while an `as_slice()` is still in use.
pub struct MemoryMapper {
    // TODO: what must a mapper own? At least the mapping itself, and
    // whatever `Drop` needs to print its message.
}

impl MemoryMapper {
    /// Creates `path` if needed, grows it to at least `size` bytes and maps
    /// its first `size` bytes read-write.
    ///
    /// A file that is already larger than `size` keeps its length and every
    /// byte: only its first `size` bytes are mapped, and `size()` is `size`.
    /// The file may be mapped elsewhere at the same time (the driver maps
    /// one file twice): shrinking it would pull pages out from under that
    /// other mapping. The mapping is shared, not a private copy: a write is
    /// seen by every other mapping of the file, and reaches the file itself.
    /// `size` need not be a multiple of the page size, and the file is never
    /// padded to one: `create("tiny.bin", 1)` makes a 1-byte file.
    ///
    /// Errors: `InvalidInput` for `size == 0` (an empty mapping is not
    /// portable), returned before the file is touched, so no empty file is
    /// created; and any I/O error from opening, resizing or mapping, e.g.
    /// `NotFound` when the parent directory does not exist, or the error for
    /// a `size` too large for any file (`usize::MAX`). Never a panic, and a
    /// failed call leaves an existing file unchanged.
    pub fn create(path: impl AsRef<Path>, size: usize) -> io::Result<MemoryMapper> {
        // TODO:
        // 1. Reject `size == 0` with an `io::Error` of kind `InvalidInput`
        //    and the message "cannot map an empty (0-byte) region" (the
        //    driver prints it).
        // 2. Open the file read-write, creating it if missing but without
        //    throwing away existing contents (look at `std::fs::OpenOptions`).
        // 3. If it is shorter than `size`, grow it (`File::set_len`); never
        //    shrink it. Its length comes from its metadata, not from
        //    reading it.
        // 4. Map exactly `size` bytes with memmap2. Mapping is `unsafe`:
        //    write a `// SAFETY:` comment saying what you are promising.
        //    (Your first `unsafe`: a function marked `unsafe fn` can only be
        //    called inside an `unsafe { ... }` block, which is you telling
        //    the compiler "I checked the rules in this function's `# Safety`
        //    docs". Here the rule is about the file: read `map_mut`'s docs.
        //    The block can hold just the call: `let m = unsafe { ... }?;`.)
        // 5. The `File` is not needed once the mapping exists: let it close.
        // Use `?` so that every failure becomes the returned `io::Error`.
        let _ = (path, size); // (delete this line: it only silences a warning)
        todo!("map the file")
    }

    /// Number of mapped bytes.
    pub fn size(&self) -> usize {
        todo!()
    }

    /// The path this mapper was created with, exactly as given.
    pub fn path(&self) -> &Path {
        todo!()
    }

    /// The mapped bytes, read-only: `size()` bytes, borrowed from the mapper
    /// (the slice cannot outlive it).
    pub fn as_slice(&self) -> &[u8] {
        todo!()
    }

    /// The mapped bytes, writable; writes go straight to the file's pages.
    /// Takes `&mut self`, so no other slice of this mapper can be alive.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        todo!()
    }
}

impl Drop for MemoryMapper {
    fn drop(&mut self) {
        // TODO: flush the mapping (report, don't panic, if that fails), then
        // print exactly one line: `unmapped <path> (<size> bytes)`.
        // Do you need to call anything to unmap? What happens to the fields
        // after this function returns? (Dropping a field yourself here
        // would drop it twice.)
        todo!()
    }
}
