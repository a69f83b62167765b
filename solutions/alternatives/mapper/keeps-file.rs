//! Alternative: the mapper also owns the `File`, as a C++ class holding its descriptor would.
//!
//! Keeping the file open is not needed (a mapping holds its own reference
//! to the file), but it is harmless: the `File` is a field, so it is closed
//! exactly once, when the mapper is dropped, right after the mapping. What
//! would leak a descriptor is `mem::forget(file)`, not owning it.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use memmap2::{MmapMut, MmapOptions};

/// A read-write memory mapping of a file, unmapped when dropped.
///
/// Not `Clone`: two owners of one mapping would both unmap it.
pub struct MemoryMapper {
    // Fields are dropped in declaration order: first the mapping is
    // unmapped, then the file is closed.
    /// The mapping; its `Drop` unmaps it.
    map: MmapMut,
    /// The open file, closed when the mapper is dropped.
    _file: File,
    /// The path as given, for `path()` and the message in `drop`.
    path: PathBuf,
}

impl MemoryMapper {
    /// Creates `path` if needed, grows it to at least `size` bytes and maps
    /// its first `size` bytes read-write.
    ///
    /// Errors: `InvalidInput` for `size == 0` (before touching the file),
    /// and any I/O error from opening, resizing or mapping.
    pub fn create(path: impl AsRef<Path>, size: usize) -> io::Result<MemoryMapper> {
        match size {
            0 => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot map an empty (0-byte) region",
            )),
            _ => Self::map_file(path.as_ref(), size),
        }
    }

    /// `create` for a non-zero `size`.
    fn map_file(path: &Path, size: usize) -> io::Result<MemoryMapper> {
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        // `usize` is at most 64 bits on every target Rust supports, so this
        // conversion cannot lose anything; `set_len` rejects what no file
        // can hold.
        let wanted = size as u64;
        let current = file.metadata()?.len();
        if current < wanted {
            file.set_len(wanted)?;
        }
        // SAFETY: the file is at least `size` bytes long, we hold it open,
        // and by the type's contract nobody else truncates or modifies it
        // while it is mapped, which is what memmap2 cannot check for us.
        let map = unsafe { MmapOptions::new().len(size).map_mut(&file)? };
        Ok(MemoryMapper {
            map,
            _file: file,
            path: path.to_owned(),
        })
    }

    /// Number of mapped bytes.
    pub fn size(&self) -> usize {
        self.map.len()
    }

    /// The path this mapper was created with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The mapped bytes, read-only.
    pub fn as_slice(&self) -> &[u8] {
        &self.map[..]
    }

    /// The mapped bytes, writable; writes go straight to the file's pages.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.map[..]
    }
}

impl Drop for MemoryMapper {
    fn drop(&mut self) {
        match self.map.flush() {
            Ok(()) => {}
            Err(e) => eprintln!("warning: flushing {} failed: {e}", self.path.display()),
        }
        println!(
            "unmapped {} ({} bytes)",
            self.path.display(),
            self.map.len()
        );
        // After this body: `map` is unmapped, then `_file` is closed.
    }
}
