//! Alternative: an explicit unmap in `Drop` through `ManuallyDrop`, the closest match to a C++ destructor.
//!
//! `ManuallyDrop<MmapMut>` tells the compiler not to drop the mapping
//! automatically; `Drop` then releases it by hand, at a moment of our
//! choosing (here: after flushing, before printing). It is sound because
//! `drop` runs exactly once and nothing touches the field afterwards. The
//! reference solution gets the same effect without `unsafe`, by letting the
//! field drop itself after `drop` returns.

use std::fs::OpenOptions;
use std::io;
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};

use memmap2::{MmapMut, MmapOptions};

/// A read-write memory mapping of a file, unmapped when dropped.
///
/// Not `Clone`: two owners of one mapping would both unmap it.
pub struct MemoryMapper {
    /// The mapping, released by hand in `Drop`.
    map: ManuallyDrop<MmapMut>,
    /// Number of mapped bytes, kept so that `drop` can report it after the
    /// mapping is gone.
    size: usize,
    /// The path as given.
    path: PathBuf,
}

impl MemoryMapper {
    /// Creates `path` if needed, grows it to at least `size` bytes and maps
    /// its first `size` bytes read-write.
    ///
    /// Errors: `InvalidInput` for `size == 0` (before touching the file),
    /// and any I/O error from opening, resizing or mapping.
    pub fn create(path: impl AsRef<Path>, size: usize) -> io::Result<MemoryMapper> {
        if size == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot map an empty (0-byte) region",
            ));
        }
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let wanted = u64::try_from(size).map_err(io::Error::other)?;
        if file.metadata()?.len() < wanted {
            file.set_len(wanted)?;
        }
        // SAFETY: the file is at least `size` bytes long; by the type's
        // contract nobody else truncates or modifies it while it is mapped.
        let map = unsafe { MmapOptions::new().len(size).map_mut(&file)? };
        Ok(MemoryMapper {
            map: ManuallyDrop::new(map),
            size,
            path,
        })
    }

    /// Number of mapped bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The path this mapper was created with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The mapped bytes, read-only.
    pub fn as_slice(&self) -> &[u8] {
        &self.map
    }

    /// The mapped bytes, writable; writes go straight to the file's pages.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.map
    }
}

impl Drop for MemoryMapper {
    fn drop(&mut self) {
        if let Err(e) = self.map.flush() {
            eprintln!("warning: flushing {} failed: {e}", self.path.display());
        }
        // SAFETY: `drop` runs once, and `self.map` is not used after this
        // line (the message below uses the stored `size`), so the mapping is
        // unmapped exactly once.
        unsafe { ManuallyDrop::drop(&mut self.map) };
        println!("unmapped {} ({} bytes)", self.path.display(), self.size);
    }
}
